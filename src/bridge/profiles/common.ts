/**
 * Shared pieces of the token profiles: the error, the claim readers and the rules every profile
 * applies. A profile runs after the verifier (signature, issuer, expiry, audience already checked)
 * and answers one question: is this verified token the kind of token that may sign someone in?
 */
import { invalidOptions, JwksBridgeError } from '../../errors.js'
import { normalizeTyp } from '../../jose/header.js'
import type { VerifiedJwt } from '../../jose/verify-jwt.js'
import {
  isPlainObject,
  nonEmptyString as nonEmptyStringOption,
  readOptions as readKnownOptions,
  stringList,
} from '../../lib/options.js'

export type { ProfileResult, TokenProfile } from '../types.js'

/**
 * Longest `sub` and provider session id accepted. OpenID Connect Core §2 says `sub` "MUST NOT exceed
 * 255 ASCII characters"; the same bound keeps identity and session rows small whatever the provider.
 */
export const MAX_IDENTIFIER_LENGTH = 255

/** The OpenID Connect Back-Channel Logout event (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** Options every profile accepts. */
export interface CommonProfileOptions {
  /**
   * Exact values that claims must have, e.g. `{ token_use: 'id' }` for Cognito ID tokens. Only
   * strings, numbers and booleans; the claim must be present with that exact value.
   */
  claimValues?: Readonly<Record<string, string | number | boolean>>
}

export function profileMismatch(claim: string, reason: string): JwksBridgeError {
  return new JwksBridgeError('ERR_PROFILE_MISMATCH', `the token does not fit the profile: ${reason}`, {
    claim,
    reason,
  })
}

/** A claim that must be a non-empty string of bounded length. Never echoes the value. */
export function requireIdentifier(payload: Record<string, unknown>, claim: string): string {
  const value = payload[claim]
  if (typeof value !== 'string' || value.length === 0) {
    throw profileMismatch(claim, `"${claim}" must be a non-empty string`)
  }
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw profileMismatch(claim, `"${claim}" is longer than ${MAX_IDENTIFIER_LENGTH} characters`)
  }
  return value
}

/**
 * The provider's session id from `claim` when it is a string, else null: the sign-in still works, but
 * back-channel logout cannot find the session. An over-long value is refused rather than cut, since a
 * truncated id would never match a logout token.
 */
export function optionalIdentifier(payload: Record<string, unknown>, claim: string): string | null {
  const value = payload[claim]
  if (typeof value !== 'string' || value.length === 0) return null
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw profileMismatch(claim, `"${claim}" is longer than ${MAX_IDENTIFIER_LENGTH} characters`)
  }
  return value
}

export function requireNumber(payload: Record<string, unknown>, claim: string): number {
  const value = payload[claim]
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw profileMismatch(claim, `"${claim}" must be a NumericDate`)
  }
  return value
}

/**
 * Security catalogue E3, cross-JWT confusion (RFC 8725 §2.8, §3.11): an issuer signs several kinds of
 * tokens with one key set and one `iss`. A Back-Channel Logout token carries `sub`, `aud`, `iat` and
 * often `exp`, so a verifier that checks only those would sign the user IN with a token meant to sign
 * them OUT (Back-Channel Logout 1.0 §4.1 asks for `typ: logout+jwt` for exactly this reason). Security
 * Event Tokens (RFC 8417, `secevent+jwt`, the `events` claim) are the same family. None of them is ever
 * a sign-in token.
 */
export function refuseEventTokens(result: VerifiedJwt, extraTypes: readonly string[] = []): void {
  const typ = result.header.typ
  if (typeof typ === 'string') {
    const normalized = normalizeTyp(typ)
    if (normalized === 'logout+jwt' || normalized === 'secevent+jwt' || extraTypes.includes(normalized)) {
      throw profileMismatch('typ', `a "${normalized}" token is not a sign-in token`)
    }
  }
  if (Object.hasOwn(result.payload, 'events')) {
    throw profileMismatch('events', 'a token with "events" is a logout or security event token')
  }
}

