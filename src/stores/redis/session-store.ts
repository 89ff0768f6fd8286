import { randomBase64url } from '../../random.js'
import { guarded } from '../failure.js'
import { assertBatchLimit, assertSessionRecord, assertTime } from '../records.js'
import type { CleanupBatch, CleanupLease, SessionRecord, SessionStore } from '../types.js'
import type { RedisStoreClient } from './client.js'
import { SHARD_COUNT, type ShardKeys, shardKeys, shardOf } from './layout.js'
import { CREATE, DROP, READ_EXPIRED, READ_LISTED, READ_REFS, RELEASE_LEASE, TOUCH } from './scripts.js'

export interface RedisSessionStoreOptions {
  /** Prefix of every key. Default `jwks-bridge:`; give each app (and each test run) its own. */
  prefix?: string
  /** The clock the replay guard's time-to-live is computed with. Default `Date.now`. */
  nowMs?: () => number
  /** Sessions examined per script run in deleteExpired (each run blocks Redis briefly). Default 500. */
  deleteBatchSize?: number
}

// Most script rounds in one call: bounds the call; the next call carries on.
const MAX_ROUNDS = 1000
// Reads again when a session's index sets changed between reading and deleting (its id deleted and
// created again meanwhile: practically never).
const MAX_ATTEMPTS = 3

/** A session found through an index, with the index sets its reference hash names. */
interface Candidate {
  id: string
  identitySet: string | null
  providerSet: string | null
}

/** Parses a READ_* reply: { examined, id, identity set, provider set, ... }. */
function candidates(reply: unknown): { examined: number; found: Candidate[] } {
  const list = reply as (string | number)[]
  const found: Candidate[] = []
  for (let i = 1; i + 2 < list.length; i += 3) {
    const identitySet = String(list[i + 1])
    const providerSet = String(list[i + 2])
    found.push({
      id: String(list[i]),
      identitySet: identitySet === '' ? null : identitySet,
      providerSet: providerSet === '' ? null : providerSet,
    })
  }
  return { examined: Number(list[0]), found }
}

/**
 * Sessions and the replay guard in Redis or a Redis Cluster. A session is a hash that Redis expires
 * itself at the session's absolute end (PEXPIREAT); sets per identity and per (issuer, provider
 * session) make sign-out-everywhere and back-channel logout one call; two sorted sets by expiry and by
 * last activity let deleteExpired find idle sessions and clean the indexes of expired ones. Sessions
 * are split into shards by id, each shard's keys in one hash slot (layout.ts), so that every script
 * touches one slot; every write is one Lua script, so it is atomic.
 */
export class RedisSessionStore implements SessionStore {
  readonly #client: RedisStoreClient
  readonly #prefix: string
  readonly #now: () => number
  readonly #batch: number
  readonly #shards: ShardKeys[]
  // Where the next deleteExpiredBatch starts, so that one busy shard does not starve the others.
  #nextShard = 0

  constructor(client: RedisStoreClient, options: RedisSessionStoreOptions = {}) {
    this.#client = client
    this.#prefix = options.prefix ?? 'jwks-bridge:'
    this.#now = options.nowMs ?? Date.now
    this.#batch = options.deleteBatchSize ?? 500
    this.#shards = Array.from({ length: SHARD_COUNT }, (_, shard) => shardKeys(this.#prefix, shard))
  }

