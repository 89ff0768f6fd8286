import { randomBase64url } from '../../random.js'
import { guarded } from '../failure.js'
import { assertBatchLimit, assertSessionRecord, assertTime } from '../records.js'
import type { CleanupBatch, CleanupLease, SessionRecord, SessionStore } from '../types.js'
import type { RedisStoreClient } from './client.js'
import { CREATE, DELETE, DELETE_EXPIRED, DELETE_LISTED, RELEASE_LEASE, TOUCH } from './scripts.js'

export interface RedisSessionStoreOptions {
  /** Prefix of every key. Default `jwks-bridge:`; give each app (and each test run) its own. */
  prefix?: string
  /** The clock the replay guard's time-to-live is computed with. Default `Date.now`. */
  nowMs?: () => number
  /** Sessions examined per script run in deleteExpired (each run blocks Redis briefly). Default 500. */
  deleteBatchSize?: number
}

// Most rounds of deleteExpired in one call: bounds the call; the next call carries on.
const MAX_ROUNDS = 1000

/**
 * Sessions and the replay guard in Redis. A session is a hash that Redis expires itself at the
 * session's absolute end (PEXPIREAT); sets per identity and per (issuer, provider session) make
 * sign-out-everywhere and back-channel logout one call; two sorted sets by expiry and by last
 * activity let deleteExpired find idle sessions and clean the indexes of expired ones. Every write
 * is one Lua script, so it is atomic.
 */
export class RedisSessionStore implements SessionStore {
  readonly #client: RedisStoreClient
  readonly #prefix: string
  readonly #now: () => number
  readonly #batch: number

  constructor(client: RedisStoreClient, options: RedisSessionStoreOptions = {}) {
    this.#client = client
    this.#prefix = options.prefix ?? 'jwks-bridge:'
    this.#now = options.nowMs ?? Date.now
    this.#batch = options.deleteBatchSize ?? 500
  }

  #identitySet(identityId: string): string {
    return `${this.#prefix}identity-sessions:${identityId}`
  }

  // The issuer's length first: no issuer and provider session id pair can spell another pair.
  #providerSet(issuer: string, providerSessionId: string): string {
    return `${this.#prefix}provider-sessions:${issuer.length}:${issuer}:${providerSessionId}`
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
    const providerSet =
      session.providerSessionId === null ? '' : this.#providerSet(session.issuer, session.providerSessionId)
    await guarded('Redis', 'create session', () =>
      CREATE.run(this.#client, [
        this.#prefix,
        session.id,
        this.#identitySet(session.identityId),
        providerSet,
        session.expiresAtMs,
        session.lastSeenAtMs,
        ...fields,
      ]),
    )
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const hash = await guarded('Redis', 'get session', () =>
      this.#client.hgetall(`${this.#prefix}session:${id}`),
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
    await guarded('Redis', 'touch session', () => TOUCH.run(this.#client, [this.#prefix, id, lastSeenAtMs]))
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await guarded('Redis', 'delete session', () =>
      DELETE.run(this.#client, [this.#prefix, id]),
    )
    return deleted === 1
  }

  async deleteByIdentity(identityId: string): Promise<number> {
    return guarded('Redis', 'delete sessions of an identity', async () =>
      Number(await DELETE_LISTED.run(this.#client, [this.#prefix, this.#identitySet(identityId)])),
    )
  }

  async deleteByProviderSession(issuer: string, providerSessionId: string): Promise<number> {
    return guarded('Redis', 'delete sessions of a provider session', async () =>
      Number(
        await DELETE_LISTED.run(this.#client, [this.#prefix, this.#providerSet(issuer, providerSessionId)]),
      ),
    )
  }

  /** Used tokens need no cleaning: Redis expires them. */
  async deleteExpired(nowMs: number, idleTimeoutMs: number): Promise<number> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    return guarded('Redis', 'delete expired sessions', async () => {
      let total = 0
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const [deleted, examined] = (await DELETE_EXPIRED.run(this.#client, [
          this.#prefix,
          nowMs,
          nowMs - idleTimeoutMs,
          this.#batch,
        ])) as [number, number]
        total += deleted
        if (examined < this.#batch) break
      }
      return total
    })
  }

  /** One script run: at most `limit` sessions and their index entries. Redis expires used tokens itself. */
  async deleteExpiredBatch(nowMs: number, idleTimeoutMs: number, limit: number): Promise<CleanupBatch> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    assertBatchLimit(limit)
    const [deleted, examined] = await guarded(
      'Redis',
      'delete expired sessions',
      async () =>
        (await DELETE_EXPIRED.run(this.#client, [this.#prefix, nowMs, nowMs - idleTimeoutMs, limit])) as [
          number,
          number,
        ],
    )
    // Entries examined but already gone (counted 0) still took a place in the round.
    return { sessions: deleted, usedTokens: 0, more: examined >= limit }
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
        await guarded('Redis', 'release the cleanup lease', () => RELEASE_LEASE.run(client, [key, holder]))
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
