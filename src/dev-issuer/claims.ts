// Token shapes are shared with the test issuer (token-shapes.ts), so that the development provider
// and createTestIssuer mint the same tokens for a profile; only the provider session is added here.
import { withoutUndefined } from '../lib/without-undefined.js'
import type { DevIssuerAlgorithm, DevIssuerProfile } from './options.js'
import { defaultClaims, defaultHeader } from './token-shapes.js'

/** What a token is minted from: the provider session and the clock. */
export interface TokenInput {
  profile: DevIssuerProfile
  alg: DevIssuerAlgorithm
  kid: string
  issuer: string
  subject: string
  /** The provider session's public handle: `sid` (generic) or `sessionHandle` (supertokens). */
  sessionId: string
  audience: string | undefined
  nowSeconds: number
  lifetimeSeconds: number
}

export interface TokenParts {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

/**
 * - generic: `{ iss, sub, aud?, iat, exp, jti, sid }`; the provider session in `sid`, as OpenID
 *   Connect Front-/Back-Channel Logout name it;
 * - supertokens: the V5 access token, header `{alg, typ, kid: "d-<millis>", version: "5"}`, claims
 *   `sub, iat, exp, tId, rsub, sessionHandle, refreshTokenHash1, parentRefreshTokenHash1: null,
 *   antiCsrfToken: null, iss` (identity-providers.md §1.2-1.3), with `sessionHandle` the provider
 *   session; `aud` only when the provider is configured with one (SuperTokens puts none).
 *
 * Two tokens minted in the same second for one session still differ (a random `jti`, a random
 * `refreshTokenHash1` as after a SuperTokens refresh): the bridge refuses a token it has already seen.
 */
export function tokenParts(input: TokenInput): TokenParts {
  const context = {
    profile: input.profile,
    issuer: input.issuer,
    audience: input.audience,
    alg: input.alg,
    kid: input.kid,
    nowSeconds: input.nowSeconds,
    lifetimeSeconds: input.lifetimeSeconds,
    defaultSubject: input.subject,
  }
  const claims = defaultClaims(context, { sub: input.subject })
  const session =
    input.profile === 'supertokens'
      ? { sessionHandle: input.sessionId, aud: input.audience }
      : { sid: input.sessionId }
  return {
    header: withoutUndefined(defaultHeader(context)),
    payload: withoutUndefined({ ...claims, ...session }),
  }
}
