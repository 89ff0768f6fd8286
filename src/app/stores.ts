import type { IdentityStore, SessionStore } from '../stores/types.js'
import type { AppConfig } from './config.js'

/** The app's stores and their lifecycle, whichever backends the configuration picks. */
export interface AppStores {
  identities: IdentityStore
  sessions: SessionStore
  /** Where each part lives, for the start-up line. */
  description: string
  /** Throws when a backing server is unreachable (for /readyz). */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * SQLite under ./data/ by default (migrated at start: the embedded default needs no step);
 * PostgreSQL with DATABASE_URL (migrations applied at start too, so `npm start` just works; run
 * `jwks-bridge migrate` yourself in deployments that forbid schema changes at start);
 * sessions and the replay guard in Redis with REDIS_URL.
 */
export async function openAppStores(config: AppConfig): Promise<AppStores> {
  const closers: (() => Promise<void>)[] = []
  const pings: (() => Promise<void>)[] = []
  let identities: IdentityStore
  let sessions: SessionStore
  let description: string
  try {
    if (config.databaseUrl !== undefined) {
      const { createPostgresStores } = await import('../stores/postgres/stores.js')
      const stores = await createPostgresStores({ connectionString: config.databaseUrl, migrate: true })
      closers.push(() => stores.close())
      pings.push(() => stores.ping())
      identities = stores.identities
      sessions = stores.sessions
      description = 'PostgreSQL'
    } else {
      const { createSqliteStores } = await import('../stores/sqlite/stores.js')
      const stores = await createSqliteStores({ path: config.sqlitePath })
      closers.push(() => stores.close())
      pings.push(() => stores.ping())
      identities = stores.identities
      sessions = stores.sessions
      description = `SQLite (${config.sqlitePath})`
    }
    if (config.redisUrl !== undefined) {
      const { Redis } = await import('ioredis')
      const client = new Redis(config.redisUrl, {
        // Fail fast while Redis is away instead of queueing requests (they answer 503).
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        commandTimeout: 2000,
        enableOfflineQueue: false,
        lazyConnect: true,
      })
      await client.connect()
      const { createRedisStores } = await import('../stores/redis/stores.js')
      const redis = createRedisStores({ client, prefix: 'jwks-bridge:' })
      closers.push(async () => {
        await redis.close()
        client.disconnect()
      })
      pings.push(() => redis.ping())
      sessions = redis.sessions
      description += ', sessions in Redis'
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()))
    throw error
  }
  return {
    identities,
    sessions,
    description,
    async ping() {
      await Promise.all(pings.map((ping) => ping()))
    },
    async close() {
      await Promise.allSettled(closers.map((close) => close()))
    },
  }
}
