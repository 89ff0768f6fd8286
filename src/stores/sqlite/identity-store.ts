import { storeFailure } from '../failure.js'
import { assertUpsertInput, newIdentityId } from '../records.js'
import { identityFromRow, type IdentityRow as StoredIdentityRow } from '../rows.js'
import type { Identity, IdentityStore, UpsertIdentityInput } from '../types.js'
import type { SqliteDatabase, SqliteStatement } from './driver.js'
import { IDENTITY_COLUMNS, UPSERT_IDENTITY_SQL } from './statements.js'

export type IdentityRow = StoredIdentityRow<number>

export function toIdentity(row: IdentityRow): Identity {
  return identityFromRow(row, Number)
}

function attempt<T>(operation: string, run: () => T): T {
  try {
    return run()
  } catch (error) {
    throw storeFailure('SQLite', operation, error)
  }
}

/** Identities in SQLite. Statements are prepared once, when the store is created. */
export class SqliteIdentityStore implements IdentityStore {
  readonly #upsert: SqliteStatement
  readonly #get: SqliteStatement
  readonly #find: SqliteStatement

  constructor(db: SqliteDatabase) {
    this.#upsert = db.prepare(UPSERT_IDENTITY_SQL)
    this.#get = db.prepare(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE id = ?`)
    this.#find = db.prepare(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE issuer = ? AND subject = ?`)
  }

  async upsert(input: UpsertIdentityInput): Promise<{ identity: Identity; created: boolean }> {
    assertUpsertInput(input)
    const id = newIdentityId()
    const claims = JSON.stringify(input.claims)
    const row = attempt(
      'upsert identity',
      () =>
        this.#upsert.get(id, input.issuer, input.subject, claims, input.nowMs, input.nowMs) as IdentityRow,
    )
    // The new random id comes back only when this call inserted the row.
    return { identity: toIdentity(row), created: row.id === id }
  }

  async get(id: string): Promise<Identity | undefined> {
    const row = attempt('get identity', () => this.#get.get(id) as IdentityRow | undefined)
    return row === undefined ? undefined : toIdentity(row)
  }

  async findBySubject(issuer: string, subject: string): Promise<Identity | undefined> {
    const row = attempt('find identity', () => this.#find.get(issuer, subject) as IdentityRow | undefined)
    return row === undefined ? undefined : toIdentity(row)
  }
}
