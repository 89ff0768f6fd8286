/**
 * The one place where error codes become HTTP statuses and JSON error bodies. Adapters use
 * `errorResponse` too, so every route answers the same way.
 */
import { type ErrorCode, isJwksBridgeError } from '../errors.js'
import type { BridgeResponse } from './types.js'

/**
 * Statuses by code. Exhaustive by construction (`Record<ErrorCode, number>`): a new code that is not
 * listed here fails the type check, instead of silently becoming 500 on the wire. Only a string that
 * is not an ErrorCode at all (statusForCode is public) falls back to 500.
 */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  // a mistake in the server's own options or calls: ours, not the client's
  ERR_INVALID_OPTIONS: 500,
  // The app mounted a body parser before the bridge: the app's mistake, not the client's.
  ERR_MIDDLEWARE_ORDER: 500,
  // request guard: the request is understood and refused
  ERR_CROSS_SITE_REQUEST: 403,
  ERR_CSRF_TOKEN_INVALID: 403,
  ERR_INSECURE_TRANSPORT: 403,
  // body
  ERR_BODY_INVALID: 400,
  ERR_BODY_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  // the token does not prove who the caller is
  ERR_TOKEN_TYPE: 401,
  ERR_TOKEN_TOO_LONG: 401,
  ERR_TOKEN_MALFORMED: 401,
  ERR_BASE64URL_INVALID: 401,
  ERR_UTF8_INVALID: 401,
  ERR_JSON_INVALID: 401,
  ERR_JSON_DUPLICATE_MEMBER: 401,
  ERR_HEADER_INVALID: 401,
  ERR_ALG_NOT_ALLOWED: 401,
  ERR_CRIT_INVALID: 401,
  ERR_CRIT_UNSUPPORTED: 401,
  ERR_TYP_MISMATCH: 401,
  ERR_KEY_INVALID: 401,
  ERR_KEY_NOT_FOUND: 401,
  ERR_KEY_UNUSABLE: 401,
  ERR_KEY_AMBIGUOUS: 401,
  ERR_SIGNATURE_INVALID: 401,
  ERR_CLAIMS_INVALID: 401,
  ERR_CLAIM_MISSING: 401,
  ERR_JWT_EXPIRED: 401,
  ERR_JWT_NOT_YET_VALID: 401,
  ERR_JWT_ISSUED_IN_FUTURE: 401,
  ERR_JWT_TOO_OLD: 401,
  ERR_ISSUER_MISMATCH: 401,
  ERR_ISSUER_UNKNOWN: 401,
  ERR_AUDIENCE_MISMATCH: 401,
  ERR_PROFILE_MISMATCH: 401,
  ERR_TOKEN_REPLAYED: 401,
  ERR_UNAUTHENTICATED: 401,
  // the resource server (RFC 6750 §3.1, RFC 9449 §7.1): a malformed request is 400, a token or proof
  // that proves nothing is 401, a good token without the scope the route needs is 403
  ERR_REQUEST_INVALID: 400,
  ERR_TOKEN_MISSING: 401,
  ERR_AUTH_SCHEME_UNSUPPORTED: 401,
  ERR_ACCESS_TOKEN_INVALID: 401,
  ERR_TOKEN_BOUND: 401,
  ERR_DPOP_REQUIRED: 401,
  ERR_DPOP_PROOF_INVALID: 401,
  ERR_DPOP_PROOF_REPLAYED: 401,
  ERR_DPOP_BINDING_MISMATCH: 401,
  ERR_DPOP_NONCE_REQUIRED: 401,
  ERR_SCOPE_INSUFFICIENT: 403,
  // we cannot answer now; the client may retry (RFC 9110 §15.6.4)
  ERR_KEYSET_INVALID: 503,
  ERR_JWKS_FETCH_FAILED: 503,
  ERR_JWKS_UNAVAILABLE: 503,
  ERR_JWKS_STALE: 503,
  ERR_DISCOVERY_FAILED: 503,
  ERR_STORE_UNAVAILABLE: 503,
})

/** The HTTP status for an error code; 500 for a string that is not one of jwks-bridge's codes. */
export function statusForCode(code: string): number {
  return Object.hasOwn(STATUS_BY_CODE, code) ? STATUS_BY_CODE[code as ErrorCode] : 500
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.8: a refused logout token is 400 (an OAuth 2.0 error
 * body), and only a failure on our side that the provider may retry stays 503. Derived from STATUS_BY_CODE,
 * so that both answers agree on which codes are "we cannot answer now".
 */
export function logoutStatusForCode(code: ErrorCode): 400 | 503 {
  return STATUS_BY_CODE[code] === 503 ? 503 : 400
}

/** Headers every bridge response carries: they concern one browser's session, never cacheable. */
export function baseHeaders(): Record<string, string> {
  return { 'cache-control': 'no-store' }
}

/**
 * The response for a refused request: `{ error: { code, message, claim? } }`. Messages of JwksBridgeError
 * never hold a token or secret; for 5xx only the code is given (the cause is the server's business).
 */
export function errorResponse(
  error: unknown,
  extraHeaders: Record<string, string> = {},
): BridgeResponse | undefined {
  if (!isJwksBridgeError(error)) return undefined
  const status = statusForCode(error.code)
  const detail: Record<string, string> = { code: error.code }
  if (status < 500) {
    detail.message = error.message
    if (error.claim !== undefined) detail.claim = error.claim
  }
  const headers = { ...baseHeaders(), ...extraHeaders }
  if (status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"'
  return { status, headers, cookies: [], body: { error: detail } }
}
