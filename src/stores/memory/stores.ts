import { MemoryIdentityStore } from './identity-store.js'
import { MemorySessionStore, type MemorySessionStoreOptions } from './session-store.js'

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
  return {
    identities: new MemoryIdentityStore(),
    sessions: new MemorySessionStore(options),
    async ping() {},
    async close() {},
  }
}
