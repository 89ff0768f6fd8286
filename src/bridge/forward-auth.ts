/**
 * Forward authentication: `GET <authPath>/check` answers whether the request's session is valid, for
 * a proxy in front of a backend in any language (nginx `auth_request`, Caddy `forward_auth`, Traefik
 * `forwardAuth`). 200 with the identity in headers, or 401; never a body, so that nothing of ours is
 * shown to the user as a page. It answers from the session store alone (no token is verified, nothing
 * is written but the session's idle touch): it runs on every proxied request.
 */
import { isJwksBridgeError } from '../errors.js'
import type { Identity } from '../stores/types.js'
import type { ForwardAuthConfig } from './forward-auth-options.js'
import { claimHeaderValue, encodeHeaderValue } from './header-value.js'
import type { Authenticated, BridgeLogger, BridgeRequest, BridgeResponse } from './types.js'

/** The identity as headers (lower-case names), every value safe to put in a header. */
export function identityHeaders(identity: Identity, names: ForwardAuthConfig): Record<string, string> {
  const headers: Record<string, string> = {
    [names.subjectHeader]: encodeHeaderValue(identity.subject),
    [names.issuerHeader]: encodeHeaderValue(identity.issuer),
    [names.identityIdHeader]: encodeHeaderValue(identity.id),
  }
  for (const [claim, header] of names.claimHeaders) {
    const value = claimHeaderValue(identity.claims[claim])
    if (value !== undefined) headers[header] = value
  }
  return headers
}

export interface OriginalRequest {
  method: string | undefined
  /** Path and query of the request the proxy is asking about. */
  uri: string | undefined
}

/**
 * The request the proxy asks about, from `X-Original-Method` / `X-Original-URI` (nginx, by our
 * example's configuration) or `X-Forwarded-Method` / `X-Forwarded-Uri` (Caddy, Traefik). Read only
 * behind a trusted proxy: anyone else could write them, and they would then choose where a browser
 * is sent after signing in.
 */
export function originalRequest(req: BridgeRequest, trustProxy: boolean): OriginalRequest {
  if (!trustProxy) return { method: undefined, uri: undefined }
  const method = req.headers['x-original-method'] ?? req.headers['x-forwarded-method']
  const uri = req.headers['x-original-uri'] ?? req.headers['x-forwarded-uri']
  return {
    method: method !== undefined && /^[A-Z]{1,16}$/.test(method) ? method : undefined,
    uri: uri !== undefined && isSafeReturnPath(uri) ? uri : undefined,
  }
}

/**
 * A path on this origin that is safe to come back to: one leading slash (`//host` is another origin
 * to a browser), no backslash (browsers read `/\host` as `//host`), no control characters, bounded.
 */
export function isSafeReturnPath(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return value.length <= 2048 && /^\/(?![/\\])[^\\\u0000-\u0020\u007f]*$/.test(value)
}

/** A browser navigation (a page load), as opposed to an API client or a script's fetch. */
export function isBrowserNavigation(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  method: string | undefined,
): boolean {
  if (method !== undefined && method !== 'GET' && method !== 'HEAD') return false
  const mode = headers['sec-fetch-mode']
  if (mode !== undefined) return mode === 'navigate'
  const accept = headers.accept
  return typeof accept === 'string' && /\btext\/html\b/.test(accept)
}

/** Where a browser without a session signs in, coming back to `returnTo` afterwards. */
export function signInLocation(signInPath: string, returnTo: string | undefined): string {
  if (returnTo === undefined || returnTo === '/') return signInPath
  return `${signInPath}?${new URLSearchParams({ return_to: returnTo })}`
}

const NO_STORE = { 'cache-control': 'no-store', vary: 'Cookie' }

export interface CheckDeps {
  forwardAuth: ForwardAuthConfig
  trustProxy: boolean
  authenticate(req: BridgeRequest): Promise<Authenticated | null>
  logger: BridgeLogger | undefined
}

/** Answers `GET <authPath>/check`. */
export async function forwardAuthCheck(deps: CheckDeps, req: BridgeRequest): Promise<BridgeResponse> {
  let auth: Authenticated | null
  try {
    auth = await deps.authenticate(req)
  } catch (error) {
    // A store that cannot answer: 503 with no body (nginx turns it into a 500, Caddy and Traefik pass
    // it on). Never a 200: failing open would let everyone through.
    if (!isJwksBridgeError(error)) throw error
    deps.logger?.error({ event: 'bridge.check.failed', code: error.code }, 'forward-auth check failed')
    return { status: 503, headers: { ...NO_STORE }, cookies: [] }
  }
  if (auth !== null) {
    return {
      status: 200,
      headers: { ...NO_STORE, ...identityHeaders(auth.identity, deps.forwardAuth) },
      cookies: [],
    }
  }
  const headers: Record<string, string> = { ...NO_STORE }
  const { signInPath } = deps.forwardAuth
  if (signInPath !== undefined) {
    const original = originalRequest(req, deps.trustProxy)
    if (isBrowserNavigation(req.headers, original.method))
      headers.location = signInLocation(signInPath, original.uri)
  }
  return { status: 401, headers, cookies: [] }
}
