import {
  booleanOption,
  functionOption,
  milliseconds,
  optionError,
  optionNames,
  positiveInteger,
  readOptions,
} from '../../lib/options.js'
import { guarded } from '../failure.js'
import type { MigrateOptions, MigrateResult, MigrationStatus } from '../migrations.js'
import type { StoreLifecycle } from '../types.js'
import { createPool, type PgPool, SCHEMA_NAME } from './driver.js'
import { PostgresIdentityStore } from './identity-store.js'
import { migratePostgres, postgresMigrationStatus } from './migrate.js'
import { PostgresSessionStore } from './session-store.js'

export interface PostgresStoresOptions {
  /** A `pg` Pool (or one shaped like it). It stays yours: `close()` does not end it. */
  pool?: PgPool
  /** Or a connection string (`postgres://user@host/db`): the stores create and own a pool. */
  connectionString?: string
  /**
   * The schema holding the tables, created by the migrations if needed. Default: none, the
   * connection's search_path decides (usually `public`).
   */
  schema?: string
  /** Apply pending migrations when the stores are created. Default false: run `jwks-bridge migrate`. */
  migrate?: boolean
  /** Own pool only: how long to wait for a connection before failing. Default 5000. */
  connectionTimeoutMs?: number
  /**
   * Own pool only: how long one query may wait for its answer before failing with
   * ERR_STORE_UNAVAILABLE (pg's client-side `query_timeout`). Bounds a request on a connection to a
   * server that hangs or whose host vanished; the connection that timed out is discarded. Migrations
   * run through the same pool under the same limit (each of their statements takes milliseconds).
   * Default 5000.
   */
  queryTimeoutMs?: number
  /** Own pool only: most connections. Default 10. */
  maxConnections?: number
  /** The clock the replay guard compares expiries with. Default `Date.now`. */
  nowMs?: () => number
}

export interface PostgresStores extends StoreLifecycle {
  identities: PostgresIdentityStore
  sessions: PostgresSessionStore
  pool: PgPool
  /** Applies pending migrations (a no-op when there are none). */
  migrate(options?: MigrateOptions): Promise<MigrateResult>
  migrationStatus(): Promise<MigrationStatus>
}

const WHERE = 'createPostgresStores'
const POSTGRES_KEYS = optionNames<PostgresStoresOptions>()([
  'pool',
  'connectionString',
  'schema',
  'migrate',
  'connectionTimeoutMs',
  'queryTimeoutMs',
  'maxConnections',
  'nowMs',
])

/**
 * Identities, sessions and the replay guard in PostgreSQL (`pg` 8, an optional peer dependency
 * loaded only when a connection string is given). For several instances behind a load balancer.
 * Nothing is sent to the server until the first operation (or `migrate: true`).
 *
 * @example
 * const stores = await createPostgresStores({ connectionString: process.env.DATABASE_URL })
 */
export async function createPostgresStores(options: PostgresStoresOptions): Promise<PostgresStores> {
  // Unknown names are refused: a misspelt `queryTimoutMs` would otherwise leave queries unbounded.
  readOptions(WHERE, options, POSTGRES_KEYS)
  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw optionError(WHERE, 'give exactly one of pool and connectionString')
  }
  if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
    throw optionError(WHERE, 'connectionString must be a string')
  }
  const { schema } = options
  if (schema !== undefined && (typeof schema !== 'string' || !SCHEMA_NAME.test(schema))) {
    throw optionError(
      WHERE,
      'schema must be a plain identifier: letters, digits and _, at most 63, not starting with a digit',
    )
  }
  const connectionTimeoutMs = milliseconds(WHERE, 'connectionTimeoutMs', options.connectionTimeoutMs, 5000)
  const queryTimeoutMs = milliseconds(WHERE, 'queryTimeoutMs', options.queryTimeoutMs, 5000)
  const maxConnections = positiveInteger(WHERE, 'maxConnections', options.maxConnections, 10)
  const migrate = booleanOption(WHERE, 'migrate', options.migrate, false)
  const nowMs = functionOption<() => number>(WHERE, 'nowMs', options.nowMs)
  const owned = options.pool === undefined
  const pool =
    options.pool ??
    (await createPool({
      connectionString: options.connectionString as string,
      connectionTimeoutMs,
      queryTimeoutMs,
      maxConnections,
    }))
  const identities = new PostgresIdentityStore(pool, schema)
  const stores: PostgresStores = {
    identities,
    sessions: new PostgresSessionStore(pool, {
      identities,
      ...(schema === undefined ? {} : { schema }),
      ...(nowMs === undefined ? {} : { nowMs }),
    }),
    pool,
    async ping() {
      await guarded('PostgreSQL', 'ping', () => pool.query('SELECT 1'))
    },
    async close() {
      if (owned) await pool.end()
    },
    migrate: (migrateOptions = {}) =>
      migratePostgres(pool, schema === undefined ? migrateOptions : { ...migrateOptions, schema }),
    migrationStatus: () => postgresMigrationStatus(pool, schema),
  }
  if (migrate) {
    try {
      await stores.migrate()
    } catch (error) {
      await stores.close()
      throw error
    }
  }
  return stores
}
