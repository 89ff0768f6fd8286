import type { Cluster, Redis } from 'ioredis'
import type { IdentityStore, SessionStore } from '../stores/types.js'
import type { AppConfig } from './config.js'

/** A dependency `/readyz` checks, by the name it reports. */
export type Dependency = 'sqlite' | 'postgres' | 'redis'

/** The app's stores and their lifecycle, whichever backends the configuration picks. */
export interface AppStores {
  identities: IdentityStore
  sessions: SessionStore
  /** Where each part lives, for the start-up line. */
  description: string
  /** The Redis client when REDIS_URL or REDIS_CLUSTER_NODES is set (the key set cache shares it). */
  redis: Redis | Cluster | undefined
  /** Problems found at start that do not stop the app (logged by the server). */
  warnings: string[]
  /** Throws when a backing server is unreachable (for /readyz). */
  ping(): Promise<void>
  /**
   * Pings each dependency separately, each bounded by `timeoutMs`, and says which one failed
   * (never why: a driver's message may quote data or a connection string).
   */
  check(timeoutMs?: number): Promise<Record<string, 'ok' | 'failed'>>
  close(): Promise<void>
}

async function within(ping: () => Promise<void>, timeoutMs: number): Promise<'ok' | 'failed'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'failed'>((resolve) => {
    timer = setTimeout(() => resolve('failed'), timeoutMs)
  })
  try {
    return await Promise.race([ping().then(() => 'ok' as const), late])
  } catch {
    return 'failed'
  } finally {
    clearTimeout(timer)
  }
}

/**
 * SQLite under ./data/ by default (migrated at start: the embedded default needs no step);
 * PostgreSQL with DATABASE_URL (migrations applied at start too, so `npm start` just works; run
 * `jwks-bridge migrate` yourself in deployments that forbid schema changes at start), in
 * DATABASE_SCHEMA when set; sessions and the replay guard in Redis with REDIS_URL (or a Redis Cluster
 * with REDIS_CLUSTER_NODES), every key under REDIS_PREFIX.
 */
export async function openAppStores(config: AppConfig): Promise<AppStores> {
  const closers: (() => Promise<void>)[] = []
  const pings = new Map<Dependency, () => Promise<void>>()
  let identities: IdentityStore
  let sessions: SessionStore
  let description: string
  let redisClient: Redis | Cluster | undefined
  const warnings: string[] = []
  try {
    if (config.databaseUrl !== undefined) {
      const { createPostgresStores } = await import('../stores/postgres/stores.js')
      const stores = await createPostgresStores({
        connectionString: config.databaseUrl,
        migrate: true,
        ...(config.databaseSchema === undefined ? {} : { schema: config.databaseSchema }),
      })
      closers.push(() => stores.close())
      pings.set('postgres', () => stores.ping())
      identities = stores.identities
      sessions = stores.sessions
      description =
        config.databaseSchema === undefined ? 'PostgreSQL' : `PostgreSQL (schema ${config.databaseSchema})`
    } else {
      const { createSqliteStores } = await import('../stores/sqlite/stores.js')
      const stores = await createSqliteStores({ path: config.sqlitePath })
      closers.push(() => stores.close())
      pings.set('sqlite', () => stores.ping())
      identities = stores.identities
      sessions = stores.sessions
      description = `SQLite (${config.sqlitePath})`
    }
    if (config.redisUrl !== undefined || config.redisClusterNodes !== undefined) {
      const { openRedisClient } = await import('./redis-client.js')
      const redisTarget =
        config.redisClusterNodes !== undefined
          ? { seeds: config.redisClusterNodes }
          : { url: config.redisUrl as string }
      const { client, connect, disconnect } = await openRedisClient(redisTarget)
      // Closed before connecting: if connect() fails, the client must not keep retrying in the background.
      closers.push(async () => {
        disconnect()
      })
      await connect()
      const { createRedisStores } = await import('../stores/redis/stores.js')
      const redis = createRedisStores({ client, prefix: config.redisPrefix ?? 'jwks-bridge:' })
      closers.unshift(() => redis.close())
      // Replay records and sessions are keys with a time-to-live: a Redis that evicts keys under
      // memory pressure could drop a replay record and let its token sign in again.
      const eviction = await redis.checkEviction({ refuse: config.redisEviction === 'refuse' })
      if (eviction.evicts) {
        warnings.push(
          `Redis maxmemory-policy is ${eviction.policy}: Redis may evict replay records and sessions; set maxmemory-policy noeviction (or REDIS_EVICTION=refuse to refuse to start)`,
        )
      }
      pings.set('redis', () => redis.ping())
      sessions = redis.sessions
      redisClient = client
      description +=
        config.redisClusterNodes === undefined ? ', sessions in Redis' : ', sessions in a Redis Cluster'
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()))
    throw error
  }
  return {
    identities,
    sessions,
    description,
    redis: redisClient,
    warnings,
    async ping() {
      await Promise.all([...pings.values()].map((ping) => ping()))
    },
    async check(timeoutMs = 2000) {
      const names = [...pings.keys()]
      const results = await Promise.all([...pings.values()].map((ping) => within(ping, timeoutMs)))
      return Object.fromEntries(names.map((name, i) => [name, results[i] as 'ok' | 'failed']))
    },
    async close() {
      // In order: the stores first, then the connections they used.
      for (const close of closers) await close().catch(() => {})
    },
  }
}