  #shardOf(id: string): ShardKeys {
    return this.#shards[shardOf(id)] as ShardKeys
  }

  async create(session: SessionRecord): Promise<void> {
    assertSessionRecord(session)
    const fields: string[] = [
      'secret_hash',
      Buffer.from(session.secretHash).toString('base64'),
      'identity_id',
      session.identityId,
      'issuer',
      session.issuer,
      'created_at',
      String(session.createdAtMs),
      'expires_at',
      String(session.expiresAtMs),
      'last_seen_at',
      String(session.lastSeenAtMs),
    ]
    if (session.providerSessionId !== null) fields.push('provider_session_id', session.providerSessionId)
    const keys = this.#shardOf(session.id)
    const declared = [
      keys.session(session.id),
      keys.byExpiry,
      keys.byLastSeen,
      keys.refs,
      keys.identitySet(session.identityId),
    ]
    if (session.providerSessionId !== null) {
      declared.push(keys.providerSet(session.issuer, session.providerSessionId))
    }
    await guarded('Redis', 'create session', () =>
      CREATE.run(this.#client, declared, [session.id, session.expiresAtMs, session.lastSeenAtMs, ...fields]),
    )
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const hash = await guarded('Redis', 'get session', () =>
      this.#client.hgetall(this.#shardOf(id).session(id)),
    )
    const { secret_hash, identity_id, issuer, created_at, expires_at, last_seen_at } = hash
    if (
      secret_hash === undefined ||
      identity_id === undefined ||
      issuer === undefined ||
      created_at === undefined ||
      expires_at === undefined ||
      last_seen_at === undefined
    ) {
      return undefined
    }
    return {
      id,
      secretHash: Buffer.from(secret_hash, 'base64'),
      identityId: identity_id,
      issuer,
      providerSessionId: hash.provider_session_id ?? null,
      createdAtMs: Number(created_at),
      expiresAtMs: Number(expires_at),
      lastSeenAtMs: Number(last_seen_at),
    }
  }

  async touch(id: string, lastSeenAtMs: number): Promise<void> {
    assertTime('lastSeenAtMs', lastSeenAtMs)
    const keys = this.#shardOf(id)
    await guarded('Redis', 'touch session', () =>
      TOUCH.run(this.#client, [keys.session(id), keys.byLastSeen], [id, lastSeenAtMs]),
    )
  }

  /**
   * Runs DROP on sessions of one shard, declaring every key it touches: the shard's sorted sets and
   * reference hash, each session hash, each index set the candidates name (and the listed set).
   */
  async #drop(
    keys: ShardKeys,
    mode: 'one' | 'listed' | 'expired',
    found: Candidate[],
    options: { nowMs?: number; idleBeforeMs?: number; listedSet?: string } = {},
  ): Promise<{ deleted: number; changed: number; left: number }> {
    const declared = [keys.byExpiry, keys.byLastSeen, keys.refs]
    const positions = new Map<string, number>()
    // A key's 1-based position in KEYS, declared once however many sessions name it.
    const position = (key: string | null | undefined): number => {
      if (key === null || key === undefined) return 0
      let at = positions.get(key)
      if (at === undefined) {
        declared.push(key)
        at = declared.length
        positions.set(key, at)
      }
      return at
    }
    const args: (string | number)[] = [
      mode,
      options.nowMs ?? 0,
      options.idleBeforeMs ?? 0,
      position(options.listedSet),
      found.length,
    ]
    for (const candidate of found) {
      args.push(
        candidate.id,
        position(keys.session(candidate.id)),
        position(candidate.identitySet),
        position(candidate.providerSet),
      )
    }
    const [deleted, changed, left] = (await DROP.run(this.#client, declared, args)) as [
      number,
      number,
      number,
    ]
    return { deleted, changed, left }
  }

  async delete(id: string): Promise<boolean> {
    const keys = this.#shardOf(id)
    return guarded('Redis', 'delete session', async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const { found } = candidates(await READ_REFS.run(this.#client, [keys.refs], [id]))
        const result = await this.#drop(keys, 'one', found)
        if (result.changed === 0) return result.deleted === 1
      }
      throw new Error('the session kept changing while it was deleted')
    })
  }

  /** Deletes every session an index set of one shard lists, a batch per round; returns how many. */
  async #deleteListed(keys: ShardKeys, set: string): Promise<number> {
    let total = 0
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { examined, found } = candidates(
        await READ_LISTED.run(this.#client, [set, keys.refs], [this.#batch]),
      )
      if (examined === 0) break
      const result = await this.#drop(keys, 'listed', found, { listedSet: set })
      total += result.deleted
      if (result.left === 0) break
    }
    return total
  }

  /**
   * An index's sessions are spread over every shard: each shard is cleared on its own (on a
   * cluster, on its own primary), all of them even when one fails; then the first failure is thrown,
   * and a call again finishes the job.
   */
  async #deleteListedEverywhere(set: (keys: ShardKeys) => string): Promise<number> {
    const results = await Promise.allSettled(this.#shards.map((keys) => this.#deleteListed(keys, set(keys))))
    let total = 0
    for (const result of results) {
      if (result.status === 'rejected') throw result.reason
      total += result.value
    }
    return total
  }

  async deleteByIdentity(identityId: string): Promise<number> {
    return guarded('Redis', 'delete sessions of an identity', () =>
      this.#deleteListedEverywhere((keys) => keys.identitySet(identityId)),
    )
  }

  async deleteByProviderSession(issuer: string, providerSessionId: string): Promise<number> {
    return guarded('Redis', 'delete sessions of a provider session', () =>
      this.#deleteListedEverywhere((keys) => keys.providerSet(issuer, providerSessionId)),
    )
  }

  /** One round in one shard: up to `limit` entries examined. */
  async #expiredRound(
    keys: ShardKeys,
    nowMs: number,
    idleBeforeMs: number,
    limit: number,
  ): Promise<{ deleted: number; examined: number }> {
    const { examined, found } = candidates(
      await READ_EXPIRED.run(
        this.#client,
        [keys.byExpiry, keys.byLastSeen, keys.refs],
        [nowMs, idleBeforeMs, limit],
      ),
    )
    if (found.length === 0) return { deleted: 0, examined }
    const { deleted } = await this.#drop(keys, 'expired', found, { nowMs, idleBeforeMs })
    return { deleted, examined }
  }

  /** Used tokens need no cleaning: Redis expires them. */
  async deleteExpired(nowMs: number, idleTimeoutMs: number): Promise<number> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    return guarded('Redis', 'delete expired sessions', async () => {
      let total = 0
      let rounds = 0
      for (const keys of this.#shards) {
        while (rounds++ < MAX_ROUNDS) {
          const { deleted, examined } = await this.#expiredRound(
            keys,
            nowMs,
            nowMs - idleTimeoutMs,
            this.#batch,
          )
          total += deleted
          if (examined < this.#batch) break
        }
      }
      return total
    })
  }

  /**
   * At most `limit` entries examined, shard after shard (from where the last call stopped), each
   * shard's round one script run on its own slot. Redis expires used tokens itself.
   */
  async deleteExpiredBatch(nowMs: number, idleTimeoutMs: number, limit: number): Promise<CleanupBatch> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    assertBatchLimit(limit)
    return guarded('Redis', 'delete expired sessions', async () => {
      let sessions = 0
      let left = limit
      const first = this.#nextShard
      for (let step = 0; step < SHARD_COUNT; step++) {
        const shard = (first + step) % SHARD_COUNT
        const { deleted, examined } = await this.#expiredRound(
          this.#shards[shard] as ShardKeys,
          nowMs,
          nowMs - idleTimeoutMs,
          left,
        )
        sessions += deleted
        // Entries examined but already gone (counted 0) still took a place in the round.
        if (examined >= left) {
          this.#nextShard = shard
          return { sessions, usedTokens: 0, more: true }
        }
        left -= examined
      }
      this.#nextShard = (first + 1) % SHARD_COUNT
      return { sessions, usedTokens: 0, more: false }
    })
  }

  /**
   * SET NX PX on one key: of several instances, one holds it; it runs out by itself after `ttlMs` if
   * the holder dies. Released only by its holder (compare-and-delete), never after it ran out and
   * another instance took it.
   */
  async acquireCleanupLease(ttlMs: number): Promise<CleanupLease | undefined> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new TypeError('ttlMs must be a whole number above 0')
    const key = `${this.#prefix}cleanup-lease`
    const holder = randomBase64url(16)
    const reply = await guarded('Redis', 'take the cleanup lease', () =>
      this.#client.set(key, holder, 'PX', ttlMs, 'NX'),
    )
    if (reply !== 'OK') return undefined
    const client = this.#client
    return {
      async release() {
        await guarded('Redis', 'release the cleanup lease', () => RELEASE_LEASE.run(client, [key], [holder]))
      },
    }
  }

  async markTokenUsed(key: string, expiresAtMs: number): Promise<boolean> {
    assertTime('expiresAtMs', expiresAtMs)
    const ttlMs = expiresAtMs - this.#now()
    // Already expired: there is nothing left to guard (the verifier refuses an expired token), and
    // Redis refuses a time-to-live of 0. The SQL stores answer true here too.
    if (ttlMs <= 0) return true
    // SET NX is the whole decision: of any number of concurrent calls, exactly one creates the key.
    const reply = await guarded('Redis', 'mark token used', () =>
      this.#client.set(`${this.#prefix}used:${key}`, '1', 'PX', ttlMs, 'NX'),
    )
    return reply === 'OK'
  }
}
