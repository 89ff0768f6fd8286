/**
 * The verifier configuration for OpenID Connect Back-Channel Logout tokens, derived from the sign-in
 * verifier's options: the same issuers, keys and audience (OIDC Back-Channel Logout 1.0 §2.6: a logout
 * token is validated like an ID token, with the same keys), but its own token policy:
 * - `typ` must be `logout+jwt` (§2.4, RFC 8725 §3.11 explicit typing), so that no ID or access token
 *   signed with the same keys passes for a logout token, nor a logout token for a sign-in token;
 * - `iat`, `jti`, `events` and `aud` are required (§2.4), and `exp` always, whatever `requireExp` says
 *   for sign-in tokens: a logout token without an expiry would end sessions again each time its replay
 *   record lapses;
 * - an audience must be configured (the client id): without one, a logout token issued to another
 *   client of the same provider would end sessions here (§2.6 step 3);
 * - the sign-in policy's required claims and maximum token age are dropped: they describe sign-in
 *   tokens, which a logout token is not.
 * A second verifier (rather than the sign-in one) is needed because policy is fixed per verifier. With
 * remote key sets it fetches the issuer's keys itself, unless both share a `keySetCache`.
 *
 * Alongside the verifier, the bridge keeps the rules it checks again itself (`LogoutRules`), so that
 * they hold even with a Verifier instance it cannot look into.
 */
import { invalidOptions } from '../errors.js'
import type { IssuerOptions, VerifierOptions } from '../verifier/options.js'
import type { Verifier } from '../verifier/verifier.js'
import type { TokenProfile } from './types.js'

export const LOGOUT_TYP = 'logout+jwt'
export const LOGOUT_REQUIRED_CLAIMS = Object.freeze(['iat', 'jti', 'events', 'aud'])

// A fresh array each time: createVerifier adds "exp" to the requiredClaims array it is given (in place).
const logoutPolicy = () => ({
  typ: LOGOUT_TYP,
  requiredClaims: [...LOGOUT_REQUIRED_CLAIMS],
  // Never the sign-in policy's `requireExp: false`: a logout token must expire (see above).
  requireExp: true,
  maxTokenAgeSeconds: undefined,
})

/** What the bridge checks on every logout token itself, per issuer, whatever verifier it was given. */
export interface LogoutRules {
  /** The audiences (the client id) a logout token must name one of. */
  audiences: ReadonlyMap<string, readonly string[]>
  /**
   * The logout verifier's clock tolerance for `exp`: a token is accepted until `exp` + this. Zero for
   * a Verifier instance, whose tolerance the bridge cannot see (the bridge then allows none).
   */
  clockToleranceSeconds: ReadonlyMap<string, number>
}

const NO_AUDIENCE =
  'backChannelLogout needs your client id at the provider as the audience, so that a logout token ' +
  'issued to another client of the same provider ends no session here (OIDC Back-Channel Logout 1.0 §2.6)'

function audienceList(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value.length > 0) return [value]
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0)) {
    return [...(value as string[])]
  }
  return undefined
}

function issuersOf(options: VerifierOptions): IssuerOptions[] {
  if (Array.isArray(options.issuers)) return [...options.issuers]
  return [{ ...options, issuer: options.issuer as string }]
}

function toleranceOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0
}

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

/**
 * The rules of a logout verifier built from `options` (after createVerifier accepted them). Refuses
 * options that leave an issuer without an audience; `where` names the option to set.
 */
export function logoutRulesOf(options: VerifierOptions, where: string): LogoutRules {
  const audiences = new Map<string, readonly string[]>()
  const clockToleranceSeconds = new Map<string, number>()
  const many = Array.isArray(options.issuers)
  issuersOf(options).forEach((issuer, index) => {
    const audience = audienceList(issuer.audience ?? options.audience)
    if (audience === undefined) {
      const field = many ? `${where}.audience or ${where}.issuers[${index}].audience` : `${where}.audience`
      throw invalidOptions(`${NO_AUDIENCE}: set ${field}`)
    }
    audiences.set(issuer.issuer, audience)
    clockToleranceSeconds.set(
      issuer.issuer,
      toleranceOf(issuer.clockToleranceSeconds ?? options.clockToleranceSeconds),
    )
  })
  return { audiences, clockToleranceSeconds }
}

/**
 * The rules for a logout Verifier instance: its audience cannot be seen, so it is taken from the
 * sign-in verifier's options when they were given (the profile's audience included), else from the
 * profile. Logout tokens are ID-token-like: their `aud` is the same client id.
 */
function instanceRules(
  verifier: Verifier,
  signInOptions: VerifierOptions | undefined,
  profile: TokenProfile,
): LogoutRules {
  const audiences = new Map<string, readonly string[]>()
  const clockToleranceSeconds = new Map<string, number>()
  if (!Array.isArray(verifier.issuers)) {
    throw invalidOptions('logoutVerifier must be a Verifier from createVerifier (it lists its issuers)')
  }
  for (const issuer of verifier.issuers) {
    const own =
      signInOptions === undefined ? undefined : issuersOf(signInOptions).find((i) => i.issuer === issuer)
    const audience = audienceList(
      own?.audience ?? signInOptions?.audience ?? profile.verifierOptions?.audience,
    )
    if (audience === undefined) {
      throw invalidOptions(
        `${NO_AUDIENCE}: the bridge cannot see a logoutVerifier instance's audience, so set the ` +
          `profile's audience, e.g. tokenProfile('oidc-id-token', { audience: 'your-client-id' })`,
      )
    }
    audiences.set(issuer, audience)
    clockToleranceSeconds.set(issuer, 0)
  }
  return { audiences, clockToleranceSeconds }
}

function isVerifier(value: unknown): value is Verifier {
  return typeof value === 'object' && value !== null && typeof (value as Verifier).verify === 'function'
}

/**
 * The logout verifier and its rules, from the `logoutVerifier` option (a Verifier or its options) or,
 * without it, derived from the sign-in verifier's options. `build` creates (and registers) a verifier.
 */
export function resolveLogout(input: {
  given: unknown
  signInOptions: VerifierOptions | undefined
  profile: TokenProfile
  nowMs: (() => number) | undefined
  build: (options: VerifierOptions) => Verifier
}): { verifier: Verifier; rules: LogoutRules } {
  const { given, signInOptions, profile, nowMs, build } = input
  if (isVerifier(given)) return { verifier: given, rules: instanceRules(given, signInOptions, profile) }
  let options: VerifierOptions
  let where: string
  if (given !== undefined) {
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw invalidOptions('logoutVerifier must be a Verifier or its options')
    }
    options = logoutVerifierOptions(given as VerifierOptions, nowMs)
    where = 'logoutVerifier'
  } else if (signInOptions === undefined) {
    throw invalidOptions(
      'backChannelLogout with a Verifier instance needs logoutVerifier: the bridge cannot see its keys',
    )
  } else {
    options = logoutVerifierOptions(signInOptions, nowMs)
    where = 'verifier'
  }
  // The verifier first: it reports malformed options (issuers, audience, tolerance) in its own words.
  const verifier = build(options)
  return { verifier, rules: logoutRulesOf(options, where) }
}
