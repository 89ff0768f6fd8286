import { JwksBridgeError } from '../../errors.js'
import { safeReason } from '../failure.js'
import {
  type AppliedMigration,
  assertMigrationList,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  type MigrationStatus,
  planMigrations,
} from '../migrations.js'
import type { SqliteDatabase } from './driver.js'
import { SQLITE_MIGRATIONS } from './migrations.js'

const WHERE = 'the SQLite database'

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`

function readApplied(db: SqliteDatabase): AppliedMigration[] {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get()
  if (table === undefined) return []
  const rows = db
    .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
    .all() as {
    version: number
    name: string
    applied_at: number
  }[]
  return rows.map((row) => ({ version: row.version, name: row.name, appliedAtMs: row.applied_at }))
}

/** Applied and pending migrations; reads only (creates nothing). */
export function sqliteMigrationStatus(
  db: SqliteDatabase,
  known: readonly Migration[] = SQLITE_MIGRATIONS,
): MigrationStatus {
  assertMigrationList(known)
  return planMigrations(known, readApplied(db), WHERE)
}

/**
 * Applies the pending migrations in one IMMEDIATE transaction: it takes the write lock first, so a
 * second process migrating at the same moment waits (busy_timeout), then finds nothing pending.
 * Either every pending step is applied and recorded, or none is. Running it again is a no-op.
 */
export function migrateSqlite(
  db: SqliteDatabase,
  options: MigrateOptions = {},
  known: readonly Migration[] = SQLITE_MIGRATIONS,
): MigrateResult {
  assertMigrationList(known)
  const run = db.transaction(() => {
    db.exec(CREATE_TABLE)
    const status = planMigrations(known, readApplied(db), WHERE)
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const migration of status.pending) {
      try {
        db.exec(migration.sql)
        record.run(migration.version, migration.name, Date.now())
      } catch (error) {
        // Thrown out of the transaction function: better-sqlite3 rolls back every step of the run.
        throw new JwksBridgeError(
          'ERR_STORE_UNAVAILABLE',
          `SQLite store: migration ${migration.version} (${migration.name}) failed (${safeReason(error)}); nothing was applied`,
          { reason: safeReason(error) },
        )
      }
      options.onApplied?.(migration)
    }
    return { applied: status.pending, version: Math.max(status.currentVersion, status.latestVersion) }
  })
  return run.immediate()
}
