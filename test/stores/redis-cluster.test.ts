// needs: redis
// The Redis store on a real Redis Cluster: three primaries (no replicas, no persistence) started here
// from the installed redis-server on free loopback ports and joined with `redis-cli --cluster create`,
// reached through the reference app's own client (src/app/redis-client.ts, an ioredis Cluster). The
// conformance suite; sessions and replay records spread over the primaries while every script stays
// in one slot; the shared key set cache; every primary's eviction policy read; and a primary restarted
// under load. Everything started here is stopped at the end.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type Cluster, Redis } from 'ioredis'
import { openRedisClient, parseClusterSeeds } from '../../src/app/redis-client.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createRedisKeySetCache } from '../../src/keys/redis-key-set-cache.ts'
import { SHARD_COUNT, shardKeys, shardOf } from '../../src/stores/redis/layout.ts'
import { createRedisStores } from '../../src/stores/redis/stores.ts'
import type { SessionRecord } from '../../src/stores/types.ts'
import { describeSessionStoreConformance } from '../../src/testing/store-conformance.ts'
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../helpers/private-services.ts'

let cluster: PrivateRedisCluster | undefined
let client: Cluster | undefined
const direct: Redis[] = []

/** A plain client to one node: sees only that primary's keys. */
const node = (port: number): Redis => {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, connectTimeout: 1000 })
  c.on('error', () => {})
  direct.push(c)
  return c
}

before(async () => {
  cluster = await startPrivateRedisCluster(3)
  const opened = await openRedisClient({ seeds: cluster.seeds })
  client = opened.client as Cluster
  await opened.connect()
})

after(async () => {
  client?.disconnect()
  for (const c of direct) c.disconnect()
  await cluster?.stop()
})

const theClient = (): Cluster => client as Cluster
const nodes = (): PrivateRedisCluster['nodes'] => (cluster as PrivateRedisCluster).nodes

const session = (overrides: Partial<SessionRecord> = {}): SessionRecord => {
  const now = Date.now()
  return {
    id: randomBytes(16).toString('base64url'),
    secretHash: new Uint8Array(randomBytes(32)),
    identityId: `identity-${randomBytes(6).toString('hex')}`,
    issuer: 'https://issuer.example',
    providerSessionId: `sid-${randomBytes(6).toString('hex')}`,
    createdAtMs: now,
    expiresAtMs: now + 3_600_000,
    lastSeenAtMs: now,
    ...overrides,
  }
}

describeSessionStoreConformance('Redis Cluster (3 primaries)', () => ({
  sessions: createRedisStores({ client: theClient(), prefix: 'conformance:' }).sessions,
}))

