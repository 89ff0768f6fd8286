import { functionOption, optionNames, readOptions } from '../../lib/options.js'
import { MemoryIdentityStore } from './identity-store.js'
import { MemorySessionStore, type MemorySessionStoreOptions } from './session-store.js'

const WHERE = 'createMemoryStores'
const MEMORY_KEYS = optionNames<MemorySessionStoreOptions>()(['nowMs'])

/**
 * Identities and sessions in memory: for unit tests and trying things out. Nothing survives a
 * restart, and nothing is shared between processes (the replay guard included).
 *
 * @example
 * const { identities, sessions } = createMemoryStores()
 */
export function createMemoryStores(options: MemorySessionStoreOptions = {}): {
  identities: MemoryIdentityStore
  sessions: MemorySessionStore
  ping(): Promise<void>
  close(): Promise<void>
} {
  // Unknown names are refused, as by every factory: a typo is a mistake, not a default.
  readOptions(WHERE, options, MEMORY_KEYS, { optional: true })
  functionOption(WHERE, 'nowMs', options.nowMs)
  return {
    identities: new MemoryIdentityStore(),
    sessions: new MemorySessionStore(options),
    async ping() {},
    async close() {},
  }
}
