import { type ErrorCode, JwksBridgeError } from '../errors.js'
import type { JsonObject } from './json.js'

/** A JWT Claims Set after validation. */
export interface JwtPayload {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  [claim: string]: unknown
}

export interface ClaimsPolicy {
  /** Exact string match with `iss` (RFC 8725 §3.8); undefined skips the check. */
  issuer: string | undefined
  /** Accepted audiences; the token passes when any of its `aud` values is one of them. */
  audience: ReadonlySet<string> | undefined
  /** Claims that must be present. */
  requiredClaims: readonly string[]
  clockToleranceSeconds: number
  /** Oldest accepted token, from `iat`; undefined for no limit. */
  maxTokenAgeSeconds: number | undefined
}

function claimError(code: ErrorCode, claim: string, message: string): JwksBridgeError {
  return new JwksBridgeError(code, message, { claim })
}

/**
 * A NumericDate (RFC 7519 §2): a JSON number of seconds; fractions allowed. Non-finite values are
 * refused: `"exp": 1e400` parses to Infinity, a token that never expires (security catalogue E1).
 */
function numericDate(payload: JsonObject, claim: string): number | undefined {
  const value = payload[claim]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw claimError('ERR_CLAIMS_INVALID', claim, `"${claim}" is not a finite NumericDate`)
  }
  return value
}

/** The time window, in seconds, in which a token passes the time checks: [fromSeconds, untilSeconds). */
export interface ValidityWindow {
  fromSeconds: number
  untilSeconds: number
}

/**
 * Validates a claims set that has already passed signature verification (never before: RFC 8725,
 * ruby-jwt #153). Returns the window in which the same token passes the time checks: the
 * verified-token cache never serves it outside that window (even if the clock steps back).
 */
export function checkClaims(payload: JsonObject, policy: ClaimsPolicy, nowSeconds: number): ValidityWindow {
  for (const claim of policy.requiredClaims) {
    // An own member only: `payload.toString` or `payload.constructor` come from Object.prototype.
    if (!Object.hasOwn(payload, claim)) {
      throw new JwksBridgeError('ERR_CLAIM_MISSING', `the "${claim}" claim is required`, { claim })
    }
  }
  const tolerance = policy.clockToleranceSeconds
  const exp = numericDate(payload, 'exp')
  const nbf = numericDate(payload, 'nbf')
  const iat = numericDate(payload, 'iat')
  let validUntil = Number.POSITIVE_INFINITY
  let validFrom = Number.NEGATIVE_INFINITY

  // RFC 7519 §4.1.4: the current time MUST be before exp.
  if (exp !== undefined) {
    if (nowSeconds - tolerance >= exp) throw claimError('ERR_JWT_EXPIRED', 'exp', 'the token has expired')
    validUntil = exp + tolerance
  }
  // RFC 7519 §4.1.5: the current time MUST be at or after nbf.
  if (nbf !== undefined) {
    if (nowSeconds + tolerance < nbf)
      throw claimError('ERR_JWT_NOT_YET_VALID', 'nbf', 'the token is not valid yet')
    validFrom = nbf - tolerance
  }
  // A token issued in the future was minted by a clock we do not share, or forged for later use.
  if (iat !== undefined) {
    if (nowSeconds + tolerance < iat) {
      throw claimError('ERR_JWT_ISSUED_IN_FUTURE', 'iat', 'the token was issued in the future')
    }
    validFrom = Math.max(validFrom, iat - tolerance)
  }
  if (policy.maxTokenAgeSeconds !== undefined) {
    if (iat === undefined)
      throw new JwksBridgeError('ERR_CLAIM_MISSING', 'the "iat" claim is required', { claim: 'iat' })
    const oldestAllowed = iat + policy.maxTokenAgeSeconds + tolerance
    if (nowSeconds > oldestAllowed)
      throw claimError('ERR_JWT_TOO_OLD', 'iat', 'the token is older than allowed')
    validUntil = Math.min(validUntil, oldestAllowed)
  }

  const iss = payload.iss
  if (iss !== undefined && typeof iss !== 'string')
    throw claimError('ERR_CLAIMS_INVALID', 'iss', '"iss" is not a string')
  if (policy.issuer !== undefined && iss !== policy.issuer) {
    throw new JwksBridgeError(
      iss === undefined ? 'ERR_CLAIM_MISSING' : 'ERR_ISSUER_MISMATCH',
      iss === undefined ? 'the "iss" claim is required' : "the token's issuer is not the expected one",
      { claim: 'iss' },
    )
  }

  checkAudience(payload.aud, policy.audience)

  for (const claim of ['sub', 'jti'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'string') {
      throw claimError('ERR_CLAIMS_INVALID', claim, `"${claim}" is not a string`)
    }
  }
  return { fromSeconds: validFrom, untilSeconds: validUntil }
}

/**
 * RFC 7519 §4.1.3: `aud` is a string or an array of strings; the token is for us when any value is
 * one we accept. Other shapes are refused even when no audience is configured (jwt-go CVE-2020-26160).
 */
function checkAudience(aud: unknown, accepted: ReadonlySet<string> | undefined): void {
  if (aud === undefined) {
    if (accepted !== undefined)
      throw new JwksBridgeError('ERR_CLAIM_MISSING', 'the "aud" claim is required', { claim: 'aud' })
    return
  }
  if (typeof aud === 'string') {
    if (accepted !== undefined && !accepted.has(aud)) throw audienceMismatch()
    return
  }
  if (!Array.isArray(aud) || aud.length === 0 || aud.some((value) => typeof value !== 'string')) {
    throw claimError('ERR_CLAIMS_INVALID', 'aud', '"aud" is not a string or a non-empty array of strings')
  }
  if (accepted !== undefined && !aud.some((value: string) => accepted.has(value))) throw audienceMismatch()
}

function audienceMismatch(): JwksBridgeError {
  return new JwksBridgeError('ERR_AUDIENCE_MISMATCH', 'the token is not meant for this audience', {
    claim: 'aud',
  })
}