/**
 * RFC 9449 §7.2 (and RFC 8705 §3 for mTLS): a token bound to a key (`cnf`) may only be used with a proof
 * of that key. The handoff takes a bare token, so a stolen DPoP-bound access token would open a session
 * without the key the binding was meant to require.
 */
export function refuseBoundTokens(result: VerifiedJwt): void {
  if (Object.hasOwn(result.payload, 'cnf')) {
    throw profileMismatch('cnf', 'a token bound to a key ("cnf") cannot sign in without a proof of that key')
  }
}

/**
 * The token's `aud` values (RFC 7519 §4.1.3: a string or an array of strings). The verifier has
 * already refused other shapes; this reads them again so a profile stays correct on its own.
 */
export function audiences(payload: Record<string, unknown>): string[] {
  const aud = payload.aud
  if (typeof aud === 'string') return [aud]
  if (Array.isArray(aud) && aud.every((value) => typeof value === 'string')) return aud as string[]
  if (aud === undefined) return []
  throw profileMismatch('aud', '"aud" is not a string or an array of strings')
}

/**
 * The audience rule, repeated here although `verifierOptions.audience` makes the verifier check it
 * first: a profile must hold even when it is used with a verifier built without its options.
 */
export function requireAudience(payload: Record<string, unknown>, accepted: readonly string[]): string[] {
  const values = audiences(payload)
  if (!values.some((value) => accepted.includes(value))) {
    throw profileMismatch('aud', 'the token is not meant for this audience')
  }
  return values
}

/** Applies `claimValues`: each named claim must be present with exactly the configured value. */
export function checkClaimValues(
  payload: Record<string, unknown>,
  expected: ReadonlyMap<string, string | number | boolean>,
): void {
  for (const [claim, value] of expected) {
    if (!Object.hasOwn(payload, claim) || payload[claim] !== value) {
      throw profileMismatch(claim, `"${claim}" does not have the required value`)
    }
  }
}

// ---- option validation (eager, in the factories: a wrong profile must fail at start-up) ----

export { isPlainObject }

/** A profile's options: a plain object (or undefined, all defaults) with only the `allowed` names. */
export function readOptions(
  value: unknown,
  profile: string,
  allowed: readonly string[],
): Record<string, unknown> {
  return readKnownOptions(`the ${profile} profile`, value, allowed, { optional: true })
}

export function claimValuesOption(value: unknown, profile: string): Map<string, string | number | boolean> {
  const map = new Map<string, string | number | boolean>()
  if (value === undefined) return map
  if (!isPlainObject(value)) throw invalidOptions(`${profile}: claimValues must be an object`)
  for (const [claim, expected] of Object.entries(value)) {
    const ok =
      typeof expected === 'string' ||
      typeof expected === 'boolean' ||
      (typeof expected === 'number' && Number.isFinite(expected))
    if (!ok)
      throw invalidOptions(`${profile}: claimValues.${claim} must be a string, a finite number or a boolean`)
    map.set(claim, expected)
  }
  return map
}

/** `name` is `<profile>: <option>`, as in `generic: sessionIdClaim`. */
export function nonEmptyString(value: unknown, name: string): string {
  const [profile, option] = splitName(name)
  return nonEmptyStringOption(profile, option, value)
}

/** A string or a non-empty list of strings; `name` is `<profile>: <option>`. */
export function stringListOption(value: unknown, name: string): string[] | undefined {
  const [profile, option] = splitName(name)
  return stringList(profile, option, value, { allowSingle: true, allowEmpty: false })
}

function splitName(name: string): [string, string] {
  const colon = name.indexOf(': ')
  return colon === -1 ? ['tokenProfile', name] : [name.slice(0, colon), name.slice(colon + 2)]
}
