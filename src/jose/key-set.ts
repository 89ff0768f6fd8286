import { JwksBridgeError } from '../errors.js'
import type { AlgorithmSpec } from './algorithms.js'
import { DEFAULT_KEY_LIMITS, importPublicJwk, type KeyLimits, type VerificationKey } from './jwk.js'

/** A key of a set that was skipped, and why. Carries no key material. */
export interface RejectedKey {
  index: number
  kid: string | undefined
  code: string
  reason: string
}

export interface KeySetLimits extends KeyLimits {
  /** Most keys a set may hold; a larger document is refused whole. */
  maxKeys: number
}

export const DEFAULT_KEY_SET_LIMITS: KeySetLimits = Object.freeze({ ...DEFAULT_KEY_LIMITS, maxKeys: 100 })

/**
 * An immutable set of imported verification keys, with key selection.
 *
 * Keys come only from here: `jwk`, `jku`, `x5u` and `x5c` in a token's header are never looked at
 * (CVE-2018-0114, RFC 8725 §3.10).
 */
export class KeySet {
  readonly keys: readonly VerificationKey[]
  readonly rejected: readonly RejectedKey[]
  readonly #byKid = new Map<string, VerificationKey[]>()
  readonly #members: ReadonlySet<VerificationKey>
  // Successful selections, per algorithm then kid, and per algorithm for tokens without a kid.
  // Bounded by keys × algorithms: misses are not kept.
  readonly #selected = new Map<string, Map<string, VerificationKey>>()
  readonly #selectedWithoutKid = new Map<string, VerificationKey>()

  /** Imported keys by the text of the JWK they came from, so a refetched set can reuse them. */
  readonly bySource: ReadonlyMap<string, VerificationKey>

  constructor(
    keys: readonly VerificationKey[],
    rejected: readonly RejectedKey[] = [],
    bySource: ReadonlyMap<string, VerificationKey> = new Map(),
  ) {
    this.bySource = bySource
    this.keys = Object.freeze([...keys])
    this.rejected = Object.freeze([...rejected])
    this.#members = new Set(keys)
    for (const key of keys) {
      if (key.kid === undefined) continue
      const list = this.#byKid.get(key.kid)
      if (list) list.push(key)
      else this.#byKid.set(key.kid, [key])
    }
  }

  /** Whether at least one key may verify something (`use` sig or absent, `key_ops` allow verify). */
  get canVerify(): boolean {
    return this.keys.some(mayVerify)
  }

  /** Whether this very key object belongs to the set. */
  has(key: VerificationKey): boolean {
    return this.#members.has(key)
  }

  hasKid(kid: string): boolean {
    return this.#byKid.has(kid)
  }

  /**
   * Picks the one key for a token's `alg` and `kid`, or throws:
   * ERR_KEY_NOT_FOUND when no key has that kid (or, without a kid, no key fits),
   * ERR_KEY_UNUSABLE when keys with that kid exist but none may verify this algorithm,
   * ERR_KEY_AMBIGUOUS when more than one key fits (never try several: RFC 7517 §4.5, Wycheproof JWK tcId 4).
   */
  select(spec: AlgorithmSpec, kid: string | undefined): VerificationKey {
    const hit =
      kid === undefined ? this.#selectedWithoutKid.get(spec.name) : this.#selected.get(spec.name)?.get(kid)
    if (hit !== undefined) return hit
    const pool = kid === undefined ? this.keys : this.#byKid.get(kid)
    if (pool === undefined || pool.length === 0) {
      throw new JwksBridgeError('ERR_KEY_NOT_FOUND', 'no key in the key set has the token\'s "kid"', {
        claim: 'kid',
        reason: 'unknown kid',
      })
    }
    let found: VerificationKey | undefined
    for (const key of pool) {
      if (!fits(key, spec)) continue
      if (found) {
        throw new JwksBridgeError('ERR_KEY_AMBIGUOUS', `more than one key fits ${spec.name}`, {
          claim: 'kid',
          reason:
            kid === undefined ? 'token has no kid and several keys fit' : 'duplicate kid in the key set',
        })
      }
      found = key
    }
    if (!found) {
      if (kid === undefined) {
        throw new JwksBridgeError('ERR_KEY_NOT_FOUND', `no key in the key set fits ${spec.name}`, {
          reason: 'no key fits the algorithm',
        })
      }
      throw new JwksBridgeError('ERR_KEY_UNUSABLE', `the key with this "kid" may not verify ${spec.name}`, {
        claim: 'kid',
        reason: 'key type, curve, alg, use or key_ops do not allow this algorithm',
      })
    }
    if (kid === undefined) {
      this.#selectedWithoutKid.set(spec.name, found)
    } else {
      let perAlgorithm = this.#selected.get(spec.name)
      if (perAlgorithm === undefined) {
        perAlgorithm = new Map()
        this.#selected.set(spec.name, perAlgorithm)
      }
      perAlgorithm.set(kid, found)
    }
    return found
  }
}

