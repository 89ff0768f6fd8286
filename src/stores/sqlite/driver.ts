import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { storeFailure } from '../failure.js'
import { loadDriver } from '../load-driver.js'

/**
 * The part of a better-sqlite3 12 statement the stores use. Declared here rather than imported so
 * that jwks-bridge's type declarations never require better-sqlite3's types.
 */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}

/** The part of a better-sqlite3 12 `Database` the stores use. */
export interface SqliteDatabase {
  prepare(source: string): SqliteStatement
  exec(source: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  /**
   * Wraps `fn` in a transaction; `.immediate()` takes the write lock at BEGIN. Called inside another
   * transaction, the wrapped function runs as a SAVEPOINT.
   */
  transaction<A extends unknown[], T>(
    fn: (...args: A) => T,
  ): ((...args: A) => T) & { immediate(...args: A): T }
  close(): unknown
  readonly open: boolean
}

type DatabaseConstructor = new (
  filename: string,
  options?: { timeout?: number; readonly?: boolean; fileMustExist?: boolean },
) => SqliteDatabase

/**
 * Loads better-sqlite3 only when a SQLite store is created: it is an optional peer dependency, and
 * `import 'jwks-bridge'` must work without it.
 */
export function loadBetterSqlite3(): Promise<DatabaseConstructor> {
  return loadDriver(
    async () => ((await import('better-sqlite3')) as unknown as { default: DatabaseConstructor }).default,
    'SQLite',
    'better-sqlite3 12: npm install better-sqlite3@12',
  )
}

/**
 * Opens (or creates, with its folder) a database file with the settings the stores rely on.
 * `:memory:` gives a private in-memory database.
 */
export async function openSqliteFile(path: string, busyTimeoutMs: number): Promise<SqliteDatabase> {
  const Database = await loadBetterSqlite3()
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const db = new Database(path, { timeout: busyTimeoutMs })
    // WAL: readers never block the writer nor each other. synchronous=NORMAL is durable across
    // application crashes in WAL mode and fsyncs only at checkpoints (https://sqlite.org/wal.html).
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`)
    // Sessions reference identities (ON DELETE CASCADE); better-sqlite3 enables this by default.
    db.pragma('foreign_keys = ON')
    return db
  } catch (error) {
    throw storeFailure('SQLite', 'open database', error)
  }
}

/** Opens an existing database file read-only, changing nothing in it (for a status report). */
export async function openSqliteReadOnly(path: string): Promise<SqliteDatabase> {
  const Database = await loadBetterSqlite3()
  try {
    return new Database(path, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw storeFailure('SQLite', 'open database', error)
  }
}
