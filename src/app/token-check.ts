/**
 * `GET /auth/check` with an access token (API_RESOURCE): a request that carries `Authorization`
 * (Bearer or DPoP) is answered by the resource server instead of the session store, so that an API
 * client behind nginx `auth_request` or Caddy `forward_auth` is let through on its token alone.
 *
 * It lives in the app, above both: the bridge's check knows sessions and nothing of the resource
 * server (ARCHITECTURE.md: the bridge and the resource server sit side by side, neither imports the
 * other). The cookie path is untouched: a request without `Authorization` never gets here.
 *
 * Identity headers from a token: the subject (`sub`) and issuer (`iss`) headers, and the configured
 * claim headers from the token's claims. No identity id: a token is not a local identity (nothing is
 * looked up or created for it), so that header is left out, and a backend tells a token from a
 * session by its absence.
 */
import { originalRequest } from '../bridge/forward-auth.js'
import {
  type ForwardAuthConfig,
  type ForwardAuthOptions,
  resolveForwardAuth,
} from '../bridge/forward-auth-options.js'
import { claimHeaderValue, encodeHeaderValue } from '../bridge/header-value.js'
import type { BridgeRequest } from '../bridge/types.js'
import { isJwksBridgeError, JwksBridgeError } from '../errors.js'
import type { RequestHeaders } from '../resource-server/authorization-header.js'
import type { ResourceServer } from '../resource-server/resource-server.js'

export interface TokenCheckDeps {
  api: ResourceServer
  names: ForwardAuthConfig
  /** TRUST_PROXY: only then are X-Original-* / X-Forwarded-Method/-Uri the original request's. */
  trustProxy: boolean
  /** The origin clients address (PUBLIC_URL): with the original path, the DPoP proof's `htu`. */
  origin: string
}

/** What the check answers: a status and headers, never a body. */
export interface TokenCheckAnswer {
  status: number
  headers: Record<string, string>
}

/**
 * The identity header names as the bridge resolves them (createBridge checked them already): the
 * claims named are taken as the snapshot, which only createBridge needs to hold them to.
 */
export function checkHeaderNames(options: ForwardAuthOptions | undefined): ForwardAuthConfig {
  const claims = Object.keys(options?.claimHeaders ?? {})
  return resolveForwardAuth(options, [...claims, 'email', 'name'])
}

const NO_STORE = { 'cache-control': 'no-store', vary: 'Authorization, DPoP' }

function refuseDpop(message: string): JwksBridgeError {
  return new JwksBridgeError('ERR_DPOP_PROOF_INVALID', message, {
    claim: 'htu',
    reason: 'original request unknown',
  })
}

/**
 * Answers the check for a request with an `Authorization` header. `credentials` are its
 * `Authorization` and `DPoP` header lines, each kept apart (RFC 6750 §2.1: a repeated header is
 * refused, and Node keeps only the first `Authorization` in joined headers).
 */
export async function tokenCheck(
  deps: TokenCheckDeps,
  req: BridgeRequest,
  credentials: RequestHeaders,
): Promise<TokenCheckAnswer> {
  const original = originalRequest(req, deps.trustProxy)
  const first = credentials.authorization
  const line = Array.isArray(first) ? first[0] : first
  const dpop = typeof line === 'string' && /^\s*dpop(?:\s|$)/i.test(line)
  try {
    if (dpop) {
      // RFC 9449 §4.3 (checks 9 and 10): the proof names the method and URL of the request it was made
      // for, which the client sent to the proxy, not to this check. Only a trusted proxy's headers say
      // what they were; taken from anyone else, a client could name whatever URL a captured proof was
      // made for (its htm/htu binding would then be worth nothing), and without them the check's own
      // URL would never match: so DPoP is refused here with the reason, rather than with a mismatch.
      if (!deps.trustProxy) {
        throw refuseDpop(
          'DPoP at the forward-auth check needs TRUST_PROXY=true: the proof is made for the original request, whose method and URL only a trusted proxy can tell (X-Original-Method and X-Original-URI)',
        )
      }
      if (original.method === undefined || original.uri === undefined) {
        throw refuseDpop(
          'DPoP at the forward-auth check needs the original method and URL: the proxy must send X-Original-Method and X-Original-URI (or X-Forwarded-Method and X-Forwarded-Uri)',
        )
      }
    }
    const auth = await deps.api.authenticate({
      method: original.method ?? 'GET',
      // A Bearer token needs only the query (an access_token there is refused, RFC 6750 §2.3).
      url: `${deps.origin}${original.uri ?? req.path}`,
      headers: credentials,
    })
    const { sub, iss } = auth.payload
    // A 200 must say who: a token without a subject (a profile that does not require one) is refused.
    if (typeof sub !== 'string' || sub.length === 0) {
      throw new JwksBridgeError(
        'ERR_CLAIM_MISSING',
        'the access token has no "sub": the check has no subject to send',
        {
          claim: 'sub',
        },
      )
    }
    const headers: Record<string, string> = {
      ...NO_STORE,
      [deps.names.subjectHeader]: encodeHeaderValue(sub),
    }
    if (typeof iss === 'string') headers[deps.names.issuerHeader] = encodeHeaderValue(iss)
    for (const [claim, header] of deps.names.claimHeaders) {
      const value = claimHeaderValue(auth.payload[claim])
      if (value !== undefined) headers[header] = value
    }
    if (auth.dpopNonce !== undefined) headers['dpop-nonce'] = auth.dpopNonce
    return { status: 200, headers }
  } catch (error) {
    if (!isJwksBridgeError(error)) throw error
    // RFC 6750 §3, RFC 9449 §7.1: the resource server's own challenge (401, 400 or 403; 503 when the
    // key set cannot be had: never a 200).
    const answer = deps.api.challenge(error)
    return { status: answer.status, headers: { ...answer.headers, ...NO_STORE } }
  }
}

/**
 * Whether the check answers this request from its access token: the check's path, GET or HEAD, and
 * an `Authorization` header. Cheap, for a hook that runs on every request.
 */
export function isTokenCheck(
  method: string,
  target: string,
  checkPath: string,
  authorization: unknown,
): boolean {
  if (authorization === undefined || (method !== 'GET' && method !== 'HEAD')) return false
  const query = target.indexOf('?')
  return (query === -1 ? target : target.slice(0, query)) === checkPath
}
