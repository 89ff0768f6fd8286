/**
 * What makes a verified JWT an access token for this API (RFC 9068), on top of the verifier's checks
 * (signature, algorithm, `iss`, `exp`, and, by profile, `typ` and `aud`). Plain data in and out.
 */
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import { normalizeTyp } from '../jose/header.js'
import type { VerifiedJwt } from '../jose/verify-jwt.js'

/**
 * - `rfc9068` (default): RFC 9068 JWT access tokens: `typ: at+jwt`, `aud` = the resource, and the claims
 *   of RFC 9068 §2.2 (`iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`). Auth0 (the "RFC 9068"
 *   token profile), oidc-provider, Okta, Curity.
 * - `generic`: any JWT access token with `aud` = the resource and `exp`: Auth0's default profile,
 *   Keycloak. ID-token-shaped tokens are still refused (`nonce`, `at_hash`, `c_hash`, `typ: ID`).
 * - `cognito`: Amazon Cognito access tokens (`token_use: access`, `client_id`), which carry no `aud`:
 *   the resource is named by the token's scopes, `<resource>/<scope>` (Cognito's resource servers).
 */
export type AccessTokenProfile = 'rfc9068' | 'generic' | 'cognito'

export const ACCESS_TOKEN_PROFILES: readonly AccessTokenProfile[] = ['rfc9068', 'generic', 'cognito']

/** What the verifier itself checks for a profile. */
export function verifierRulesFor(profile: AccessTokenProfile): {
  typ: string | undefined
  requiredClaims: readonly string[]
  /** Whether the verifier checks `aud` against the resource (Cognito tokens have none). */
  audience: boolean
} {
  if (profile === 'rfc9068') {
    // RFC 9068 §4: the resource server MUST verify that typ is at+jwt (or application/at+jwt).
    return { typ: 'at+jwt', requiredClaims: ['sub', 'client_id', 'iat', 'jti'], audience: true }
  }
  if (profile === 'cognito')
    return { typ: undefined, requiredClaims: ['client_id', 'token_use'], audience: false }
  return { typ: undefined, requiredClaims: [], audience: true }
}

function notAnAccessToken(reason: string, claim: string): JwksBridgeError {
  return new JwksBridgeError(
    'ERR_ACCESS_TOKEN_INVALID',
    `the token is not an access token for this API: ${reason}`,
    {
      claim,
      reason,
    },
  )
}

// Types of JWTs an issuer signs with the same keys that are never access tokens (RFC 8725 §2.8, §3.11).
const OTHER_TYPES = new Set(['logout+jwt', 'secevent+jwt', 'dpop+jwt', 'id_token+jwt', 'jwt-bearer+jwt'])
// Claims only an ID token has (OpenID Connect Core 1.0 §2, §3.1.3.6, §3.3.2.11).
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash'] as const

/**
 * RFC 9068 §4 and RFC 8725 §2.8: an ID token, logout token or DPoP proof is refused even under the
 * `generic` and `cognito` profiles, where `typ` is not required. An ID token's `aud` is a client id;
 * an API whose resource equals that id would otherwise take a sign-in token as an access token.
 */
export function checkAccessToken(result: VerifiedJwt, profile: AccessTokenProfile, resource: string): void {
  const { header, payload } = result
  if (typeof header.typ === 'string' && OTHER_TYPES.has(normalizeTyp(header.typ))) {
    throw notAnAccessToken(`a "${normalizeTyp(header.typ)}" token is not an access token`, 'typ')
  }
  for (const claim of ID_TOKEN_CLAIMS) {
    if (Object.hasOwn(payload, claim)) throw notAnAccessToken(`"${claim}" is a claim of ID tokens`, claim)
  }
  if (Object.hasOwn(payload, 'events'))
    throw notAnAccessToken('a token with "events" is a security event token', 'events')
  // Keycloak marks its tokens in the claims set: "typ": "Bearer" for access tokens, "ID" for ID tokens.
  if (typeof payload.typ === 'string' && payload.typ.toLowerCase() === 'id') {
    throw notAnAccessToken('the claims set says "typ": "ID"', 'typ')
  }
  const clientId = payload.client_id
  // RFC 9068 §2.2: client_id is a string (RFC 8693 §4.3).
  if (clientId !== undefined && typeof clientId !== 'string')
    throw notAnAccessToken('"client_id" is not a string', 'client_id')
  if (profile === 'cognito') checkCognito(payload, resource)
}

/**
 * Cognito: `token_use` is "access" (an ID token says "id"). Without `aud`, the token is for this API
 * when it carries one of this resource server's scopes, which Cognito names `<identifier>/<scope>`.
 */
function checkCognito(payload: JwtPayload, resource: string): void {
  if (payload.token_use !== 'access') throw notAnAccessToken('"token_use" is not "access"', 'token_use')
  const aud = payload.aud
  if (aud !== undefined) {
    const list = typeof aud === 'string' ? [aud] : aud
    if (!list.includes(resource)) {
      throw new JwksBridgeError('ERR_AUDIENCE_MISMATCH', 'the token is not meant for this audience', {
        claim: 'aud',
      })
    }
    return
  }
  const prefix = `${resource}/`
  if (!scopesOf(payload).some((scope) => scope.startsWith(prefix) && scope.length > prefix.length)) {
    throw new JwksBridgeError('ERR_AUDIENCE_MISMATCH', 'the token has no scope of this resource server', {
      claim: 'scope',
    })
  }
}

/**
 * The token's scopes: `scope`, a space-separated string (RFC 9068 §2.2.3, RFC 8693 §4.2), or, when it
 * is absent, `scp` (an array of strings, as Okta writes it, or a space-separated string, as Entra ID).
 */
export function scopesOf(payload: JwtPayload): string[] {
  const value = payload.scope ?? payload.scp
  if (value === undefined) return []
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope.length > 0)
  if (Array.isArray(value) && value.every((scope) => typeof scope === 'string')) return value as string[]
  throw notAnAccessToken(
    '"scope" is not a space-separated string',
    payload.scope === undefined ? 'scp' : 'scope',
  )
}

/** RFC 6750 §3.1 insufficient_scope: every scope the route needs is granted, or the request is refused. */
export function checkScopes(granted: readonly string[], required: readonly string[]): void {
  if (required.length === 0) return
  const have = new Set(granted)
  const missing = required.filter((scope) => !have.has(scope))
  if (missing.length > 0) {
    throw new JwksBridgeError(
      'ERR_SCOPE_INSUFFICIENT',
      `the access token lacks the scope this request needs (${missing.length} missing)`,
      { claim: 'scope' },
    )
  }
}
