/**
 * One error class for everything jwks-bridge refuses, with a stable `code`.
 *
 * Messages never contain a token, a signature, a key or a secret: they say what rule failed.
 * Details that are safe to show go in properties (`claim`, `reason`).
 */
export type ErrorCode =
  // options handed to a factory
  | 'ERR_INVALID_OPTIONS'
  // token shape and encoding
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_TOO_LONG'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_BASE64URL_INVALID'
  | 'ERR_UTF8_INVALID'
  | 'ERR_JSON_INVALID'
  | 'ERR_JSON_DUPLICATE_MEMBER'
  // protected header
  | 'ERR_HEADER_INVALID'
  | 'ERR_ALG_NOT_ALLOWED'
  | 'ERR_CRIT_INVALID'
  | 'ERR_CRIT_UNSUPPORTED'
  | 'ERR_TYP_MISMATCH'
  // keys
  | 'ERR_KEY_INVALID'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_KEY_UNUSABLE'
  | 'ERR_KEY_AMBIGUOUS'
  | 'ERR_KEYSET_INVALID'
  // remote key sets and discovery
  | 'ERR_JWKS_FETCH_FAILED'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_JWKS_STALE'
  | 'ERR_DISCOVERY_FAILED'
  // signature
  | 'ERR_SIGNATURE_INVALID'
  // claims
  | 'ERR_CLAIMS_INVALID'
  | 'ERR_CLAIM_MISSING'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_ISSUED_IN_FUTURE'
  | 'ERR_JWT_TOO_OLD'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_ISSUER_UNKNOWN'
  | 'ERR_AUDIENCE_MISMATCH'
  // stores (identities, sessions): the database or Redis cannot be reached or refused the operation
  | 'ERR_STORE_UNAVAILABLE'
  // the bridge: handoff, sessions, request guard
  | 'ERR_CROSS_SITE_REQUEST'
  | 'ERR_CSRF_TOKEN_INVALID'
  | 'ERR_INSECURE_TRANSPORT'
  | 'ERR_TOKEN_REPLAYED'
  | 'ERR_BODY_INVALID'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_MIDDLEWARE_ORDER'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_PROFILE_MISMATCH'
  | 'ERR_UNAUTHENTICATED'
  // the resource server: access tokens for APIs (RFC 6750, RFC 9068, RFC 9449)
  | 'ERR_REQUEST_INVALID'
  | 'ERR_TOKEN_MISSING'
  | 'ERR_AUTH_SCHEME_UNSUPPORTED'
  | 'ERR_ACCESS_TOKEN_INVALID'
  | 'ERR_SCOPE_INSUFFICIENT'
  | 'ERR_TOKEN_BOUND'
  | 'ERR_DPOP_REQUIRED'
  | 'ERR_DPOP_PROOF_INVALID'
  | 'ERR_DPOP_PROOF_REPLAYED'
  | 'ERR_DPOP_BINDING_MISMATCH'
  | 'ERR_DPOP_NONCE_REQUIRED'

export interface ErrorDetails {
  /** The claim or header member concerned, when there is one (never its value). */
  claim?: string
  /** A short, safe explanation of which rule failed. */
  reason?: string
  cause?: unknown
}

export class JwksBridgeError extends Error {
  override name = 'JwksBridgeError'
  readonly code: ErrorCode
  readonly claim: string | undefined
  readonly reason: string | undefined

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.claim = details.claim
    this.reason = details.reason
  }
}

/** Narrowing helper: `isJwksBridgeError(e, 'ERR_JWT_EXPIRED')`. */
export function isJwksBridgeError(value: unknown, code?: ErrorCode): value is JwksBridgeError {
  return value instanceof JwksBridgeError && (code === undefined || value.code === code)
}

export function invalidOptions(message: string): JwksBridgeError {
  return new JwksBridgeError('ERR_INVALID_OPTIONS', message)
}