describe('Redis Cluster: the layout spreads over the primaries, each script in one slot', () => {
  it('sessions and replay records land on every primary; each shard on one primary', async () => {
    const prefix = 'spread:'
    const { sessions } = createRedisStores({ client: theClient(), prefix })
    const identityId = 'one-identity'
    const records = Array.from({ length: 200 }, () => session({ identityId }))
    await Promise.all(records.map((record) => sessions.create(record)))
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => sessions.markTokenUsed(`jti-${i}`, Date.now() + 60_000)),
    )
    const perNode = await Promise.all(
      nodes().map(async (n) => {
        const keys = await node(n.port).keys(`${prefix}*`)
        return {
          sessions: keys.filter((k) => k.includes('}:session:')).length,
          used: keys.filter((k) => k.startsWith(`${prefix}used:`)).length,
          tags: new Set(keys.filter((k) => k.includes('}:')).map((k) => k.slice(0, k.indexOf('}') + 1))),
        }
      }),
    )
    for (const [i, counts] of perNode.entries()) {
      assert.ok(counts.sessions >= 30, `primary ${i} holds sessions (${counts.sessions} of 200)`)
      assert.ok(counts.used >= 30, `primary ${i} holds replay records (${counts.used} of 200)`)
    }
    // A shard's keys (hash, sorted sets, sets, reference hash) all on one primary: no tag seen twice.
    const tags = perNode.flatMap((counts) => [...counts.tags])
    assert.equal(tags.length, new Set(tags).size)
    assert.equal(tags.length, SHARD_COUNT)
    // Sign-out-everywhere reaches every shard, whichever primary serves it.
    assert.equal(await sessions.deleteByIdentity(identityId), 200)
    assert.deepEqual(await Promise.all(records.slice(0, 5).map((r) => sessions.get(r.id))), [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ])
  })

  it('cleanup works shard by shard: deleteExpiredBatch drains every primary, the lease is one key', async () => {
    const { sessions } = createRedisStores({ client: theClient(), prefix: 'cleanup:' })
    const now = Date.now()
    const expired = Array.from({ length: 60 }, () => session({ expiresAtMs: now + 60_000 }))
    const live = session()
    await Promise.all([...expired, live].map((record) => sessions.create(record)))
    const lease = await sessions.acquireCleanupLease(10_000)
    assert.ok(lease !== undefined)
    assert.equal(await sessions.acquireCleanupLease(10_000), undefined, 'one holder at a time')
    let deleted = 0
    for (let round = 0; round < 20; round++) {
      const batch = await sessions.deleteExpiredBatch(now + 60_000, 86_400_000, 7)
      assert.ok(batch.sessions <= 7)
      deleted += batch.sessions
      if (!batch.more) break
    }
    await lease.release()
    assert.equal(deleted, 60)
    assert.ok((await sessions.get(live.id)) !== undefined)
    for (let shard = 0; shard < SHARD_COUNT; shard++) {
      const keys = shardKeys('cleanup:', shard)
      const expectLive = shard === shardOf(live.id) ? 1 : 0
      assert.equal(await theClient().zcard(keys.byExpiry), expectLive, `shard ${shard} trimmed`)
      assert.equal(await theClient().hlen(keys.refs), expectLive * 2)
    }
    assert.ok((await sessions.acquireCleanupLease(10_000)) !== undefined, 'released')
  })

  it('the shared key set cache works on the cluster (one key per URL)', async () => {
    const cache = createRedisKeySetCache({ client: theClient(), prefix: 'jwks:' })
    const entries = Array.from({ length: 30 }, (_, i) => ({
      url: `https://issuer-${i}.example/jwks`,
      entry: { document: { keys: [{ kid: `k${i}` }] }, fetchedAtMs: i, freshUntilMs: i + 1 },
    }))
    await Promise.all(entries.map(({ url, entry }) => cache.set(url, entry, 60_000)))
    for (const { url, entry } of entries) assert.deepEqual(await cache.get(url), entry)
    const held = await Promise.all(nodes().map(async (n) => (await node(n.port).keys('jwks:*')).length))
    assert.equal(
      held.reduce((a, b) => a + b, 0),
      30,
    )
    assert.ok(held.filter((count) => count > 0).length >= 2, `spread over the primaries (${held})`)
  })

  it('checkEviction reads every primary: one that may evict keys is reported', async () => {
    const stores = createRedisStores({ client: theClient(), prefix: 'eviction:' })
    assert.deepEqual(await stores.checkEviction(), { policy: 'noeviction', evicts: false })
    const third = node(nodes()[2]!.port)
    await third.config('SET', 'maxmemory-policy', 'volatile-lru')
    try {
      assert.deepEqual(await stores.checkEviction(), { policy: 'volatile-lru', evicts: true })
      await assert.rejects(stores.checkEviction({ refuse: true }), (error: unknown) =>
        isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'),
      )
    } finally {
      await third.config('SET', 'maxmemory-policy', 'noeviction')
    }
  })

  it('a prefix that breaks hash tags ("{}" first) is refused; REDIS_CLUSTER_NODES is parsed strictly', () => {
    assert.throws(
      () => createRedisStores({ client: theClient(), prefix: 'app{}:' }),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )
    assert.deepEqual(parseClusterSeeds('10.0.0.1:7000, redis-b:7001,[::1]:7002'), [
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ])
    for (const bad of ['', '10.0.0.1', 'a:0', 'a:70000', 'redis://a:1', 'a:1,,b:2']) {
      assert.equal(parseClusterSeeds(bad), undefined, bad)
    }
  })
})

