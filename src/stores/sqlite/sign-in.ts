/**
 * A sign-in in one SQLite transaction: replay record, identity, old session out, new session in.
 * No state between the steps: a failure at any step rolls every step back, so there is never an
 * identity whose sign-in left no session, nor a token spent on a sign-in that did not happen.
 *
 * Group commit: sign-ins that arrive in the same turn of the event loop are written in one
 * transaction, each inside its own SAVEPOINT, so one that fails rolls back alone and the others
 * commit. A commit costs the same whether it carries one sign-in or ten (the log pages are written
 * once), so under load the cost per sign-in falls; alone, a sign-in waits for nothing but the end of
 * the current turn. No caller is answered before the commit that holds its writes.
 */
import { storeFailure } from '../failure.js'
import { assertSignInWrite, newIdentityId } from '../records.js'
import type { IdentityStore, SessionRecord, SignInOutcome, SignInTransaction, SignInWrite } from '../types.js'
import type { SqliteDatabase, SqliteStatement } from './driver.js'
import { type IdentityRow, toIdentity } from './identity-store.js'
import {
  DELETE_SESSION_SQL,
  INSERT_SESSION_SQL,
  MARK_TOKEN_USED_SQL,
  UPSERT_IDENTITY_SQL,
} from './statements.js'

/** Most sign-ins in one commit: bounds how long the event loop is held by one. */
const MAX_BATCH = 64

interface Pending {
  write: SignInWrite
  newId: string
  claims: string
  resolve: (outcome: SignInOutcome) => void
  reject: (error: unknown) => void
}

type Settled = { ok: true; outcome: SignInOutcome } | { ok: false; error: unknown }

export class SqliteSignIn implements SignInTransaction {
  readonly identities: IdentityStore
  readonly #runBatch: (batch: Pending[]) => Settled[]
  #queue: Pending[] = []
  #scheduled = false

  constructor(db: SqliteDatabase, identities: IdentityStore, nowMs: () => number) {
    this.identities = identities
    const markUsed: SqliteStatement = db.prepare(MARK_TOKEN_USED_SQL)
    const upsert: SqliteStatement = db.prepare(UPSERT_IDENTITY_SQL)
    const remove: SqliteStatement = db.prepare(DELETE_SESSION_SQL)
    const insert: SqliteStatement = db.prepare(INSERT_SESSION_SQL)
    const transaction = db.transaction((write: SignInWrite, newId: string, claims: string): SignInOutcome => {
      const { usedToken, identity: input, presented, session } = write
      // Replayed: nothing else runs, and the transaction commits having written nothing.
      if (markUsed.get(usedToken.key, usedToken.expiresAtMs, nowMs()) === undefined) return { replayed: true }
      const row = upsert.get(
        newId,
        input.issuer,
        input.subject,
        claims,
        input.nowMs,
        input.nowMs,
      ) as IdentityRow
      const identity = toIdentity(row)
      const created = row.id === newId
      // The presented session ends whoever it belongs to: every sign-in renews the session id
      // (OWASP session management), in the same transaction as the new session.
      const replaced = presented !== undefined && remove.run(presented.id).changes > 0
      const record: SessionRecord = { ...session, identityId: identity.id }
      insert.run(
        record.id,
        record.secretHash,
        record.identityId,
        record.issuer,
        record.providerSessionId,
        record.createdAtMs,
        record.expiresAtMs,
        record.lastSeenAtMs,
      )
      return { replayed: false, identity, created, session: record, replaced }
    })
    // Called inside the batch's transaction, a better-sqlite3 transaction function runs as a SAVEPOINT.
    const batch = db.transaction((pending: Pending[]): Settled[] =>
      pending.map(({ write, newId, claims }) => {
        try {
          return { ok: true, outcome: transaction(write, newId, claims) }
        } catch (error) {
          return { ok: false, error }
        }
      }),
    )
    // IMMEDIATE takes the write lock at BEGIN: a process sharing the file waits for it (busy_timeout)
    // instead of failing when a read lock would have to become a write lock mid-transaction.
    this.#runBatch = (pending) => batch.immediate(pending)
  }

  #flush(): void {
    this.#scheduled = false
    while (this.#queue.length > 0) {
      const pending = this.#queue.splice(0, MAX_BATCH)
      let settled: Settled[]
      try {
        settled = this.#runBatch(pending)
      } catch (error) {
        // BEGIN or COMMIT failed: nothing of this batch was written.
        for (const item of pending) item.reject(storeFailure('SQLite', 'sign in', error))
        continue
      }
      settled.forEach((result, i) => {
        const item = pending[i] as Pending
        if (result.ok) item.resolve(result.outcome)
        else item.reject(storeFailure('SQLite', 'sign in', result.error))
      })
    }
  }

  async signIn(write: SignInWrite): Promise<SignInOutcome> {
    assertSignInWrite(write)
    const claims = JSON.stringify(write.identity.claims)
    return new Promise((resolve, reject) => {
      this.#queue.push({ write, newId: newIdentityId(), claims, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        // After the poll phase: every request read in this turn joins the batch.
        setImmediate(() => this.#flush())
      }
    })
  }
}
