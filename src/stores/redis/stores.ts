import { functionOption, integerInRange, optionError, optionNames, readOptions } from '../../lib/options.js'
import { guarded } from '../failure.js'
import type { StoreLifecycle } from '../types.js'
import type { RedisStoreClient } from './client.js'
import { checkEviction, type EvictionCheck } from './eviction.js'
import { prefixSlots } from './layout.js'
import { RedisSessionStore, type RedisSessionStoreOptions } from './session-store.js'

export interface RedisStoresOptions extends RedisSessionStoreOptions {
  /**
   * An ioredis (5 or later) client, `Redis` or `Cluster`, or one with the same commands. It stays
   * yours: `close()` does not disconnect it. Give it bounded failure options (`maxRetriesPerRequest`, `connectTimeout`,
   * `commandTimeout`, `enableOfflineQueue: false`) so that a Redis outage fails requests quickly
   * instead of queueing them, and `autoResendUnfulfilledCommands: false` so that a write whose reply
   * was lost is not run twice (a replayed SET NX would refuse a genuine first sign-in). For a
   * `Cluster`, put the per-connection ones in `redisOptions` (see docs/redis-cluster.md).
   */
  client: RedisStoreClient
}

const WHERE = 'createRedisStores'
const REDIS_KEYS = optionNames<RedisStoresOptions>()(['client', 'prefix', 'nowMs', 'deleteBatchSize'])

export interface RedisStores extends StoreLifecycle {
  sessions: RedisSessionStore
  /**
   * Reads Redis's `maxmemory-policy`. Any policy but `noeviction` lets Redis delete replay records (a
   * used token would sign in again) and sessions by itself: `evicts` is then true, and with
   * `refuse: true` it throws ERR_STORE_UNAVAILABLE instead. Call it at start.
   */
  checkEviction(options?: { refuse?: boolean }): Promise<EvictionCheck>
}

/**
 * Sessions and the replay guard in Redis (no identities: keep those in SQLite or PostgreSQL).
 *
 * @example
 * import { Redis } from 'ioredis'
 * const { sessions } = createRedisStores({ client: new Redis(process.env.REDIS_URL), prefix: 'myapp:' })
 * // or on a Redis Cluster (sessions spread over the primaries by shard, replay records by key):
 * const cluster = new Cluster([{ host: '10.0.0.1', port: 6379 }], { redisOptions: { autoResendUnfulfilledCommands: false } })
 * const { sessions } = createRedisStores({ client: cluster, prefix: 'myapp:' })
 */
export function createRedisStores(options: RedisStoresOptions): RedisStores {
  // Unknown names are refused: a misspelt `prefx` would otherwise share the default key prefix.
  readOptions(WHERE, options, REDIS_KEYS)
  const client = options.client
  for (const command of ['hgetall', 'set', 'eval', 'evalsha', 'ping'] as const) {
    if (typeof client?.[command] !== 'function') {
      throw optionError(WHERE, `client must be an ioredis-compatible client (it has no ${command}())`)
    }
  }
  if (options.prefix !== undefined && typeof options.prefix !== 'string') {
    throw optionError(WHERE, 'prefix must be a string')
  }
  // Such a prefix makes Redis hash whole key names, so a shard's keys would lie in different slots and
  // a Redis Cluster would refuse every script (layout.ts).
  if (options.prefix !== undefined && prefixSlots(options.prefix) === 'broken') {
    throw optionError(
      WHERE,
      'prefix must not contain "{}" before any other "}" (it breaks Redis Cluster hash tags)',
    )
  }
  integerInRange(WHERE, 'deleteBatchSize', options.deleteBatchSize, 500, 1, 10_000)
  functionOption(WHERE, 'nowMs', options.nowMs)
  return {
    sessions: new RedisSessionStore(client, options),
    async ping() {
      await guarded('Redis', 'ping', () => client.ping())
    },
    async close() {},
    checkEviction: (checkOptions) => checkEviction(client, checkOptions),
  }
}
