/**
 * The driver seam for SQLite databases other than better-sqlite3: Bun's `bun:sqlite` and Node's
 * `node:sqlite` (`DatabaseSync`, Node 22.5 and later; Deno has it too). Both are synchronous like
 * better-sqlite3 and share its statement shape (`prepare` → `run`/`get`/`all`), but lack `pragma`
 * and better-sqlite3's `transaction` helper: this wraps them into the `SqliteDatabase` the stores use.
 */
import { invalidOptions } from '../../errors.js'
import type { SqliteDatabase, SqliteStatement } from './driver.js'

/** The statement shape bun:sqlite and node:sqlite share. */
export interface PortableSqliteStatement {
  run(...params: unknown[]): { changes: number | bigint }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}

/** The database shape bun:sqlite's `Database` and node:sqlite's `DatabaseSync` share. */
export interface PortableSqliteDatabase {
  prepare(source: string): PortableSqliteStatement
  exec(source: string): unknown
  close(): unknown
}

function hasMethods(value: object, names: readonly string[]): boolean {
  return names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
}

/** better-sqlite3's Database (or one shaped like it): used as it is. */
function isBetterSqlite3(value: object): value is SqliteDatabase {
  return hasMethods(value, ['prepare', 'exec', 'pragma', 'transaction', 'close']) && 'open' in value
}

function wrapStatement(statement: PortableSqliteStatement): SqliteStatement {
  return {
    run: (...params) => ({ changes: Number(statement.run(...params).changes) }),
    // bun:sqlite answers null for no row; the stores (and better-sqlite3) use undefined.
    get: (...params) => statement.get(...params) ?? undefined,
    all: (...params) => statement.all(...params),
  }
}

function wrap(db: PortableSqliteDatabase): SqliteDatabase {
  let open = true
  let depth = 0
  // Sessions reference identities ON DELETE CASCADE: on as better-sqlite3 has it by default (bun:sqlite
  // has it off; node:sqlite on).
  db.exec('PRAGMA foreign_keys = ON')

  function pragma(source: string, options?: { simple?: boolean }): unknown {
    const rows = db.prepare(`PRAGMA ${source}`).all()
    if (options?.simple !== true) return rows
    const first = rows[0] as Record<string, unknown> | undefined
    return first === undefined ? undefined : Object.values(first)[0]
  }

  // better-sqlite3's semantics: BEGIN … COMMIT, ROLLBACK on a throw; inside a transaction, a savepoint.
  function transaction<A extends unknown[], T>(fn: (...args: A) => T) {
    const runAs =
      (begin: string) =>
      (...args: A): T => {
        if (depth > 0) {
          const name = `jwks_bridge_${depth}`
          db.exec(`SAVEPOINT ${name}`)
          depth++
          try {
            const result = fn(...args)
            db.exec(`RELEASE ${name}`)
            return result
          } catch (error) {
            db.exec(`ROLLBACK TO ${name}`)
            db.exec(`RELEASE ${name}`)
            throw error
          } finally {
            depth--
          }
        }
        db.exec(begin)
        depth++
        try {
          const result = fn(...args)
          db.exec('COMMIT')
          return result
        } catch (error) {
          db.exec('ROLLBACK')
          throw error
        } finally {
          depth--
        }
      }
    return Object.assign(runAs('BEGIN'), { immediate: runAs('BEGIN IMMEDIATE') })
  }

  return {
    prepare: (source) => wrapStatement(db.prepare(source)),
    exec: (source) => db.exec(source),
    pragma,
    transaction,
    close() {
      open = false
      return db.close()
    },
    get open() {
      return open
    },
  }
}

/**
 * The database the SQLite stores use: better-sqlite3's as it is; bun:sqlite's `Database` and
 * node:sqlite's `DatabaseSync` through the wrapper above. Anything else: ERR_INVALID_OPTIONS.
 */
export function toSqliteDatabase(database: unknown): SqliteDatabase {
  if (database === null || typeof database !== 'object') {
    throw invalidOptions('database must be a better-sqlite3, bun:sqlite or node:sqlite database')
  }
  if (isBetterSqlite3(database)) return database
  if (hasMethods(database, ['prepare', 'exec', 'close'])) return wrap(database as PortableSqliteDatabase)
  throw invalidOptions('database must be a better-sqlite3, bun:sqlite or node:sqlite database')
}
