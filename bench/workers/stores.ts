// The stores of the workers benchmark: what a deployment of `serve --workers` shares between its
// processes, one set per app so that each app can use each handoff token once. The machine's
// PostgreSQL and Redis serve other work too: the benchmark writes only into a schema and a key
// prefix of its own, and drops them afterwards.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { POSTGRES_URL } from '../lib/stores-cases.ts'

export const STORE_KINDS = ['sqlite', 'postgres', 'postgres+redis'] as const
export type StoreKind = (typeof STORE_KINDS)[number]

export const STORE_LABEL: Record<StoreKind, string> = {
  sqlite: 'SQLite (one file shared by the workers, WAL)',
  postgres: 'PostgreSQL (identities and sessions)',
  'postgres+redis': 'PostgreSQL (identities), Redis (sessions, replay guard, key set cache)',
}

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const tag = `${process.pid}_${randomBytes(4).toString('hex')}`

export interface AppStore {
  /** The app's environment for it (DATABASE_URL, DATABASE_SCHEMA, REDIS_URL, REDIS_PREFIX, SQLITE_PATH). */
  env: Record<string, string>
  /** Removes what the app wrote (its SQLite file goes with the benchmark's folder). */
  drop(): Promise<void>
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

async function dropPrefix(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true })
  client.on('error', () => {})
  try {
    await client.connect()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await client.del(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

/** Fails early, with what to do, when the store's servers are not there. */
export async function checkReachable(kind: StoreKind): Promise<void> {
  if (kind === 'sqlite') return
  try {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 })
    await client.connect()
    await client.end()
  } catch (error) {
    throw new Error(`BENCH_STORE ${kind}: PostgreSQL at BENCH_DATABASE_URL: ${(error as Error).message}`)
  }
  if (kind === 'postgres+redis') {
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
    } catch (error) {
      throw new Error(`BENCH_STORE ${kind}: Redis at BENCH_REDIS_URL: ${(error as Error).message}`)
    } finally {
      client.disconnect()
    }
  }
}

/** A fresh store of this kind for one app (`name`: letters, digits and _); `dir` holds SQLite files. */
export function appStore(kind: StoreKind, name: string, dir: string): AppStore {
  if (kind === 'sqlite') return { env: { SQLITE_PATH: join(dir, `${name}.sqlite`) }, drop: async () => {} }
  // The app creates the schema when it migrates at start.
  const schema = `jb_bench_workers_${tag}_${name}`.toLowerCase()
  const env: Record<string, string> = { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema }
  if (kind === 'postgres') return { env, drop: () => dropSchema(schema) }
  const prefix = `jwks-bridge-bench-workers:${tag}:${name}:`
  return {
    env: { ...env, REDIS_URL, REDIS_PREFIX: prefix },
    async drop() {
      await Promise.all([dropSchema(schema), dropPrefix(prefix)])
    },
  }
}
