import { storeFailure } from '../failure.js'
import { assertBatchLimit, assertSessionRecord, assertTime } from '../records.js'
import { type SessionRow as StoredSessionRow, sessionFromRow, sessionRowValues } from '../rows.js'
import type { CleanupBatch, SessionRecord, SessionStore } from '../types.js'
import type { SqliteDatabase, SqliteStatement } from './driver.js'
import type { SqliteIdentityStore } from './identity-store.js'
import { SqliteSignIn } from './sign-in.js'
import { DELETE_SESSION_SQL, INSERT_SESSION_SQL, MARK_TOKEN_USED_SQL, SESSION_COLUMNS } from './statements.js'

type SessionRow = StoredSessionRow<number>

function attempt<T>(operation: string, run: () => T): T {
  try {
    return run()
  } catch (error) {
    throw storeFailure('SQLite', operation, error)
  }
}

export interface SqliteSessionStoreOptions {
  /** The clock the replay guard compares expiries with. Default `Date.now`. */
  nowMs?: () => number
  /** The identity store on the same database: sign-ins are then written in one transaction. */
  identities?: SqliteIdentityStore
}

/** Sessions and the replay guard in SQLite. Statements are prepared once. */
export class SqliteSessionStore implements SessionStore {
  readonly #now: () => number
  readonly #insert: SqliteStatement
  readonly #get: SqliteStatement
  readonly #touch: SqliteStatement
  readonly #delete: SqliteStatement
  readonly #deleteByIdentity: SqliteStatement
  readonly #deleteByProvider: SqliteStatement
  readonly #deleteExpired: SqliteStatement
  readonly #deleteUsedTokens: SqliteStatement
  readonly #markUsed: SqliteStatement
  readonly #cleanupBatch: (nowMs: number, idleBefore: number, limit: number) => CleanupBatch
  readonly signInTransaction: SqliteSignIn | undefined

  constructor(db: SqliteDatabase, options: SqliteSessionStoreOptions = {}) {
    this.#now = options.nowMs ?? Date.now
    this.signInTransaction =
      options.identities === undefined ? undefined : new SqliteSignIn(db, options.identities, this.#now)
    this.#insert = db.prepare(INSERT_SESSION_SQL)
    this.#get = db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`)
    // Only forwards, and no write at all when nothing changes.
    this.#touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?')
    this.#delete = db.prepare(DELETE_SESSION_SQL)
    this.#deleteByIdentity = db.prepare('DELETE FROM sessions WHERE identity_id = ?')
    this.#deleteByProvider = db.prepare('DELETE FROM sessions WHERE issuer = ? AND provider_session_id = ?')
    this.#deleteExpired = db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?')
    this.#deleteUsedTokens = db.prepare('DELETE FROM used_tokens WHERE expires_at <= ?')
    this.#markUsed = db.prepare(MARK_TOKEN_USED_SQL)
    // LIMIT in a subquery: SQLite's DELETE ... LIMIT needs a compile-time option that builds often lack.
    const deleteUsedTokensBatch = db.prepare(
      'DELETE FROM used_tokens WHERE key IN (SELECT key FROM used_tokens WHERE expires_at <= ? LIMIT ?)',
    )
    const deleteSessionsBatch = db.prepare(
      'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= ? OR last_seen_at < ? LIMIT ?)',
    )
    const batch = db.transaction((nowMs: number, idleBefore: number, limit: number): CleanupBatch => {
      const usedTokens = deleteUsedTokensBatch.run(nowMs, limit).changes
      const sessions = deleteSessionsBatch.run(nowMs, idleBefore, limit).changes
      return { sessions, usedTokens, more: sessions === limit || usedTokens === limit }
    })
    // IMMEDIATE: the write lock is SQLite's cleanup lease. Processes sharing the file clean one round
    // at a time, and a round waits for a sign-in's commit (busy_timeout) rather than failing.
    this.#cleanupBatch = (nowMs, idleBefore, limit) => batch.immediate(nowMs, idleBefore, limit)
  }

  async create(session: SessionRecord): Promise<void> {
    assertSessionRecord(session)
    attempt('create session', () => this.#insert.run(...sessionRowValues(session)))
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = attempt('get session', () => this.#get.get(id) as SessionRow | undefined)
    return row === undefined ? undefined : sessionFromRow(row, Number)
  }

  async touch(id: string, lastSeenAtMs: number): Promise<void> {
    assertTime('lastSeenAtMs', lastSeenAtMs)
    attempt('touch session', () => this.#touch.run(lastSeenAtMs, id, lastSeenAtMs))
  }

  async delete(id: string): Promise<boolean> {
    return attempt('delete session', () => this.#delete.run(id).changes > 0)
  }

  async deleteByIdentity(identityId: string): Promise<number> {
    return attempt('delete sessions of an identity', () => this.#deleteByIdentity.run(identityId).changes)
  }

  async deleteByProviderSession(issuer: string, providerSessionId: string): Promise<number> {
    return attempt(
      'delete sessions of a provider session',
      () => this.#deleteByProvider.run(issuer, providerSessionId).changes,
    )
  }

  /** Also forgets used tokens that expired by `nowMs` (not counted). */
  async deleteExpired(nowMs: number, idleTimeoutMs: number): Promise<number> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    return attempt('delete expired sessions', () => {
      this.#deleteUsedTokens.run(nowMs)
      return this.#deleteExpired.run(nowMs, nowMs - idleTimeoutMs).changes
    })
  }

  /** One short IMMEDIATE transaction: at most `limit` sessions and `limit` used tokens. */
  async deleteExpiredBatch(nowMs: number, idleTimeoutMs: number, limit: number): Promise<CleanupBatch> {
    assertTime('nowMs', nowMs)
    assertTime('idleTimeoutMs', idleTimeoutMs)
    assertBatchLimit(limit)
    return attempt('delete expired sessions', () => this.#cleanupBatch(nowMs, nowMs - idleTimeoutMs, limit))
  }

  async markTokenUsed(key: string, expiresAtMs: number): Promise<boolean> {
    assertTime('expiresAtMs', expiresAtMs)
    return attempt('mark token used', () => this.#markUsed.get(key, expiresAtMs, this.#now()) !== undefined)
  }
}
