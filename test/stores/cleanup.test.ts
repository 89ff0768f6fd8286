// Storage stays bounded (SECURITY.md "Storage growth"): the cleanup scheduler against the real
// stores (a SQLite file, PostgreSQL on 5432 in a schema of its own, Redis on 6379 under a prefix of
// its own). Sign-ins go through a real bridge with a clock the test moves: many sign-ins, across
// expiry, round after round; after each cleanup tick the rows and keys left are only the live ones,
// however many rounds came before. And of two instances sharing a store, one cleans at a time.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import { type CleanupTarget, startCleanup } from '../../src/stores/cleanup.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { createPostgresStores, type PostgresStores } from '../../src/stores/postgres/stores.ts'
import { SHARD_COUNT, shardKeys } from '../../src/stores/redis/layout.ts'
import { createRedisStores } from '../../src/stores/redis/stores.ts'
import { createSqliteStores, type SqliteStores } from '../../src/stores/sqlite/stores.ts'
import type { IdentityStore, SessionStore } from '../../src/stores/types.ts'
import { Clock, handoffRequest, makeBridge, signInToken } from '../bridge/support.ts'
import { POSTGRES_URL, REDIS, uniqueName } from './support.ts'

const ROUNDS = 5
const PER_ROUND = 40
const BATCH = 16
const IDLE_SECONDS = 1800
// Past every session's idle timeout and absolute end, and every sign-in token's expiry (+60 s).
const PAST_EVERYTHING_SECONDS = 3 * 3600

const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-cleanup-'))
const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 })
admin.on('error', () => {})
const redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 })
redis.on('error', () => {})
const PREFIX = `${uniqueName('jwks-bridge-cleanup')}:`
const schemas: string[] = []
const closers: (() => Promise<unknown>)[] = []

before(async () => {
  await admin.query('SELECT 1')
  await redis.connect()
})
after(async () => {
  for (const close of closers.reverse()) await close()
  for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
  await admin.end()
  const keys = await redis.keys(`${PREFIX}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
  rmSync(dir, { recursive: true, force: true })
})

async function sqlite(name: string, clock: Clock): Promise<SqliteStores> {
  const stores = await createSqliteStores({ path: join(dir, name), nowMs: clock.read })
  closers.push(() => stores.close())
  return stores
}

async function postgres(schema: string, clock: Clock): Promise<PostgresStores> {
  if (!schemas.includes(schema)) schemas.push(schema)
  const stores = await createPostgresStores({
    connectionString: POSTGRES_URL,
    schema,
    migrate: true,
    maxConnections: 3,
    nowMs: clock.read,
  })
  closers.push(() => stores.close())
  return stores
}

function redisSessions(prefix: string, clock: Clock): SessionStore {
  const client = new Redis({ ...REDIS, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  closers.push(async () => client.disconnect())
  return createRedisStores({ client, prefix, nowMs: clock.read }).sessions
}

interface Counts {
  sessions: number
  usedTokens: number
  /** Everything else the store keeps for sessions (Redis: index entries). */
  indexEntries: number
}

async function signInMany(
  harness: ReturnType<typeof makeBridge>,
  count: number,
  round: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    // A new subject per sign-in: the worst case for the Redis identity sets.
    const token = signInToken(harness.clock, { sub: `user-${round}-${i}`, sid: `sid-${round}-${i}` })
    const response = await harness.bridge.handle(handoffRequest(token))
    assert.equal(response?.status, 204, JSON.stringify(response?.body))
  }
}

/**
 * Many sign-ins, then time moves past every expiry, then one cleanup tick, ROUNDS times. Without the
 * cleanup the counts would reach ROUNDS * PER_ROUND; with it they never pass one round's worth and
 * are back to zero after each tick.
 */
async function scenario(
  stores: { identities: IdentityStore; sessions: SessionStore },
  clock: Clock,
  count: () => Promise<Counts>,
  expectedUsedTokens: (signedIn: number) => number,
): Promise<void> {
  // The CSRF token is not what this test is about: these handoffs come from the test, not a page.
  const harness = makeBridge(
    { csrf: false, idleTimeoutSeconds: IDLE_SECONDS, absoluteLifetimeSeconds: 2 * 3600 },
    stores,
    clock,
  )
  const cleanup = startCleanup(stores.sessions, {
    idleTimeoutSeconds: IDLE_SECONDS,
    batchSize: BATCH,
    maxBatchesPerTick: 100,
    nowMs: clock.read,
  })
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await signInMany(harness, PER_ROUND, round)
      const before = await count()
      assert.equal(before.sessions, PER_ROUND, `round ${round}: only this round's sessions are stored`)
      assert.equal(before.usedTokens, expectedUsedTokens(PER_ROUND), `round ${round}: replay records`)
      clock.advanceSeconds(PAST_EVERYTHING_SECONDS)
      const tick = await cleanup.runOnce()
      assert.equal(tick.ran, true)
      assert.equal(tick.complete, true)
      assert.equal(tick.sessions, PER_ROUND)
      // Bounded rounds: never more than BATCH rows of a kind per round.
      assert.ok(tick.batches >= Math.ceil(PER_ROUND / BATCH), `${tick.batches} rounds`)
      const afterTick = await count()
      assert.deepEqual(
        { sessions: afterTick.sessions, indexEntries: afterTick.indexEntries },
        { sessions: 0, indexEntries: 0 },
        `round ${round}: nothing of the expired sessions is left`,
      )
      assert.equal(afterTick.usedTokens, expectedUsedTokens(0), `round ${round}: expired replay records`)
    }
  } finally {
    await cleanup.stop()
  }
}

