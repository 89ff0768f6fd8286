import { guarded } from '../failure.js'
import { assertBatchLimit, assertSessionRecord, assertTime } from '../records.js'
import { type SessionRow as StoredSessionRow, sessionFromRow, sessionRowValues } from '../rows.js'
import type { CleanupBatch, CleanupLease, IdentityStore, SessionRecord, SessionStore } from '../types.js'
import { acquirePostgresCleanupLease } from './cleanup-lease.js'
import { type PgPool, tableName, toMs } from './driver.js'
import { PostgresSignIn } from './sign-in.js'

type SessionRow = StoredSessionRow<unknown>

const COLUMNS =
  'id, secret_hash, identity_id, issuer, provider_session_id, created_at, expires_at, last_seen_at'

export interface PostgresSessionStoreOptions {
  schema?: string
  /** The clock the replay guard compares expiries with. Default `Date.now`. */
  nowMs?: () => number
  /** The identity store on the same database and schema: sign-ins are then written in one statement. */
  identities?: IdentityStore
}

/** Sessions and the replay guard in PostgreSQL. Every statement is parameterized. */
export class PostgresSessionStore implements SessionStore {
  readonly #pool: PgPool
  readonly #now: () => number
  readonly #schema: string | undefined
  readonly #sql: {
    insert: string
    get: string
    touch: string
    delete: string
    deleteByIdentity: string
    deleteByProvider: string
    deleteExpired: string
    deleteExpiredBatch: string
    markUsed: string
  }

  readonly signInTransaction: PostgresSignIn | undefined

  constructor(pool: PgPool, options: PostgresSessionStoreOptions = {}) {
    this.#pool = pool
    this.#now = options.nowMs ?? Date.now
    this.#schema = options.schema
    this.signInTransaction =
      options.identities === undefined
        ? undefined
        : new PostgresSignIn(pool, options.identities, options.schema, this.#now)
    const sessions = tableName(options.schema, 'sessions')
    const usedTokens = tableName(options.schema, 'used_tokens')
    this.#sql = {
      insert: `INSERT INTO ${sessions} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      get: `SELECT ${COLUMNS} FROM ${sessions} WHERE id = $1`,
      // Only forwards, and no write at all when nothing changes.
      touch: `UPDATE ${sessions} SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`,
      delete: `DELETE FROM ${sessions} WHERE id = $1`,
      deleteByIdentity: `DELETE FROM ${sessions} WHERE identity_id = $1`,
      deleteByProvider: `DELETE FROM ${sessions} WHERE issuer = $1 AND provider_session_id = $2`,
      // One statement (and one round trip) for both tables; only the sessions are counted.
      deleteExpired: `WITH forgotten AS (DELETE FROM ${usedTokens} WHERE expires_at <= $1)
        DELETE FROM ${sessions} WHERE expires_at <= $1 OR last_seen_at < $2`,
      // The same, at most $3 rows of each table: a bounded round whatever piled up.
      deleteExpiredBatch: `WITH tokens AS (
          DELETE FROM ${usedTokens} WHERE key IN (SELECT key FROM ${usedTokens} WHERE expires_at <= $1 LIMIT $3)
          RETURNING 1
        ), gone AS (
          DELETE FROM ${sessions} WHERE id IN
            (SELECT id FROM ${sessions} WHERE expires_at <= $1 OR last_seen_at < $2 LIMIT $3)
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone)::int AS sessions, (SELECT count(*) FROM tokens)::int AS used_tokens`,
      // One statement decides and records. Concurrent marks of one key meet at the primary key: the
      // first inserts, the others wait for it to commit and then see a record that has not expired,
      // so the WHERE refuses the update and RETURNING yields no row: exactly one caller gets true.
      markUsed: `INSERT INTO ${usedTokens} AS u (key, expires_at) VALUES ($1, $2)
        ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE u.expires_at <= $3
        RETURNING 1`,
    }
  }

  async create(session: SessionRecord): Promise<void> {
    assertSessionRecord(session)
    const values = sessionRowValues(session)
    await guarded('PostgreSQL', 'create session', () => this.#pool.query(this.#sql.insert, values))
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const result = await guarded('PostgreSQL', 'get session', () => this.#pool.query(this.#sql.get, [id]))
    const row = result.rows[0] as SessionRow | undefined
    return row === undefined ? undefined : sessionFromRow(row, toMs)
  }

  async touch(id: string, lastSeenAtMs: number): Promise<void> {
    assertTime('lastSeenAtMs', lastSeenAtMs)
    await guarded('PostgreSQL', 'touch session', () => this.#pool.query(this.#sql.touch, [id, lastSeenAtMs]))
  }

  async delete(id: string): Promise<boolean> {
    const result = await guarded('PostgreSQL', 'delete session', () =>
      this.#pool.query(this.#sql.delete, [id]),
    )
    return (result.rowCount ?? 0) > 0
  }

  async deleteByIdentity(identityId: string): Promise<number> {
    const result = await guarded('PostgreSQL', 'delete sessions of an identity', () =>
      this.#pool.query(this.#sql.deleteByIdentity, [identityId]),
    )
    return result.rowCount ?? 0
  }

  async deleteByProviderSession(issuer: string, providerSessionId: string): Promise<number> {
    const result = await guarded('PostgreSQL', 'delete sessions of a provider session', () =>
      this.#pool.query(this.#sql.deleteByProvider, [issuer, providerSessionId]),
    )
    return result.rowCount ?? 0
  }

  /** Also forgets used tokens that expired by `nowMs` (not counted). */
  async deleteExpired(nowMs: number, idleTimeoutMs: number): Promise<number> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    const result = await guarded('PostgreSQL', 'delete expired sessions', () =>
      this.#pool.query(this.#sql.deleteExpired, [nowMs, nowMs - idleTimeoutMs]),
    )
    return result.rowCount ?? 0
  }

  async deleteExpiredBatch(nowMs: number, idleTimeoutMs: number, limit: number): Promise<CleanupBatch> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    assertBatchLimit(limit)
    const result = await guarded('PostgreSQL', 'delete expired sessions', () =>
      this.#pool.query(this.#sql.deleteExpiredBatch, [nowMs, nowMs - idleTimeoutMs, limit]),
    )
    const row = result.rows[0] as { sessions: number; used_tokens: number }
    const sessions = Number(row.sessions)
    const usedTokens = Number(row.used_tokens)
    return { sessions, usedTokens, more: sessions === limit || usedTokens === limit }
  }

  /** A session-level advisory lock on one pooled connection (cleanup-lease.ts); `ttlMs` is not needed. */
  async acquireCleanupLease(_ttlMs: number): Promise<CleanupLease | undefined> {
    return acquirePostgresCleanupLease(this.#pool, this.#schema)
  }

  async markTokenUsed(key: string, expiresAtMs: number): Promise<boolean> {
    assertTime('expiresAtMs', expiresAtMs)
    const result = await guarded('PostgreSQL', 'mark token used', () =>
      this.#pool.query(this.#sql.markUsed, [key, expiresAtMs, this.#now()]),
    )
    return result.rowCount === 1
  }
}
