import { guarded } from '../failure.js'
import { assertUpsertInput, newIdentityId } from '../records.js'
import { identityFromRow, type IdentityRow as StoredIdentityRow } from '../rows.js'
import type { Identity, IdentityStore, UpsertIdentityInput } from '../types.js'
import { type PgPool, tableName, toMs } from './driver.js'

export type IdentityRow = StoredIdentityRow<unknown>

const COLUMNS = 'id, issuer, subject, claims, created_at, last_sign_in_at'

export function toIdentity(row: IdentityRow): Identity {
  return identityFromRow(row, toMs)
}

/** Identities in PostgreSQL. Every statement is parameterized. */
export class PostgresIdentityStore implements IdentityStore {
  readonly #pool: PgPool
  readonly #upsert: string
  readonly #get: string
  readonly #find: string

  constructor(pool: PgPool, schema?: string) {
    this.#pool = pool
    const table = tableName(schema, 'identities')
    // One statement: concurrent first sign-ins all reach the unique index; one inserts, the others
    // wait for it and update the row it made. xmax = 0 only on the tuple this statement inserted
    // (an updated row carries the updating transaction in xmax), which tells `created`.
    this.#upsert = `INSERT INTO ${table} (${COLUMNS}) VALUES ($1, $2, $3, $4::json, $5, $5)
      ON CONFLICT (issuer, subject) DO UPDATE SET claims = EXCLUDED.claims, last_sign_in_at = EXCLUDED.last_sign_in_at
      RETURNING ${COLUMNS}, (xmax = 0) AS created`
    this.#get = `SELECT ${COLUMNS} FROM ${table} WHERE id = $1`
    this.#find = `SELECT ${COLUMNS} FROM ${table} WHERE issuer = $1 AND subject = $2`
  }

  async upsert(input: UpsertIdentityInput): Promise<{ identity: Identity; created: boolean }> {
    assertUpsertInput(input)
    const values = [newIdentityId(), input.issuer, input.subject, JSON.stringify(input.claims), input.nowMs]
    const result = await guarded('PostgreSQL', 'upsert identity', () =>
      this.#pool.query(this.#upsert, values),
    )
    const row = result.rows[0] as IdentityRow & { created: boolean }
    return { identity: toIdentity(row), created: row.created }
  }

  async get(id: string): Promise<Identity | undefined> {
    const result = await guarded('PostgreSQL', 'get identity', () => this.#pool.query(this.#get, [id]))
    const row = result.rows[0] as IdentityRow | undefined
    return row === undefined ? undefined : toIdentity(row)
  }

  async findBySubject(issuer: string, subject: string): Promise<Identity | undefined> {
    const result = await guarded('PostgreSQL', 'find identity', () =>
      this.#pool.query(this.#find, [issuer, subject]),
    )
    const row = result.rows[0] as IdentityRow | undefined
    return row === undefined ? undefined : toIdentity(row)
  }
}