/**
 * Whether a key may verify a token signed with `spec`. One key, one algorithm (RFC 8725 §3.1):
 * the key type and curve must fit; a key's own `alg` must equal the token's exactly; `use`, when
 * present, must be `sig`; `key_ops`, when present, must contain `verify` (RFC 7517 §4.2-4.3).
 */
export function fits(key: VerificationKey, spec: AlgorithmSpec): boolean {
  if (key.kty !== spec.kty) return false
  if (spec.crv !== undefined && key.crv !== spec.crv) return false
  if (key.alg !== undefined && key.alg !== spec.name) return false
  return mayVerify(key)
}

/** Whether a key's `use` and `key_ops` allow verification at all (RFC 7517 §4.2-4.3). */
function mayVerify(key: VerificationKey): boolean {
  return (
    (key.use === undefined || key.use === 'sig') &&
    (key.keyOps === undefined || key.keyOps.includes('verify'))
  )
}

/**
 * Imports a JWK Set document. A document that is not `{ "keys": [...] }`, or holds more than
 * `maxKeys` keys, is refused whole (ERR_KEYSET_INVALID); a single bad key is skipped and listed in
 * `rejected`, so that one odd key published by a provider does not break the others.
 */
export function importKeySet(
  document: unknown,
  limits: KeySetLimits = DEFAULT_KEY_SET_LIMITS,
  previous?: KeySet,
): KeySet {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new JwksBridgeError('ERR_KEYSET_INVALID', 'key set is not a JSON object', {
      reason: 'not an object',
    })
  }
  const keys = (document as { keys?: unknown }).keys
  if (!Array.isArray(keys)) {
    throw new JwksBridgeError('ERR_KEYSET_INVALID', 'key set has no "keys" array', {
      reason: 'no keys array',
    })
  }
  if (keys.length > limits.maxKeys) {
    throw new JwksBridgeError(
      'ERR_KEYSET_INVALID',
      `key set holds ${keys.length} keys, more than ${limits.maxKeys}`,
    )
  }
  const imported: VerificationKey[] = []
  const rejected: RejectedKey[] = []
  const bySource = new Map<string, VerificationKey>()
  keys.forEach((jwk: unknown, index) => {
    try {
      // A key already imported from the same JWK text is reused: no second import, and the
      // verified-token cache keeps the entries it vouched for.
      const source = sourceText(jwk)
      const key = previous?.bySource.get(source) ?? importPublicJwk(jwk, limits)
      imported.push(key)
      bySource.set(source, key)
    } catch (error) {
      const kid =
        typeof (jwk as { kid?: unknown } | null)?.kid === 'string' ? (jwk as { kid: string }).kid : undefined
      const e = error as JwksBridgeError
      rejected.push({ index, kid, code: e.code ?? 'ERR_KEY_INVALID', reason: e.reason ?? e.message })
    }
  })
  return new KeySet(imported, rejected, bySource)
}

/** JSON text of a JWK with its members in sorted order: equal for equal keys, whatever the order. */
function sourceText(jwk: unknown): string {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return JSON.stringify(jwk)
  const record = jwk as Record<string, unknown>
  return JSON.stringify(
    Object.keys(record)
      .sort()
      .map((name) => [name, record[name]]),
  )
}
