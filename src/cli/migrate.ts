import { existsSync } from 'node:fs'
import { isJwksBridgeError } from '../errors.js'
import type { Migration, MigrationStatus } from '../stores/migrations.js'
import { SCHEMA_NAME } from '../stores/postgres/driver.js'
import { createPostgresStores } from '../stores/postgres/stores.js'
import { openSqliteFile, openSqliteReadOnly } from '../stores/sqlite/driver.js'
import { migrateSqlite, sqliteMigrationStatus } from '../stores/sqlite/migrate.js'
import { SQLITE_MIGRATIONS } from '../stores/sqlite/migrations.js'
import { DEFAULT_SQLITE_PATH } from '../stores/sqlite/stores.js'
import type { CliContext } from './io.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const MIGRATE_SUMMARY = "apply the stores' pending schema migrations (SQLite or PostgreSQL)"

export const MIGRATE_HELP = `Usage: jwks-bridge migrate [--sqlite PATH | --database-url URL [--schema NAME]] [--status]

Applies the pending schema migrations of the jwks-bridge stores (identities, sessions,
used tokens) and prints each one, then the version the database is at. All pending
migrations run in one transaction: either all are applied, or none is. Running it again
applies nothing. A database migrated by a newer jwks-bridge is refused (no downgrades).
Several instances may run it at once: the first applies, the others wait and find nothing.

Which database:
  --sqlite PATH         a SQLite file (created, with its folder, if missing)
  --database-url URL    a PostgreSQL connection string, postgres://user@host:port/db
  neither               $DATABASE_URL (PostgreSQL) when it is set, else the SQLite file
                        ${DEFAULT_SQLITE_PATH}

Options:
  --schema NAME         PostgreSQL: the schema holding the tables, created if missing
                        (letters, digits and _); default: the connection's search_path
  --status              list applied and pending migrations; change nothing
  -h, --help            show this help

The user name and password of a connection string are never printed.

Exit status:
  0  the database is at the latest version (with --status: it could be read)
  1  the database cannot be reached, a migration failed, or the database is newer than
     this jwks-bridge: "CODE: message" on standard error, e.g.
     "ERR_STORE_UNAVAILABLE: PostgreSQL store: migrate failed (ECONNREFUSED)"
  2  usage error

Examples:
  jwks-bridge migrate
  jwks-bridge migrate --sqlite /var/lib/myapp/auth.sqlite
  DATABASE_URL=postgres://app@db.internal/app jwks-bridge migrate --schema auth
  jwks-bridge migrate --database-url postgres://app@127.0.0.1/app --status
`

const MIGRATE_OPTIONS = {
  sqlite: { type: 'string' },
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  status: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Target =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; connectionString: string; schema: string | undefined; shown: string }

/** host:port/database of a connection string: never the user name, the password or the query. */
function describeUrl(connectionString: string, from: string): string {
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    throw new UsageError(`${from} is not a URL; expected postgres://user@host:port/database`)
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError(`${from} must start with postgres:// or postgresql://`)
  }
  return `${url.host === '' ? 'local socket' : url.host}${url.pathname}`
}

function resolveTarget(values: Record<string, string | boolean | undefined>, env: CliContext['env']): Target {
  const sqlite = values.sqlite as string | undefined
  const databaseUrl = values['database-url'] as string | undefined
  const schema = values.schema as string | undefined
  if (sqlite !== undefined && databaseUrl !== undefined) {
    throw new UsageError('give --sqlite or --database-url, not both')
  }
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new UsageError('--schema must be letters, digits and _ (at most 63, not starting with a digit)')
  }
  if (sqlite !== undefined) {
    if (sqlite.length === 0) throw new UsageError('--sqlite needs a file path')
    if (schema !== undefined) throw new UsageError('--schema is for PostgreSQL; SQLite has no schemas')
    return { kind: 'sqlite', path: sqlite }
  }
  const fromEnv = env.DATABASE_URL !== undefined && env.DATABASE_URL !== ''
  const connectionString = databaseUrl ?? (fromEnv ? env.DATABASE_URL : undefined)
  if (connectionString === undefined) {
    if (schema !== undefined)
      throw new UsageError('--schema is for PostgreSQL: give --database-url or set DATABASE_URL')
    return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH }
  }
  const shown = describeUrl(connectionString, databaseUrl !== undefined ? '--database-url' : 'DATABASE_URL')
  return { kind: 'postgres', connectionString, schema, shown }
}

