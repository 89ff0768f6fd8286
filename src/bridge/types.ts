/**
 * The bridge's plain-data contracts: what an adapter hands in, what it gets back, and the token
 * profile interface. Nothing here knows a web framework.
 */
import type { VerifiedJwt } from '../jose/verify-jwt.js'
import type { Identity, SessionRecord } from '../stores/types.js'
import type { PolicyOptions } from '../verifier/options.js'

/** An HTTP request as the bridge sees it. Adapters build it from their framework's request. */
export interface BridgeRequest {
  /** Upper-case HTTP method. */
  method: string
  /** The request target's path; a query string, if any, is ignored. */
  path: string
  /** Header names in lower case; repeated headers joined with `, ` (`cookie` with `; `). */
  headers: Record<string, string | undefined>
  /** The raw body, unparsed. Adapters must not parse it: the bridge checks type and size itself. */
  body?: string | Uint8Array
  /** True when the connection to the adapter is TLS. A proxy's `X-Forwarded-Proto` counts only with `trustProxy`. */
  secure: boolean
  /**
   * True when the connection's peer is this machine (a loopback address), as the adapter saw the
   * socket. Only such a request may get a session over plain http (development), and only without
   * `trustProxy`. Never derived from a header. Absent: false.
   */
  loopback?: boolean | undefined
  /** The framework's id for this request, if it has one: the bridge's log records carry it as `requestId`. */
  requestId?: string | undefined
}

/** What the adapter sends back. */
export interface BridgeResponse {
  status: number
  headers: Record<string, string>
  /** `Set-Cookie` values, one per cookie. */
  cookies: string[]
  /** A JSON value to send as `application/json`; undefined for an empty body. */
  body?: unknown
}

/** What a token profile learns from a verified token. */
export interface ProfileResult {
  /** The subject the local identity is keyed on (with the issuer). */
  subject: string
  /** The provider's session id (`sid`, SuperTokens' `sessionHandle`), kept for back-channel logout. */
  providerSessionId: string | null
}

/**
 * A kind of token accepted for sign-in. Many providers sign several kinds of token with the same keys
 * (SuperTokens: session access tokens, OAuth tokens, `createJWT` tokens); a profile states which kind
 * is a sign-in token, so that no other kind passes for one (RFC 8725 §3.11, token confusion).
 */
export interface TokenProfile {
  name: string
  /** Verifier policy the profile needs (e.g. `typ`, `algorithms`, `requiredClaims`). */
  verifierOptions?: Partial<PolicyOptions>
  /** Checks a verified token; throws a JwksBridgeError `ERR_PROFILE_MISMATCH` when it is not of this kind. */
  check(result: VerifiedJwt): ProfileResult
}

/** A session as handed to the app: the stored record without the secret's hash. */
export type BridgeSession = Omit<SessionRecord, 'secretHash'>

/** The signed-in identity of a request and its session. */
export interface Authenticated {
  identity: Identity
  session: BridgeSession
}

/**
 * A structured logger; pino's and Fastify's loggers fit as they are. The bridge never passes it a
 * token, a session token or a secret: only event names, error codes, ids and counts.
 */
export interface BridgeLogger {
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/**
 * The logger for one request: its records carry the request's id, passed as plain data rather than
 * through AsyncLocalStorage, whose promise hooks would tax every promise of the process.
 */
export function requestLogger(
  logger: BridgeLogger | undefined,
  req: BridgeRequest,
): BridgeLogger | undefined {
  const requestId = req.requestId
  if (logger === undefined || requestId === undefined) return logger
  return {
    info: (fields, message) => logger.info({ ...fields, requestId }, message),
    warn: (fields, message) => logger.warn({ ...fields, requestId }, message),
    error: (fields, message) => logger.error({ ...fields, requestId }, message),
  }
}