describe('Redis Cluster: a primary restarted under load', () => {
  it('sign-ins fail fast (503) while it is away and work once it is back; no wrong answers; only the restarted primary (no persistence) forgets its replay records', async (t) => {
    const prefix = 'restart:'
    const { sessions } = createRedisStores({ client: theClient(), prefix })
    const victim = nodes()[1]!
    const until = () => Date.now() + 120_000
    // Before: replay records and sessions, acknowledged.
    const before = Array.from({ length: 150 }, (_, i) => `before-${i}-${randomBytes(4).toString('hex')}`)
    for (const key of before) assert.equal(await sessions.markTokenUsed(key, until()), true)
    const kept = Array.from({ length: 60 }, () => session())
    await Promise.all(kept.map((record) => sessions.create(record)))
    const onVictim = new Set(await node(victim.port).keys(`${prefix}*`))
    assert.ok(onVictim.size > 0)

    // Load: a sign-in is a replay record for a fresh token, then a session, read back and touched.
    const wrong: string[] = []
    const acknowledged: { key: string; atMs: number }[] = []
    let ok = 0
    let unavailable = 0
    let stop = false
    const signIn = async (n: number) => {
      const key = `load-${n}-${randomBytes(4).toString('hex')}`
      try {
        if (!(await sessions.markTokenUsed(key, until()))) wrong.push(`fresh token ${key} refused`)
        else acknowledged.push({ key, atMs: Date.now() })
        const record = session()
        await sessions.create(record)
        const read = await sessions.get(record.id)
        if (read?.identityId !== record.identityId) wrong.push(`session ${record.id} read back as ${read}`)
        await sessions.touch(record.id, record.lastSeenAtMs + 1)
        ok++
      } catch (error) {
        if (!isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE')) wrong.push(`unexpected ${String(error)}`)
        unavailable++
      }
    }
    let counter = 0
    const workers = Array.from({ length: 6 }, async () => {
      while (!stop && counter < 20_000) {
        await signIn(counter++)
        // Bounded: a failing call returns at once; a short pause keeps the loop from spinning.
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const downAtMs = Date.now()
    await victim.restart({ downMs: 500 })
    await (cluster as PrivateRedisCluster).ready()
    const upAtMs = Date.now()
    // Back: within a few seconds every sign-in succeeds again.
    let recoveredAtMs: number | undefined
    while (Date.now() - upAtMs < 10_000) {
      const before = ok
      const failedBefore = unavailable
      await new Promise((resolve) => setTimeout(resolve, 300))
      if (ok > before + 10 && unavailable === failedBefore) {
        recoveredAtMs = Date.now()
        break
      }
    }
    stop = true
    await Promise.all(workers)
    t.diagnostic(
      `sign-ins ${ok} ok, ${unavailable} unavailable (503); primary away ${upAtMs - downAtMs} ms; all succeeding again ${recoveredAtMs === undefined ? 'never' : `${recoveredAtMs - upAtMs} ms`} after it was back`,
    )
    assert.deepEqual(wrong, [], 'no wrong answers')
    assert.ok(unavailable > 0, 'the load did reach the primary while it was away')
    assert.ok(recoveredAtMs !== undefined, 'sign-ins work again once the primary is back')
    const fresh = await Promise.all(Array.from({ length: 30 }, (_, i) => signIn(1_000_000 + i)))
    assert.equal(fresh.length, 30)
    assert.deepEqual(wrong, [])

    // Replay records: never forgotten, except those on the primary that lost its data.
    const usedKey = (key: string) => `${prefix}used:${key}`
    for (const key of before) {
      const again = await sessions.markTokenUsed(key, until())
      assert.equal(again, onVictim.has(usedKey(key)), `${key}: forgotten only if its primary lost its data`)
    }
    // Acknowledged after the primary was back: refused, wherever they live.
    for (const { key } of acknowledged.filter((a) => a.atMs > upAtMs)) {
      assert.equal(await sessions.markTokenUsed(key, until()), false, `${key} acknowledged after the restart`)
    }
    // Sessions: the restarted primary's are gone (signed out), the others intact.
    for (const record of kept) {
      const found = await sessions.get(record.id)
      const lost = onVictim.has(shardKeys(prefix, shardOf(record.id)).session(record.id))
      assert.equal(found === undefined, lost, `session ${record.id}`)
    }
  })
})
