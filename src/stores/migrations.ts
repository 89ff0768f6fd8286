import { JwksBridgeError } from '../errors.js'

/** One step of a store's schema. Versions only grow; a released migration is never edited. */
export interface Migration {
  version: number
  /** What it does, printed by `jwks-bridge migrate`. */
  name: string
  /** The SQL, run as one script inside the migration transaction. */
  sql: string
}

/** A migration that was applied, as recorded in `schema_migrations`. */
export interface AppliedMigration {
  version: number
  name: string
  appliedAtMs: number
}

export interface MigrationStatus {
  /** Highest applied version, 0 for an empty database. */
  currentVersion: number
  /** Highest version this code knows. */
  latestVersion: number
  applied: AppliedMigration[]
  pending: Migration[]
}

/** What `migrate()` reports as it goes, for the CLI's progress lines. */
export interface MigrateOptions {
  onApplied?: (migration: Migration) => void
}

export interface MigrateResult {
  applied: Migration[]
  /** Version after the run. */
  version: number
}

/** Checks a list of migrations is well formed: versions 1, 2, 3 ... in order, nothing missing. */
export function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new TypeError(`migration ${index} has version ${migration.version}, expected ${index + 1}`)
    }
  })
}

/**
 * Compares what the database has applied with what the code knows. Refuses a database that has a
 * version this code does not know: it was migrated by a newer jwks-bridge, and this code would read
 * and write tables whose meaning it does not know (downgrades are not supported).
 */
export function planMigrations(
  known: readonly Migration[],
  applied: readonly AppliedMigration[],
  where: string,
): MigrationStatus {
  const latestVersion = known.length === 0 ? 0 : known[known.length - 1]!.version
  const appliedVersions = new Set(applied.map((row) => row.version))
  const currentVersion = applied.reduce((max, row) => Math.max(max, row.version), 0)
  if (currentVersion > latestVersion) {
    throw new JwksBridgeError(
      'ERR_STORE_UNAVAILABLE',
      `${where} schema is at version ${currentVersion}, newer than this jwks-bridge knows (${latestVersion}); upgrade jwks-bridge, downgrades are not supported`,
      { reason: 'schema newer than code' },
    )
  }
  return {
    currentVersion,
    latestVersion,
    applied: [...applied].sort((a, b) => a.version - b.version),
    pending: known.filter((migration) => !appliedVersions.has(migration.version)),
  }
}

/** The error a store gives when its tables are behind the code and it was not asked to migrate. */
export function schemaBehind(where: string, status: MigrationStatus): JwksBridgeError {
  return new JwksBridgeError(
    'ERR_STORE_UNAVAILABLE',
    `${where} schema is at version ${status.currentVersion}, this jwks-bridge needs ${status.latestVersion}; run 'jwks-bridge migrate' or create the stores with migrate: true`,
    { reason: 'schema behind code' },
  )
}
