import { JwksBridgeError } from '../errors.js'
import type { AlgorithmSpec } from './algorithms.js'
import { type ClaimsPolicy, checkClaims, type JwtPayload, type ValidityWindow } from './claims.js'
import { type CompactToken, decodeHeader, decodePayload } from './compact.js'
import { checkHeader, type HeaderPolicy, normalizeTyp, type ProtectedHeader } from './header.js'
import type { JsonObject } from './json.js'
import type { VerificationKey } from './jwk.js'
import { assertCompactSignature, assertCompactSignatureInPool } from './signature.js'

export interface JwtPolicy extends HeaderPolicy, ClaimsPolicy {
  /** Expected `typ`, already normalized with `normalizeTyp`; undefined skips the check. */
  typ: string | undefined
}

/** A token whose header passed every check; what remains is the key, the signature and the claims. */
export interface CheckedHeader {
  readonly compact: CompactToken
  readonly header: ProtectedHeader
  readonly spec: AlgorithmSpec
  /** True when the header came from a HeaderCache (nothing to remember). */
  readonly cached?: boolean
}

export interface VerifiedJwt {
  header: ProtectedHeader
  payload: JwtPayload
}

/**
 * Checked headers by their encoded segment. Every token signed with one key usually has the same
 * header bytes, so decoding and checking them once per policy saves a third of the work. Only
 * headers of tokens that verified are remembered, so a flood of junk (say, random kids) can neither
 * fill it nor push the real headers out. Bounded: when full it starts over. Entries are frozen and
 * shared.
 */
export class HeaderCache {
  static readonly MAX_ENTRIES = 64
  readonly #entries = new Map<string, { header: ProtectedHeader; spec: AlgorithmSpec }>()

  get(segment: string): { header: ProtectedHeader; spec: AlgorithmSpec } | undefined {
    return this.#entries.get(segment)
  }

  /** Remembers the header of a token that has just verified. */
  remember(checked: CheckedHeader): void {
    if (checked.cached) return
    const segment = checked.compact.token.slice(0, checked.compact.firstDot)
    if (this.#entries.has(segment)) return
    if (this.#entries.size >= HeaderCache.MAX_ENTRIES) this.#entries.clear()
    this.#entries.set(segment, { header: deepFreeze(checked.header), spec: checked.spec })
  }
}

/**
 * Step one, local and cheap: the header, the algorithm allowlist, `crit` and `typ`. With a
 * `HeaderCache` (one per policy), a header segment seen in a verified token skips the work.
 */
export function checkTokenHeader(
  compact: CompactToken,
  policy: JwtPolicy,
  cache?: HeaderCache,
): CheckedHeader {
  const hit = cache?.get(compact.token.slice(0, compact.firstDot))
  if (hit !== undefined) return { compact, header: hit.header, spec: hit.spec, cached: true }
  return checkUncached(compact, policy)
}

function checkUncached(compact: CompactToken, policy: JwtPolicy): CheckedHeader {
  const header = decodeHeader(compact)
  const spec = checkHeader(header, policy)
  if (policy.typ !== undefined) {
    const typ = header.typ
    if (typeof typ !== 'string' || normalizeTyp(typ) !== policy.typ) {
      throw new JwksBridgeError('ERR_TYP_MISMATCH', 'the token\'s "typ" is not the expected one', {
        claim: 'typ',
      })
    }
  }
  return { compact, header: header as ProtectedHeader, spec }
}

/**
 * Step two, once a key is chosen: the signature, then (only then) the claims set. `payload` may be
 * passed when it was already decoded to route the token to its issuer; it is not trusted before the
 * signature has been checked. Returns the result and the window in which it stays valid.
 */
export function completeVerification(
  checked: CheckedHeader,
  key: VerificationKey,
  policy: JwtPolicy,
  nowSeconds: number,
  payload?: JsonObject,
): { result: VerifiedJwt; window: ValidityWindow } {
  assertCompactSignature(checked.compact, checked.spec, key)
  return checkVerifiedClaims(checked, policy, nowSeconds, payload)
}

/** `completeVerification` with OpenSSL's work on libuv's thread pool; the clock is read after it. */
export async function completeVerificationInPool(
  checked: CheckedHeader,
  key: VerificationKey,
  policy: JwtPolicy,
  nowSeconds: () => number,
  payload?: JsonObject,
): Promise<{ result: VerifiedJwt; window: ValidityWindow }> {
  await assertCompactSignatureInPool(checked.compact, checked.spec, key)
  return checkVerifiedClaims(checked, policy, nowSeconds(), payload)
}

function checkVerifiedClaims(
  checked: CheckedHeader,
  policy: JwtPolicy,
  nowSeconds: number,
  payload: JsonObject | undefined,
): { result: VerifiedJwt; window: ValidityWindow } {
  const claims = payload ?? decodePayload(checked.compact)
  const window = checkClaims(claims, policy, nowSeconds)
  return { result: { header: checked.header, payload: claims as JwtPayload }, window }
}

/** Freezes a JSON value and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  Object.freeze(value)
  for (const member of Object.values(value)) deepFreeze(member)
  return value
}
