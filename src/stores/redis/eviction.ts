/**
 * Redis's eviction policy against the replay guard. Under memory pressure a Redis with any policy but
 * `noeviction` deletes keys by itself: `allkeys-*` any key, `volatile-*` keys with a time-to-live,
 * which is every replay record and every session hash here. An evicted replay record lets its token
 * sign in again; an evicted session hash signs its user out while its index entries stay. So the
 * policy is read at start, and a risky one is reported (or refused, when asked).
 */
import { JwksBridgeError } from '../../errors.js'
import { guarded } from '../failure.js'
import type { RedisStoreClient } from './client.js'

export interface EvictionCheck {
  /** `maxmemory-policy` as the server reports it; undefined when it does not say (an old or odd server). */
  policy: string | undefined
  /** True when Redis may delete the store's keys by itself. */
  evicts: boolean
}

/** Whether a policy lets Redis delete keys that the store relies on. Only `noeviction` keeps them all. */
export function policyEvicts(policy: string): boolean {
  return policy !== 'noeviction'
}

/** Reads `maxmemory_policy` from `INFO memory` (which works where CONFIG is disabled, as on managed Redis). */
export function parseEvictionPolicy(info: string): string | undefined {
  const match = /^maxmemory_policy:([a-z-]+)\r?$/m.exec(info)
  return match?.[1]
}

export async function checkEviction(
  client: RedisStoreClient,
  options: { refuse?: boolean } = {},
): Promise<EvictionCheck> {
  let servers: { info(section: string): Promise<string> }[]
  // A cluster: every primary holds some of the keys, so every primary's policy counts.
  if (typeof client.nodes === 'function') servers = client.nodes('master')
  else if (typeof client.info === 'function') servers = [client as { info(section: string): Promise<string> }]
  else return { policy: undefined, evicts: false }
  const texts = await guarded('Redis', 'read the eviction policy', () =>
    Promise.all(servers.map((server) => server.info('memory'))),
  )
  const policies = texts.map((text) => parseEvictionPolicy(String(text)))
  // The first risky policy if any primary has one, else what they report.
  const policy =
    policies.find((p) => p !== undefined && policyEvicts(p)) ?? policies.find((p) => p !== undefined)
  const evicts = policy !== undefined && policyEvicts(policy)
  if (evicts && options.refuse === true) {
    throw new JwksBridgeError(
      'ERR_STORE_UNAVAILABLE',
      `Redis store: maxmemory-policy is ${policy}, so Redis may evict replay records and sessions; set maxmemory-policy noeviction (or use a Redis of its own)`,
      { reason: 'eviction policy' },
    )
  }
  return { policy, evicts }
}