describe('storage growth (defect 9): the cleanup keeps every store bounded across expiry', () => {
  it('SQLite: sessions and used_tokens rows stay at one round of sign-ins', async () => {
    const clock = new Clock()
    const stores = await sqlite('bounded.sqlite', clock)
    const rows = (table: string) =>
      (stores.database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
    await scenario(
      stores,
      clock,
      async () => ({ sessions: rows('sessions'), usedTokens: rows('used_tokens'), indexEntries: 0 }),
      (signedIn) => signedIn,
    )
  })

  it('PostgreSQL: sessions and used_tokens rows stay at one round of sign-ins', async () => {
    const clock = new Clock()
    const schema = uniqueName('jb_cleanup')
    const stores = await postgres(schema, clock)
    const rows = async (table: string) =>
      Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".${table}`)).rows[0].n)
    await scenario(
      stores,
      clock,
      async () => ({
        sessions: await rows('sessions'),
        usedTokens: await rows('used_tokens'),
        indexEntries: 0,
      }),
      (signedIn) => signedIn,
    )
  })

  it('Redis: session hashes, both sorted sets, identity and provider sets and reference hashes are trimmed', async () => {
    // Redis expires hashes and replay records on its own clock: the test's clock starts at real time
    // so that the store's time-to-live arithmetic means the same on both.
    const clock = new Clock()
    clock.nowMs = Date.now()
    const prefix = `${PREFIX}bounded:`
    const sessions = redisSessions(prefix, clock)
    const memory = createMemoryStores({ nowMs: clock.read })
    const keysLike = async (pattern: string) => (await redis.keys(`${prefix}${pattern}`)).length
    let usedTtlOk = true
    await scenario(
      { identities: memory.identities, sessions },
      clock,
      async () => {
        // A session's hash is deleted by the cleanup (its PEXPIREAT is hours of real time away).
        // Every shard's keys (src/stores/redis/layout.ts).
        const hashes = await keysLike('{*}:session:*')
        let indexEntries = (await keysLike('{*}:identity:*')) + (await keysLike('{*}:provider:*'))
        for (let shard = 0; shard < SHARD_COUNT; shard++) {
          const keys = shardKeys(prefix, shard)
          indexEntries +=
            (await redis.zcard(keys.byExpiry)) +
            (await redis.zcard(keys.byLastSeen)) +
            (await redis.hlen(keys.refs))
        }
        // Replay records are Redis's to expire: each carries a time-to-live no longer than the token's
        // remaining life (600 s) plus the guard's minute, so they are bounded in time, not by the tick.
        for (const key of await redis.keys(`${prefix}used:*`)) {
          const ttl = await redis.pttl(key)
          if (ttl <= 0 || ttl > 661_000) usedTtlOk = false
        }
        return { sessions: hashes, usedTokens: 0, indexEntries }
      },
      () => 0,
    )
    assert.ok(usedTtlOk, 'every replay record has a bounded time-to-live')
    // Nothing else under the prefix but replay records (and no lease left behind).
    const left = (await redis.keys(`${prefix}*`)).filter((key) => !key.startsWith(`${prefix}used:`))
    assert.deepEqual(left, [])
  })

  it('a tick is bounded: maxBatchesPerTick rounds of batchSize rows; the next ticks carry on', async () => {
    const clock = new Clock()
    const stores = await sqlite('backlog.sqlite', clock)
    const harness = makeBridge({ csrf: false, idleTimeoutSeconds: IDLE_SECONDS }, stores, clock)
    await signInMany(harness, 50, 0)
    clock.advanceSeconds(PAST_EVERYTHING_SECONDS)
    const cleanup = startCleanup(stores.sessions, {
      idleTimeoutSeconds: IDLE_SECONDS,
      batchSize: 10,
      maxBatchesPerTick: 2,
      nowMs: clock.read,
    })
    try {
      const first = await cleanup.runOnce()
      assert.deepEqual(first, { ran: true, sessions: 20, usedTokens: 20, batches: 2, complete: false })
      const second = await cleanup.runOnce()
      assert.equal(second.sessions, 20)
      const third = await cleanup.runOnce()
      assert.deepEqual(third, { ran: true, sessions: 10, usedTokens: 10, batches: 2, complete: true })
    } finally {
      await cleanup.stop()
    }
  })
})

/** Counts how many cleanup rounds run at the same moment, across every wrapped store. */
function overlapMeter() {
  const meter = { inFlight: 0, most: 0, rounds: 0 }
  const wrap = (store: SessionStore): CleanupTarget => {
    const batch = store.deleteExpiredBatch?.bind(store)
    const lease = store.acquireCleanupLease?.bind(store)
    assert.ok(batch !== undefined)
    return {
      deleteExpired: (nowMs, idleTimeoutMs) => store.deleteExpired(nowMs, idleTimeoutMs),
      ...(lease === undefined ? {} : { acquireCleanupLease: lease }),
      async deleteExpiredBatch(nowMs, idleTimeoutMs, limit) {
        meter.inFlight++
        meter.rounds++
        meter.most = Math.max(meter.most, meter.inFlight)
        try {
          return await batch(nowMs, idleTimeoutMs, limit)
        } finally {
          meter.inFlight--
        }
      },
    }
  }
  return { meter, wrap }
}

async function backlog(sessions: SessionStore, identities: IdentityStore, clock: Clock, n: number) {
  const { identity } = await identities.upsert({
    issuer: 'https://issuer.example',
    subject: uniqueName('subject'),
    claims: {},
    nowMs: clock.nowMs,
  })
  for (let i = 0; i < n; i++) {
    await sessions.create({
      id: uniqueName('s'),
      secretHash: new Uint8Array(randomBytes(32)),
      identityId: identity.id,
      issuer: 'https://issuer.example',
      providerSessionId: null,
      createdAtMs: clock.nowMs,
      expiresAtMs: clock.nowMs + 1000,
      lastSeenAtMs: clock.nowMs,
    })
  }
  clock.advanceSeconds(10)
}

async function twoInstances(a: SessionStore, b: SessionStore, clock: Clock, seed: () => Promise<void>) {
  const { meter, wrap } = overlapMeter()
  const options = {
    idleTimeoutSeconds: IDLE_SECONDS,
    batchSize: 5,
    maxBatchesPerTick: 1000,
    nowMs: clock.read,
  }
  const first = startCleanup(wrap(a), options)
  const second = startCleanup(wrap(b), options)
  try {
    let removed = 0
    let skipped = 0
    for (let attempt = 0; attempt < 3; attempt++) {
      await seed()
      const ticks = await Promise.all([first.runOnce(), second.runOnce()])
      removed += ticks.reduce((sum, tick) => sum + tick.sessions, 0)
      skipped += ticks.filter((tick) => !tick.ran).length
    }
    assert.equal(meter.most, 1, 'never two cleanup rounds at once')
    assert.equal(removed, 3 * 60, 'every expired session removed exactly once')
    assert.ok(skipped >= 1, 'an instance that found the lease taken skipped its tick')
  } finally {
    await first.stop()
    await second.stop()
  }
}

describe('storage growth (defect 9): of instances sharing a store, one cleans at a time', () => {
  it('PostgreSQL: the advisory lock (pg_try_advisory_lock) is the lease', async () => {
    const clock = new Clock()
    const schema = uniqueName('jb_lease')
    const a = await postgres(schema, clock)
    const b = await postgres(schema, clock)
    await twoInstances(a.sessions, b.sessions, clock, () => backlog(a.sessions, a.identities, clock, 60))
    // Held by one instance, the lease makes the other skip; released, the other cleans.
    const lease = await a.sessions.acquireCleanupLease(60_000)
    assert.ok(lease !== undefined)
    const other = startCleanup(b.sessions, { idleTimeoutSeconds: IDLE_SECONDS, nowMs: clock.read })
    try {
      assert.equal((await other.runOnce()).ran, false)
      await lease.release()
      assert.equal((await other.runOnce()).ran, true)
    } finally {
      await other.stop()
    }
  })

  it('Redis: a SET NX PX lease key, released only by its holder', async () => {
    const clock = new Clock()
    clock.nowMs = Date.now()
    const prefix = `${PREFIX}lease:`
    const a = redisSessions(prefix, clock)
    const b = redisSessions(prefix, clock)
    const memory = createMemoryStores()
    // Redis sessions need no identity rows; the memory store gives an identity id.
    await twoInstances(a, b, clock, () => backlog(a, memory.identities, clock, 60))
    const lease = await a.acquireCleanupLease?.(60_000)
    assert.ok(lease !== undefined)
    assert.ok((await redis.pttl(`${prefix}cleanup-lease`)) > 0, 'the lease runs out by itself')
    const other = startCleanup(b, { idleTimeoutSeconds: IDLE_SECONDS, nowMs: clock.read })
    try {
      assert.equal((await other.runOnce()).ran, false)
      // Another holder's lease is left alone by a stale release.
      await redis.set(`${prefix}cleanup-lease`, 'someone-else', 'PX', 60_000)
      await lease.release()
      assert.equal(await redis.get(`${prefix}cleanup-lease`), 'someone-else')
      await redis.del(`${prefix}cleanup-lease`)
      assert.equal((await other.runOnce()).ran, true)
    } finally {
      await other.stop()
    }
  })
})

describe('startCleanup: the timer', () => {
  it('ticks on its own, and stop() ends it', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const ticks: unknown[] = []
    const cleanup = startCleanup(memory.sessions, {
      idleTimeoutSeconds: IDLE_SECONDS,
      intervalSeconds: 1,
      nowMs: clock.read,
      onTick: (result) => ticks.push(result),
    })
    try {
      while (ticks.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.deepEqual(ticks[0], { ran: true, sessions: 0, usedTokens: 0, batches: 1, complete: true })
    } finally {
      await cleanup.stop()
    }
    const seen = ticks.length
    await new Promise((resolve) => setTimeout(resolve, 1300))
    assert.equal(ticks.length, seen, 'no tick after stop()')
  })

  it('never keeps a process alive: a process that only started a cleanup ends by itself', () => {
    const script =
      "import { startCleanup } from './src/stores/cleanup.ts';" +
      "import { createMemoryStores } from './src/stores/memory/stores.ts';" +
      'startCleanup(createMemoryStores().sessions, { idleTimeoutSeconds: 60, intervalSeconds: 3600 })'
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    })
    assert.equal(child.signal, null, 'the process had to be killed: the timer kept it alive')
    assert.equal(child.status, 0, child.stderr)
  })

  it('refuses options it does not know and bounds it cannot keep', () => {
    const { sessions } = createMemoryStores()
    assert.throws(() => startCleanup(sessions, { idleTimeoutSeconds: 60, every: 5 } as never), /unknown/)
    assert.throws(() => startCleanup(sessions, { idleTimeoutSeconds: 60, batchSize: 0 }), /batchSize/)
    assert.throws(() => startCleanup(sessions, {} as never), /idleTimeoutSeconds/)
  })
})
