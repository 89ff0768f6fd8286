import { createHash } from 'node:crypto'

/**
 * The Redis commands the session store uses, as ioredis (5 or later) spells them; an ioredis
 * `Redis` instance fits as is. Declared here so that jwks-bridge never imports a Redis client.
 */
export interface RedisStoreClient {
  hgetall(key: string): Promise<Record<string, string>>
  set(
    key: string,
    value: string,
    millisecondsToken: 'PX',
    milliseconds: number,
    nx: 'NX',
  ): Promise<string | null>
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>
  ping(): Promise<string>
  /** `INFO section`; optional: without it the eviction policy cannot be checked (see eviction.ts). */
  info?(section: string): Promise<string>
  /** An ioredis `Cluster`'s primaries (`nodes('master')`): the eviction policy is read from each. */
  nodes?(role: 'master'): { info(section: string): Promise<string> }[]
}

/**
 * A Lua script run by its SHA-1 (EVALSHA), loaded with EVAL the first time a server lacks it. Its
 * keys go in KEYS: a Redis Cluster client sends the script to the primary that serves them.
 */
export class Script {
  readonly #source: string
  readonly #sha1: string

  constructor(source: string) {
    this.#source = source
    this.#sha1 = createHash('sha1').update(source).digest('hex')
  }

  async run(client: RedisStoreClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha1, keys.length, ...keys, ...args)
    } catch (error) {
      // After a restart or SCRIPT FLUSH the server has forgotten the script: send it once.
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return client.eval(this.#source, keys.length, ...keys, ...args)
      }
      throw error
    }
  }
}
