import { JwksBridgeError } from '../../errors.js'
import { safeReason, storeFailure } from '../failure.js'
import {
  type AppliedMigration,
  assertMigrationList,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  type MigrationStatus,
  planMigrations,
} from '../migrations.js'
import { type PgPool, tableName, toMs } from './driver.js'
import { POSTGRES_MIGRATIONS } from './migrations.js'

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at bigint NOT NULL
)`

function where(schema: string | undefined): string {
  return schema === undefined ? 'the PostgreSQL database' : `the PostgreSQL schema "${schema}"`
}

function toApplied(rows: unknown[]): AppliedMigration[] {
  return (rows as { version: number; name: string; applied_at: unknown }[]).map((row) => ({
    version: row.version,
    name: row.name,
    appliedAtMs: toMs(row.applied_at),
  }))
}

/** Applied and pending migrations; reads only (creates nothing, not even the schema). */
export async function postgresMigrationStatus(
  pool: PgPool,
  schema?: string,
  known: readonly Migration[] = POSTGRES_MIGRATIONS,
): Promise<MigrationStatus> {
  assertMigrationList(known)
  const table = tableName(schema, 'schema_migrations')
  try {
    const exists = await pool.query('SELECT to_regclass($1) IS NOT NULL AS present', [table])
    const present = (exists.rows[0] as { present: boolean }).present
    const rows = present
      ? (await pool.query(`SELECT version, name, applied_at FROM ${table} ORDER BY version`)).rows
      : []
    return planMigrations(known, toApplied(rows), where(schema))
  } catch (error) {
    throw storeFailure('PostgreSQL', 'read the migration status', error)
  }
}

/**
 * Applies the pending migrations in one transaction. An advisory lock taken first serializes
 * instances that start at the same moment: the second waits, then finds nothing pending. Either
 * every pending step is applied and recorded, or none is. Running it again is a no-op.
 */
export async function migratePostgres(
  pool: PgPool,
  options: MigrateOptions & { schema?: string } = {},
  known: readonly Migration[] = POSTGRES_MIGRATIONS,
): Promise<MigrateResult> {
  assertMigrationList(known)
  const { schema } = options
  let client: Awaited<ReturnType<PgPool['connect']>>
  try {
    client = await pool.connect()
  } catch (error) {
    throw storeFailure('PostgreSQL', 'migrate', error)
  }
  let step: Migration | undefined
  try {
    await client.query('BEGIN')
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('jwks-bridge migrate ' || coalesce($1, current_schema())))",
      [schema ?? null],
    )
    if (schema !== undefined) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
      // The migrations' SQL names no schema; LOCAL ends with the transaction, so the pooled
      // connection goes back with its own search_path.
      await client.query(`SET LOCAL search_path TO "${schema}"`)
    }
    await client.query(CREATE_TABLE)
    const applied = toApplied(
      (await client.query('SELECT version, name, applied_at FROM schema_migrations')).rows,
    )
    const status = planMigrations(known, applied, where(schema))
    for (const migration of status.pending) {
      step = migration
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ])
      options.onApplied?.(migration)
    }
    await client.query('COMMIT')
    client.release()
    return {
      applied: status.pending,
      version: status.pending.length > 0 ? status.latestVersion : status.currentVersion,
    }
  } catch (error) {
    // A failed ROLLBACK means the connection is broken: discard it rather than pool it.
    await client.query('ROLLBACK').then(
      () => client.release(),
      (rollbackError: Error) => client.release(rollbackError),
    )
    if (error instanceof JwksBridgeError) throw error
    if (step === undefined) throw storeFailure('PostgreSQL', 'migrate', error)
    throw new JwksBridgeError(
      'ERR_STORE_UNAVAILABLE',
      `PostgreSQL store: migration ${step.version} (${step.name}) failed (${safeReason(error)}); nothing was applied`,
      { reason: safeReason(error) },
    )
  }
}
