import { invalidOptions } from '../errors.js'
import { type CachedKeySet, isCachedKeySet, type KeySetCache } from './key-set-cache.js'

/**
 * The two commands the cache needs, as ioredis spells them (`set(key, value, 'PX', ms)`).
 * For node-redis v4+, pass `{ get: (k) => client.get(k), set: (k, v, _px, ms) => client.set(k, v, { PX: ms }) }`.
 */
export interface RedisLikeClient {
  get(key: string): Promise<string | null>
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>
}

export interface RedisKeySetCacheOptions {
  client: RedisLikeClient
  /** Key prefix. Default `jwks-bridge:jwks:`. */
  prefix?: string
  /** Called when Redis fails; the verifier then carries on with its own fetches. */
  onError?: (error: unknown) => void
}

/**
 * A key set cache shared through Redis. A Redis failure never fails a verification: reads fall back
 * to fetching, writes are best effort. What is read back is checked for shape before use, and its
 * keys go through the same import checks as a fetched document.
 */
export function createRedisKeySetCache(options: RedisKeySetCacheOptions): KeySetCache {
  const { client } = options
  if (typeof client?.get !== 'function' || typeof client?.set !== 'function') {
    throw invalidOptions('client must have get(key) and set(key, value, "PX", ms)')
  }
  const prefix = options.prefix ?? 'jwks-bridge:jwks:'
  const onError = options.onError ?? (() => {})
  return {
    async get(url: string): Promise<CachedKeySet | undefined> {
      try {
        const text = await client.get(prefix + url)
        if (text === null) return undefined
        const value: unknown = JSON.parse(text)
        return isCachedKeySet(value) ? value : undefined
      } catch (error) {
        onError(error)
        return undefined
      }
    },
    async set(url: string, entry: CachedKeySet, keepMs: number): Promise<void> {
      try {
        await client.set(prefix + url, JSON.stringify(entry), 'PX', Math.max(1, Math.ceil(keepMs)))
      } catch (error) {
        onError(error)
      }
    },
  }
}
