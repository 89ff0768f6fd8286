// A Redis that may evict keys can drop replay records (a used token would sign in again) and session
// hashes. The policy is read at start, from a real redis-server: a private one on a free loopback
// port (test/helpers/private-services.ts), so that changing its maxmemory-policy touches no other
// test's Redis.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { readConfig } from '../../src/app/config.ts'
import { openAppStores } from '../../src/app/stores.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { parseEvictionPolicy, policyEvicts } from '../../src/stores/redis/eviction.ts'
import { createRedisStores } from '../../src/stores/redis/stores.ts'
import { type PrivateService, startPrivateRedis } from '../helpers/private-services.ts'

let server: PrivateService
let client: Redis

before(async () => {
  server = await startPrivateRedis()
  client = new Redis(server.url, { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
})
after(async () => {
  client?.disconnect()
  await server?.stop()
})

async function withPolicy(policy: string, run: () => Promise<void>): Promise<void> {
  const before = (await client.config('GET', 'maxmemory-policy')) as string[]
  await client.config('SET', 'maxmemory-policy', policy)
  try {
    await run()
  } finally {
    await client.config('SET', 'maxmemory-policy', before[1] as string)
  }
}

describe('Redis eviction policy (replay records must not be evicted)', () => {
  it('noeviction: nothing to report', async () => {
    await withPolicy('noeviction', async () => {
      const stores = createRedisStores({ client, prefix: 'eviction-test:' })
      assert.deepEqual(await stores.checkEviction(), { policy: 'noeviction', evicts: false })
      assert.deepEqual(await stores.checkEviction({ refuse: true }), { policy: 'noeviction', evicts: false })
    })
  })

  for (const policy of ['allkeys-lru', 'volatile-ttl', 'allkeys-random']) {
    it(`${policy}: reported, and refused with refuse: true (ERR_STORE_UNAVAILABLE naming the policy)`, async () => {
      await withPolicy(policy, async () => {
        const stores = createRedisStores({ client, prefix: 'eviction-test:' })
        assert.deepEqual(await stores.checkEviction(), { policy, evicts: true })
        await assert.rejects(
          () => stores.checkEviction({ refuse: true }),
          (error: unknown) =>
            isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE') &&
            error.message.includes(policy) &&
            error.message.includes('noeviction'),
        )
      })
    })
  }

  it('the reference app warns at start (REDIS_EVICTION=warn, the default) and refuses to start with REDIS_EVICTION=refuse', async () => {
    await withPolicy('allkeys-lru', async () => {
      const env = { REDIS_URL: server.url, SQLITE_PATH: ':memory:' }
      const stores = await openAppStores(readConfig(env))
      try {
        assert.equal(stores.warnings.length, 1)
        assert.match(stores.warnings[0] as string, /maxmemory-policy is allkeys-lru/)
      } finally {
        await stores.close()
      }
      await assert.rejects(
        () => openAppStores(readConfig({ ...env, REDIS_EVICTION: 'refuse' })),
        (error: unknown) => isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'),
      )
    })
    await withPolicy('noeviction', async () => {
      const stores = await openAppStores(readConfig({ REDIS_URL: server.url, SQLITE_PATH: ':memory:' }))
      await stores.close()
      assert.deepEqual(stores.warnings, [])
    })
  })

  it('reads the policy from INFO memory, and only noeviction keeps every key', () => {
    assert.equal(
      parseEvictionPolicy('# Memory\r\nused_memory:1\r\nmaxmemory_policy:volatile-lfu\r\n'),
      'volatile-lfu',
    )
    assert.equal(parseEvictionPolicy('# Memory\r\nused_memory:1\r\n'), undefined)
    assert.equal(policyEvicts('noeviction'), false)
    for (const policy of [
      'allkeys-lru',
      'allkeys-lfu',
      'allkeys-random',
      'volatile-lru',
      'volatile-lfu',
      'volatile-random',
      'volatile-ttl',
    ]) {
      assert.equal(policyEvicts(policy), true, policy)
    }
  })
})
