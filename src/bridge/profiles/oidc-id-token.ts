import { invalidOptions } from '../../errors.js'
import {
  type CommonProfileOptions,
  checkClaimValues,
  claimValuesOption,
  isPlainObject,
  nonEmptyString,
  optionalIdentifier,
  profileMismatch,
  readOptions,
  refuseBoundTokens,
  refuseEventTokens,
  requireAudience,
  requireIdentifier,
  requireNumber,
  stringListOption,
  type TokenProfile,
} from './common.js'

export interface OidcIdTokenProfileOptions extends CommonProfileOptions {
  /** Your client id at the provider: the ID token's `aud` must contain it. Required. */
  audience: string
  /**
   * Other `azp` values to accept besides the client id (for example Google's cross-client flow, where
   * an Android client obtains an ID token for your web client). Default: only the client id.
   */
  authorizedParties?: readonly string[]
  /**
   * The nonce sent in the authentication request: the token must carry a `nonce` equal to it (or for
   * which the function returns true). When not configured, `nonce` is not checked.
   */
  nonce?: string | ((nonce: string) => boolean)
}

const OPTIONS = ['audience', 'authorizedParties', 'nonce', 'claimValues'] as const

/**
 * The `oidc-id-token` profile: an OpenID Connect ID token for this client, validated as OpenID Connect
 * Core 1.0 §3.1.3.7 asks. The verifier has checked the signature, `iss` (item 2) and `exp` (item 9);
 * the profile adds the audience (item 3), `azp` (items 4-5), the required claims (§2) and, when
 * configured, the nonce (item 11). Subject = `sub`; provider session id = `sid` (used by Back-Channel
 * Logout 1.0 §2.1) when present.
 *
 * @example
 * const profile = oidcIdTokenProfile({ audience: 'my-client-id' })
 */
export function oidcIdTokenProfile(options: OidcIdTokenProfileOptions): TokenProfile {
  if (!isPlainObject(options)) {
    // The audience is what makes an ID token ours; a profile without one would accept any client's.
    throw invalidOptions('the oidc-id-token profile needs options with the audience (your client id)')
  }
  const raw = readOptions(options, 'oidc-id-token', OPTIONS)
  const clientId = nonEmptyString(raw.audience, 'oidc-id-token: audience (the client id)')
  const extraParties = stringListOption(raw.authorizedParties, 'oidc-id-token: authorizedParties') ?? []
  const parties = [clientId, ...extraParties]
  const nonce = raw.nonce
  if (nonce !== undefined && typeof nonce !== 'function') nonEmptyString(nonce, 'oidc-id-token: nonce')
  const expectedNonce = nonce as OidcIdTokenProfileOptions['nonce']
  const claimValues = claimValuesOption(raw.claimValues, 'oidc-id-token')

  return Object.freeze({
    name: 'oidc-id-token',
    verifierOptions: Object.freeze({ audience: clientId, requireExp: true }),
    check(result) {
      const payload = result.payload
      // Logout and security event tokens share the ID token's keys, `iss` and `aud` (E3). An RFC 9068
      // access token (`at+jwt`) is for a resource server, not proof of a sign-in at this client.
      refuseEventTokens(result, ['at+jwt'])
      refuseBoundTokens(result)
      // §2: iss, sub, aud, exp and iat are REQUIRED in every ID token.
      requireIdentifier(payload, 'iss')
      requireNumber(payload, 'exp')
      requireNumber(payload, 'iat')
      // Item 3: aud MUST contain our client_id; otherwise the token was issued to another client.
      const aud = requireAudience(payload, [clientId])
      // Item 4: with several audiences, azp says which of them the token was issued to; without it a
      // token issued to another client that merely lists us could be replayed here.
      const azp = payload.azp
      if (aud.length > 1 && azp === undefined) {
        throw profileMismatch('azp', 'an ID token with several audiences must name its authorized party')
      }
      // Item 5: when azp is present, it must be our client_id (or an explicitly allowed party).
      if (azp !== undefined && (typeof azp !== 'string' || !parties.includes(azp))) {
        throw profileMismatch('azp', '"azp" is not this client')
      }
      // §2: sub is a locally unique identifier of at most 255 ASCII characters.
      const subject = requireIdentifier(payload, 'sub')
      // Item 11: the nonce binds the token to the authentication request this client made (replay
      // and injection of a token obtained elsewhere).
      if (expectedNonce !== undefined) {
        const value = payload.nonce
        const ok =
          typeof value === 'string' &&
          (typeof expectedNonce === 'string' ? value === expectedNonce : expectedNonce(value) === true)
        if (!ok) throw profileMismatch('nonce', '"nonce" is missing or not the expected one')
      }
      checkClaimValues(payload, claimValues)
      return { subject, providerSessionId: optionalIdentifier(payload, 'sid') }
    },
  } satisfies TokenProfile)
}
