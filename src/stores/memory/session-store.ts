import { JwksBridgeError } from '../../errors.js'
import { assertBatchLimit, assertSessionRecord, assertTime } from '../records.js'
import type { CleanupBatch, SessionRecord, SessionStore } from '../types.js'

export interface MemorySessionStoreOptions {
  /** The clock the replay guard compares expiries with. Default `Date.now`. */
  nowMs?: () => number
}

function copy(session: SessionRecord): SessionRecord {
  return { ...session, secretHash: new Uint8Array(session.secretHash) }
}

/**
 * Sessions and the replay guard in Maps, for unit tests and as the reference behaviour of the
 * conformance suite. One process only: the replay guard is not shared across instances.
 */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>()
  readonly #usedTokens = new Map<string, number>()
  readonly #now: () => number

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#now = options.nowMs ?? Date.now
  }

  async create(session: SessionRecord): Promise<void> {
    assertSessionRecord(session)
    // As the SQL stores' primary key answers it (store-conformance.ts): a random id that repeats is a
    // failure of the server (503), not bad input, and the session holding the id stays as it is.
    if (this.#sessions.has(session.id)) {
      throw new JwksBridgeError(
        'ERR_STORE_UNAVAILABLE',
        'memory store: create session failed: a session with this id exists',
        { reason: 'duplicate id' },
      )
    }
    this.#sessions.set(session.id, copy(session))
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const session = this.#sessions.get(id)
    return session === undefined ? undefined : copy(session)
  }

  async touch(id: string, lastSeenAtMs: number): Promise<void> {
    assertTime('lastSeenAtMs', lastSeenAtMs)
    const session = this.#sessions.get(id)
    // Never backwards: two instances touching with slightly different clocks keep the later time.
    if (session !== undefined) session.lastSeenAtMs = Math.max(session.lastSeenAtMs, lastSeenAtMs)
  }

  async delete(id: string): Promise<boolean> {
    return this.#sessions.delete(id)
  }

  async deleteByIdentity(identityId: string): Promise<number> {
    return this.#deleteWhere((session) => session.identityId === identityId)
  }

  async deleteByProviderSession(issuer: string, providerSessionId: string): Promise<number> {
    return this.#deleteWhere(
      (session) => session.issuer === issuer && session.providerSessionId === providerSessionId,
    )
  }

  async deleteExpired(nowMs: number, idleTimeoutMs: number): Promise<number> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    const idleBefore = nowMs - idleTimeoutMs
    for (const [key, expiresAtMs] of this.#usedTokens) if (expiresAtMs <= nowMs) this.#usedTokens.delete(key)
    return this.#deleteWhere((session) => session.expiresAtMs <= nowMs || session.lastSeenAtMs < idleBefore)
  }

  async deleteExpiredBatch(nowMs: number, idleTimeoutMs: number, limit: number): Promise<CleanupBatch> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    assertBatchLimit(limit)
    const idleBefore = nowMs - idleTimeoutMs
    let usedTokens = 0
    for (const [key, expiresAtMs] of this.#usedTokens) {
      if (usedTokens === limit) break
      if (expiresAtMs <= nowMs) {
        this.#usedTokens.delete(key)
        usedTokens++
      }
    }
    const sessions = this.#deleteWhere(
      (session) => session.expiresAtMs <= nowMs || session.lastSeenAtMs < idleBefore,
      limit,
    )
    return { sessions, usedTokens, more: sessions === limit || usedTokens === limit }
  }

  async markTokenUsed(key: string, expiresAtMs: number): Promise<boolean> {
    assertTime('expiresAtMs', expiresAtMs)
    const recorded = this.#usedTokens.get(key)
    if (recorded !== undefined && recorded > this.#now()) return false
    this.#usedTokens.set(key, expiresAtMs)
    return true
  }

  #deleteWhere(matches: (session: SessionRecord) => boolean, limit = Number.POSITIVE_INFINITY): number {
    let count = 0
    for (const [id, session] of this.#sessions) {
      if (count >= limit) break
      if (matches(session)) {
        this.#sessions.delete(id)
        count++
      }
    }
    return count
  }
}
