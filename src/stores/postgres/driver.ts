import { loadDriver } from '../load-driver.js'

/** What a query returns, as node-postgres (`pg` 8) gives it. */
export interface PgResult {
  rows: unknown[]
  rowCount: number | null
}

/**
 * The part of a `pg` 8 `Pool` (or anything shaped like it) the stores use. Declared here rather
 * than imported so that jwks-bridge's type declarations never require pg's types.
 */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<PgResult>
  connect(): Promise<PgPoolClient>
  end(): Promise<void>
}

export interface PgPoolClient {
  query(text: string, values?: unknown[]): Promise<PgResult>
  /** Pass an error to discard the connection instead of returning it to the pool. */
  release(error?: Error | boolean): void
}

interface OwnPool extends PgPool {
  on(event: 'error', listener: (error: Error) => void): unknown
}

type PoolConstructor = new (config: {
  connectionString: string
  connectionTimeoutMillis: number
  query_timeout: number
  max: number
  application_name: string
}) => OwnPool

/**
 * Loads pg only when a pool has to be created from a connection string: it is an optional peer
 * dependency, and `import 'jwks-bridge'` must work without it.
 */
export async function createPool(options: {
  connectionString: string
  connectionTimeoutMs: number
  queryTimeoutMs: number
  maxConnections: number
}): Promise<PgPool> {
  const { Pool } = await loadDriver(
    async () => ((await import('pg')) as unknown as { default: { Pool: PoolConstructor } }).default,
    'PostgreSQL',
    'pg 8: npm install pg@8',
  )
  const pool = new Pool({
    connectionString: options.connectionString,
    // Bounded: with the database down, a request fails after this long instead of hanging.
    connectionTimeoutMillis: options.connectionTimeoutMs,
    // Client side, so it also ends a wait on a server that accepts nothing (hung, stopped, a dead
    // host whose TCP connection still looks open): pg fails the query with 'Query read timeout'
    // and the pool, given that error on release, destroys the connection instead of reusing it.
    query_timeout: options.queryTimeoutMs,
    max: options.maxConnections,
    application_name: 'jwks-bridge',
  })
  // An idle connection that the server drops (restart, failover) is reported here; without a
  // listener Node would crash the process. The pool discards that connection and opens a new one
  // for the next query, whose own failure, if any, reaches the caller.
  pool.on('error', () => {})
  return pool
}

/** A schema name that can be quoted safely; anything else is refused. */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** `"schema".name`, or just `name` (the connection's search_path decides) without a schema. */
export function tableName(schema: string | undefined, name: string): string {
  return schema === undefined ? name : `"${schema}".${name}`
}

/** node-postgres returns bigint columns as strings (a custom type parser may give numbers). */
export function toMs(value: unknown): number {
  return Number(value)
}