function where(target: Target): string {
  if (target.kind === 'sqlite') return `SQLite database ${target.path}`
  const schema = target.schema === undefined ? '' : `, schema "${target.schema}"`
  return `PostgreSQL database ${target.shown}${schema}`
}

function statusReport(target: Target, status: MigrationStatus): string {
  const lines = [`${where(target)}: version ${status.currentVersion} (latest ${status.latestVersion})`]
  for (const applied of status.applied) {
    lines.push(
      `  applied  ${applied.version}  ${applied.name}  (${new Date(applied.appliedAtMs).toISOString()})`,
    )
  }
  for (const pending of status.pending) lines.push(`  pending  ${pending.version}  ${pending.name}`)
  if (status.pending.length === 0) lines.push('up to date')
  else lines.push(`${status.pending.length} pending: run 'jwks-bridge migrate' to apply`)
  return `${lines.join('\n')}\n`
}

async function runSqlite(path: string, status: boolean, progress: (m: Migration) => void) {
  // --status must not create the file it reports on.
  if (status && !existsSync(path)) {
    return { status: sqliteStatusOfNothing(), version: 0 }
  }
  const db = status ? await openSqliteReadOnly(path) : await openSqliteFile(path, 5000)
  try {
    if (status) return { status: sqliteMigrationStatus(db), version: 0 }
    const result = migrateSqlite(db, { onApplied: progress })
    return { status: undefined, version: result.version }
  } finally {
    db.close()
  }
}

function sqliteStatusOfNothing(): MigrationStatus {
  return {
    currentVersion: 0,
    latestVersion: SQLITE_MIGRATIONS.length,
    applied: [],
    pending: [...SQLITE_MIGRATIONS],
  }
}

async function runPostgres(
  target: Extract<Target, { kind: 'postgres' }>,
  status: boolean,
  progress: (m: Migration) => void,
) {
  const stores = await createPostgresStores({
    connectionString: target.connectionString,
    ...(target.schema === undefined ? {} : { schema: target.schema }),
    maxConnections: 1,
  })
  try {
    if (status) return { status: await stores.migrationStatus(), version: 0 }
    const result = await stores.migrate({ onApplied: progress })
    return { status: undefined, version: result.version }
  } finally {
    await stores.close()
  }
}

/**
 * `jwks-bridge migrate`. Exit 0 when the database is at the latest version (or, with --status,
 * could be read), 1 when it cannot be reached or migrated, 2 on a usage error.
 */
export async function runMigrate(argv: readonly string[], context: CliContext): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: MIGRATE_HELP, stderr: '' }
  let target: Target
  let status: boolean
  try {
    const { values, positionals } = parseCommandArgs(argv, MIGRATE_OPTIONS)
    if (positionals.length > 0) throw new UsageError('migrate takes no arguments, only options')
    target = resolveTarget(values, context.env)
    status = values.status === true
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('migrate', error.message, MIGRATE_HELP)
    throw error
  }
  const lines: string[] = []
  const progress = (migration: Migration) => lines.push(`applied ${migration.version}: ${migration.name}`)
  try {
    const result =
      target.kind === 'sqlite'
        ? await runSqlite(target.path, status, progress)
        : await runPostgres(target, status, progress)
    if (result.status !== undefined)
      return { exitCode: 0, stdout: statusReport(target, result.status), stderr: '' }
    const summary =
      lines.length === 0
        ? `${where(target)}: nothing to apply, at version ${result.version}`
        : `${where(target)}: now at version ${result.version}`
    return { exitCode: 0, stdout: `${[...lines, summary].join('\n')}\n`, stderr: '' }
  } catch (error) {
    if (isJwksBridgeError(error)) {
      return { exitCode: 1, stdout: '', stderr: `${error.code}: ${error.message}\n` }
    }
    throw error
  }
}
