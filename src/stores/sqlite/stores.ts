import {
  booleanOption,
  functionOption,
  milliseconds,
  oneOf,
  optionError,
  optionNames,
  readOptions,
} from '../../lib/options.js'
import { storeFailure } from '../failure.js'
import { type MigrateOptions, type MigrateResult, type MigrationStatus, schemaBehind } from '../migrations.js'
import type { StoreLifecycle } from '../types.js'
import { type Checkpointer, startCheckpointer } from './checkpointer.js'
import { openSqliteFile, type SqliteDatabase } from './driver.js'
import { SqliteIdentityStore } from './identity-store.js'
import { migrateSqlite, sqliteMigrationStatus } from './migrate.js'
import { type PortableSqliteDatabase, toSqliteDatabase } from './portable-driver.js'
import { SqliteSessionStore } from './session-store.js'

/** Where the embedded database lives by default, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './data/jwks-bridge.sqlite'

export interface SqliteStoresOptions {
  /** Database file. Default `./data/jwks-bridge.sqlite` (the folder is created). */
  path?: string
  /**
   * An open database to use instead of `path`: better-sqlite3's, or bun:sqlite's `Database` on Bun, or
   * node:sqlite's `DatabaseSync` where the runtime has it (Node 22.5+, Deno); foreign keys are turned on
   * for the latter two, as better-sqlite3 has them. It stays yours: `close()` does not
   * close it, and its pragmas are left as you set them (better-sqlite3 enables foreign keys).
   */
  database?: SqliteDatabase | PortableSqliteDatabase
  /** Apply pending migrations when the stores are created. Default true (the embedded default). */
  migrate?: boolean
  /** How long a write waits for another process's write lock. Default 5000. */
  busyTimeoutMs?: number
  /** The clock the replay guard compares expiries with. Default `Date.now`. */
  nowMs?: () => number
  /**
   * Who checkpoints the write-ahead log of a database opened from `path`: `'background'` (default), a
   * worker thread with its own connection, so no request waits for a checkpoint's copy and fsync; or
   * `'automatic'`, SQLite's own, inside the commit that fills the log. A worker that cannot start, or
   * stops, leaves SQLite's own on. A `database` you pass is left as you configured it.
   */
  checkpoint?: 'background' | 'automatic'
  /** Time between two background checkpoints. Default 100. */
  checkpointIntervalMs?: number
}

const WHERE = 'createSqliteStores'
const SQLITE_KEYS = optionNames<SqliteStoresOptions>()([
  'path',
  'database',
  'migrate',
  'busyTimeoutMs',
  'nowMs',
  'checkpoint',
  'checkpointIntervalMs',
])

export interface SqliteStores extends StoreLifecycle {
  identities: SqliteIdentityStore
  sessions: SqliteSessionStore
  /** The connection the stores use (for backups or your own queries; do not close it yourself). */
  database: SqliteDatabase
  /** Applies pending migrations (a no-op when there are none). */
  migrate(options?: MigrateOptions): Promise<MigrateResult>
  migrationStatus(): Promise<MigrationStatus>
}

/**
 * Identities, sessions and the replay guard in one SQLite file (better-sqlite3 12, an optional peer
 * dependency loaded only here). One process, or several on one machine sharing the file.
 *
 * @example
 * const stores = await createSqliteStores() // ./data/jwks-bridge.sqlite, migrated
 * const { identity } = await stores.identities.upsert({ issuer, subject, claims: {}, nowMs: Date.now() })
 */
export async function createSqliteStores(options: SqliteStoresOptions = {}): Promise<SqliteStores> {
  // Unknown names are refused: `{ pth: '/var/db/app.sqlite' }` would otherwise open the default file.
  readOptions(WHERE, options, SQLITE_KEYS, { optional: true })
  if (options.path !== undefined && options.database !== undefined) {
    throw optionError(WHERE, 'give path or database, not both')
  }
  const busyTimeoutMs = milliseconds(WHERE, 'busyTimeoutMs', options.busyTimeoutMs, 5000, 0)
  const checkpoint = oneOf(WHERE, 'checkpoint', options.checkpoint, ['background', 'automatic'], 'background')
  const checkpointIntervalMs = milliseconds(WHERE, 'checkpointIntervalMs', options.checkpointIntervalMs, 100)
  const migrate = booleanOption(WHERE, 'migrate', options.migrate, true)
  const nowMs = functionOption<() => number>(WHERE, 'nowMs', options.nowMs)
  const owned = options.database === undefined
  const path = options.path ?? DEFAULT_SQLITE_PATH
  let db: SqliteDatabase
  if (options.database !== undefined) {
    db = toSqliteDatabase(options.database)
  } else {
    db = await openSqliteFile(path, busyTimeoutMs)
  }
  let checkpointer: Checkpointer | undefined
  try {
    if (migrate) migrateSqlite(db)
    const status = sqliteMigrationStatus(db)
    if (status.pending.length > 0) throw schemaBehind('the SQLite database', status)
    // An in-memory database has no write-ahead log to checkpoint.
    if (owned && checkpoint === 'background' && path !== ':memory:') {
      try {
        checkpointer = await startCheckpointer(db, path, { intervalMs: checkpointIntervalMs })
      } catch {
        // No worker (threads unavailable, the driver not loadable there): SQLite's own checkpoints,
        // which the connection still has, keep the log bounded. Slower commits, nothing lost.
      }
    }
    const identities = new SqliteIdentityStore(db)
    return {
      identities,
      sessions: new SqliteSessionStore(db, nowMs === undefined ? { identities } : { identities, nowMs }),
      database: db,
      async ping() {
        try {
          db.prepare('SELECT 1').get()
        } catch (error) {
          throw storeFailure('SQLite', 'ping', error)
        }
      },
      async close() {
        // The worker's connection closes first, so that closing ours (the last one) checkpoints the
        // whole log and removes it.
        await checkpointer?.stop()
        if (owned && db.open) db.close()
      },
      async migrate(migrateOptions) {
        return migrateSqlite(db, migrateOptions)
      },
      async migrationStatus() {
        return sqliteMigrationStatus(db)
      },
    }
  } catch (error) {
    await checkpointer?.stop()
    if (owned) db.close()
    throw storeFailure('SQLite', 'prepare the stores', error)
  }
}
