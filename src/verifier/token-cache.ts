import type { ValidityWindow } from '../jose/claims.js'
import type { VerificationKey } from '../jose/jwk.js'
import type { VerifiedJwt } from '../jose/verify-jwt.js'
import { sha256 } from '../lib/sha256.js'

/** Answers whether a key is still in its issuer's current key set, and still trusted. */
export interface KeyMembership {
  has(key: VerificationKey): boolean
  admitsCached(key: VerificationKey): boolean
}

interface Entry {
  result: VerifiedJwt
  /** Served only inside this window (nbf/iat to exp or iat + max token age), even if the clock steps back. */
  window: ValidityWindow
  key: VerificationKey
  source: KeyMembership
}

/**
 * A bounded LRU of verified tokens, keyed by a SHA-256 of the token (the token itself is never kept
 * as a key). An entry is served only while its token would still pass the time checks and while the
 * key that verified it is still in its key set, so the cache can change speed but never a result.
 */
export class TokenCache {
  readonly maxEntries: number
  readonly #entries = new Map<string, Entry>()

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries
  }

  static keyOf(token: string): string {
    return sha256(token, 'base64')
  }

  get(cacheKey: string, nowSeconds: number): VerifiedJwt | undefined {
    const entry = this.#entries.get(cacheKey)
    if (entry === undefined) return undefined
    if (
      nowSeconds >= entry.window.untilSeconds ||
      nowSeconds < entry.window.fromSeconds ||
      !entry.source.admitsCached(entry.key)
    ) {
      this.#entries.delete(cacheKey)
      return undefined
    }
    // Move to the most recently used end.
    this.#entries.delete(cacheKey)
    this.#entries.set(cacheKey, entry)
    return entry.result
  }

  set(cacheKey: string, entry: Entry): void {
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(cacheKey, entry)
  }

  /** Drops every entry whose key has left its key set (called when a key set changes). */
  prune(): number {
    let dropped = 0
    for (const [cacheKey, entry] of this.#entries) {
      if (!entry.source.has(entry.key)) {
        this.#entries.delete(cacheKey)
        dropped++
      }
    }
    return dropped
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
