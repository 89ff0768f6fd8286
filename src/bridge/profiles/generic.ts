import { invalidOptions } from '../../errors.js'
import type { PolicyOptions } from '../../verifier/options.js'
import {
  type CommonProfileOptions,
  checkClaimValues,
  claimValuesOption,
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

export interface GenericProfileOptions extends CommonProfileOptions {
  /** Accepted audience(s), passed to the verifier: the token's `aud` must contain one. */
  audience?: string | readonly string[]
  /**
   * Accepted `azp` values. When set, `azp` must be present and one of them. Clerk puts the page's
   * origin in `azp`; checking it stops a token minted for another of your origins (a subdomain that
   * leaked its cookie) from being accepted here.
   */
  authorizedParties?: readonly string[]
  /** The claim that holds the provider's session id. Default `sid`; Supabase uses `session_id`. */
  sessionIdClaim?: string
}

const OPTIONS = ['audience', 'authorizedParties', 'sessionIdClaim', 'claimValues'] as const

/**
 * The `generic` profile: any issuer's JWT that names a subject. `iss`, `sub` and `exp` are required
 * (the verifier checks `iss` against the configured issuer and `exp` against the clock; here they must
 * exist, so a token without an expiry or an issuer never signs anyone in, whatever the verifier
 * options). Subject = `sub`; provider session id = `sid` when it is a string, else null.
 *
 * @example
 * const profile = genericProfile({ audience: 'authenticated', sessionIdClaim: 'session_id' })
 * const { subject, providerSessionId } = profile.check(await verifier.verify(token))
 */
export function genericProfile(options?: GenericProfileOptions): TokenProfile {
  const raw = readOptions(options, 'generic', OPTIONS)
  const audience = stringListOption(raw.audience, 'generic: audience')
  const parties = stringListOption(raw.authorizedParties, 'generic: authorizedParties')
  const sessionIdClaim =
    raw.sessionIdClaim === undefined ? 'sid' : nonEmptyString(raw.sessionIdClaim, 'generic: sessionIdClaim')
  if (sessionIdClaim === 'sub') throw invalidOptions('generic: sessionIdClaim cannot be "sub"')
  const claimValues = claimValuesOption(raw.claimValues, 'generic')
  const verifierOptions: Partial<PolicyOptions> = { requireExp: true }
  if (audience !== undefined) verifierOptions.audience = audience

  return Object.freeze({
    name: 'generic',
    verifierOptions: Object.freeze(verifierOptions),
    check(result) {
      const payload = result.payload
      // A logout or security event token is signed by the same keys; it must never sign anyone in.
      refuseEventTokens(result)
      refuseBoundTokens(result)
      // iss: which provider vouches for the subject; identities are keyed by (issuer, subject).
      requireIdentifier(payload, 'iss')
      // exp: a token without an expiry would be a bearer credential forever (RFC 8725 §3.10 spirit).
      requireNumber(payload, 'exp')
      // sub: the identity itself; without it there is nobody to sign in.
      const subject = requireIdentifier(payload, 'sub')
      if (audience !== undefined) requireAudience(payload, audience)
      if (parties !== undefined) {
        const azp = payload.azp
        if (typeof azp !== 'string' || !parties.includes(azp)) {
          throw profileMismatch('azp', '"azp" is not one of the authorized parties')
        }
      }
      checkClaimValues(payload, claimValues)
      return { subject, providerSessionId: optionalIdentifier(payload, sessionIdClaim) }
    },
  } satisfies TokenProfile)
}
