/**
 * What the test issuer's (src/testing) and the development provider's tokens look like for each
 * profile: the claims and header a real provider of
 * that kind would issue, so that app tests see realistic tokens (identity-providers.md §1.2-1.3 for
 * SuperTokens; OpenID Connect Core §2 for ID tokens; Back-Channel Logout 1.0 §2.4 for logout tokens).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { BACKCHANNEL_LOGOUT_EVENT } from '../bridge/profiles/common.js'
import type { SigningAlgorithm } from '../jose/sign.js'

export type TestIssuerProfile = 'generic' | 'oidc-id-token' | 'supertokens'

export const TEST_ISSUER_PROFILES: readonly TestIssuerProfile[] = Object.freeze([
  'generic',
  'oidc-id-token',
  'supertokens',
])

export interface ShapeContext {
  profile: TestIssuerProfile
  issuer: string
  audience: string | undefined
  alg: SigningAlgorithm
  kid: string
  nowSeconds: number
  lifetimeSeconds: number
  defaultSubject: string
}

/** Default protected header. SuperTokens adds `version` (core AccessToken.createNewAccessToken). */
export function defaultHeader(context: ShapeContext): Record<string, unknown> {
  if (context.profile === 'supertokens')
    return { alg: context.alg, typ: 'JWT', kid: context.kid, version: '5' }
  return { alg: context.alg, typ: 'JWT', kid: context.kid }
}

/**
 * Default claims. Each generic and ID token gets a random `jti` so that two tokens minted in the same
 * second for the same user differ: the bridge's single-use guard would otherwise take the second for a
 * replay of the first. SuperTokens tokens differ by their random session handle and refresh hash.
 */
export function defaultClaims(
  context: ShapeContext,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const iat = context.nowSeconds
  const exp = iat + context.lifetimeSeconds
  const sub = typeof overrides.sub === 'string' ? overrides.sub : context.defaultSubject
  switch (context.profile) {
    case 'supertokens':
      // The V5 payload: core AccessTokenInfo.toJSON plus the node SDK's iss. rsub follows sub unless
      // given (they differ only after account linking). No aud and no jti, as in the real thing.
      return {
        iat,
        exp,
        sub,
        tId: 'public',
        rsub: sub,
        sessionHandle: randomUUID(),
        refreshTokenHash1: createHash('sha256').update(randomBytes(32)).digest('hex'),
        parentRefreshTokenHash1: null,
        antiCsrfToken: null,
        iss: context.issuer,
      }
    case 'oidc-id-token':
      return {
        iss: context.issuer,
        sub,
        aud: context.audience,
        iat,
        exp,
        auth_time: iat,
        sid: randomUUID(),
        jti: randomUUID(),
      }
    default:
      return { iss: context.issuer, sub, aud: context.audience, iat, exp, jti: randomUUID() }
  }
}

/** A Back-Channel Logout token's header: explicit typing, §2.4 / RFC 8725 §3.11. */
export function logoutHeader(context: ShapeContext): Record<string, unknown> {
  return { alg: context.alg, typ: 'logout+jwt', kid: context.kid }
}

/**
 * A Back-Channel Logout token's claims (§2.4): iss, aud, iat, jti, events, sub and/or sid, never a
 * nonce; a short exp (ASVS 10.5.5 asks for one, and the verifier requires exp by default).
 */
export function logoutClaims(
  context: ShapeContext,
  aud: string,
  sid: string | undefined,
  sub: string | undefined,
) {
  return {
    iss: context.issuer,
    aud,
    iat: context.nowSeconds,
    exp: context.nowSeconds + 120,
    jti: randomUUID(),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    sub,
    sid,
  }
}
