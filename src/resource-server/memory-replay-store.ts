/**
 * The default DPoP replay guard: used proof ids in this process's memory. Right for one instance only;
 * several instances share a session store's `markTokenUsed` instead (SQLite, PostgreSQL, Redis).
 */
import type { ReplayStore } from './options.js'

/**
 * A Map of key → expiry, swept of expired keys whenever it has doubled since the last sweep, so that
 * it holds about the proofs of one proof lifetime and the sweeps cost O(1) per insert amortized.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #used = new Map<string, number>()
  readonly #nowMs: () => number
  #sweepAt = 1024

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs
  }

  async markTokenUsed(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#nowMs()
    const recorded = this.#used.get(key)
    if (recorded !== undefined && recorded > now) return false
    this.#used.set(key, expiresAtMs)
    if (this.#used.size >= this.#sweepAt) {
      for (const [used, until] of this.#used) if (until <= now) this.#used.delete(used)
      this.#sweepAt = Math.max(1024, this.#used.size * 2)
    }
    return true
  }

  get size(): number {
    return this.#used.size
  }
}
