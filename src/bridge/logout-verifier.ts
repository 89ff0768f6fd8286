/**
 * The verifier configuration for OpenID Connect Back-Channel Logout tokens, derived from the sign-in
 * verifier's options: the same issuers, keys and audience (OIDC Back-Channel Logout 1.0 §2.6: a logout
 * token is validated like an ID token, with the same keys), but its own token policy:
 * - `typ` must be `logout+jwt` (§2.4, RFC 8725 §3.11 explicit typing), so that no ID or access token
 *   signed with the same keys passes for a logout token, nor a logout token for a sign-in token;
 * - `iat`, `jti`, `events` and `aud` are required (§2.4), `exp` too (the verifier's default);
 * - the sign-in policy's required claims and maximum token age are dropped: they describe sign-in
 *   tokens, which a logout token is not.
 * A second verifier (rather than the sign-in one) is needed because policy is fixed per verifier. With
 * remote key sets it fetches the issuer's keys itself, unless both share a `keySetCache`.
 */
import type { VerifierOptions } from '../options.js'

export const LOGOUT_TYP = 'logout+jwt'
export const LOGOUT_REQUIRED_CLAIMS = Object.freeze(['iat', 'jti', 'events', 'aud'])

// A fresh array each time: createVerifier adds "exp" to the requiredClaims array it is given (in place).
const logoutPolicy = () => ({
  typ: LOGOUT_TYP,
  requiredClaims: [...LOGOUT_REQUIRED_CLAIMS],
  maxTokenAgeSeconds: undefined,
})

export function logoutVerifierOptions(
  options: VerifierOptions,
  nowMs: (() => number) | undefined,
): VerifierOptions {
  const derived: VerifierOptions = {
    ...options,
    ...logoutPolicy(),
    // Each logout token is used once: caching verified ones would only cost memory.
    tokenCache: false,
  }
  if (derived.nowMs === undefined && nowMs !== undefined) derived.nowMs = nowMs
  if (options.issuers !== undefined) {
    derived.issuers = options.issuers.map((issuer) => ({ ...issuer, ...logoutPolicy() }))
  }
  return derived
}
