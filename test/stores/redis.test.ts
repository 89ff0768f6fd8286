// needs: redis
// The Redis session store against the real server (REDIS: 127.0.0.1:6379 or npm test's own), under a key prefix of its own
// per run (deleted afterwards): the conformance suite, the key layout and Redis's own expiry, and a
// Redis that is down, goes away or never answers. An unreachable server fails this file.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis, type RedisOptions } from 'ioredis'
import { isJwksBridgeError } from '../../src/errors.ts'
import { Script } from '../../src/stores/redis/client.ts'
import { shardKeys, shardOf } from '../../src/stores/redis/layout.ts'
import { createRedisStores } from '../../src/stores/redis/stores.ts'
import { describeSessionStoreConformance } from '../../src/testing/store-conformance.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import { BlackHole, closedPort, REDIS, TcpRelay, timed, uniqueName } from './support.ts'

const PREFIX = `${uniqueName('jwks-bridge-test')}:`
const clients: Redis[] = []
const connect = (options: RedisOptions = {}): Redis => {
  const client = new Redis({
    ...REDIS,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    disconnectTimeout: 100,
    ...options,
  })
  client.on('error', () => {})
  clients.push(client)
  return client
}
// Fails fast, for the outage tests: no reconnection, no retry, a bounded connect and command time.
const fragile = (port: number): Redis =>
  connect({
    port,
    maxRetriesPerRequest: 0,
    connectTimeout: 300,
    commandTimeout: 300,
    retryStrategy: () => null,
  })
const admin = connect()

before(async () => {
  try {
    await admin.ping()
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS.host}:${REDIS.port} (${(error as Error).message}); ` +
        'these tests need the real server: run them with `npm test` (it starts a private one), never skipped',
    )
  }
})
after(async () => {
  const keys = await admin.keys(`${PREFIX}*`)
  if (keys.length > 0) await admin.del(...keys)
  for (const client of clients) client.disconnect()
})

describeSessionStoreConformance('Redis', () => ({
  sessions: createRedisStores({ client: connect(), prefix: `${PREFIX}conformance:` }).sessions,
}))

const unavailable = (reason?: RegExp) => (error: unknown) => {
  assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'), `ERR_STORE_UNAVAILABLE, got ${String(error)}`)
  if (reason !== undefined) assert.match(error.reason ?? '', reason)
  assert.equal((error as Error).cause, undefined, 'no client error (it carries the command arguments)')
  return true
}

const sessionFor = (
  overrides: Partial<Parameters<ReturnType<typeof createRedisStores>['sessions']['create']>[0]> = {},
) => ({
  id: uniqueName('s'),
  secretHash: new Uint8Array(randomBytes(32)),
  identityId: uniqueName('identity'),
  issuer: 'https://issuer.example',
  providerSessionId: 'sid-1',
  createdAtMs: Date.now(),
  expiresAtMs: Date.now() + 3_600_000,
  lastSeenAtMs: Date.now(),
  ...overrides,
})

describe('Redis session store: keys and expiry', () => {
  const prefix = `${PREFIX}layout:`
  const { sessions } = createRedisStores({ client: connect(), prefix })
  const keysOf = (id: string) => shardKeys(prefix, shardOf(id))

  it('a session is a hash under the prefix that Redis expires at the absolute end; no secret, only its hash', async () => {
    const record = sessionFor()
    await sessions.create(record)
    const keys = keysOf(record.id)
    const key = keys.session(record.id)
    assert.ok(key.startsWith(`${prefix}{`), "under the prefix, then the shard's hash tag")
    assert.equal(Number(await admin.call('PEXPIRETIME', key)), record.expiresAtMs)
    const hash = await admin.hgetall(key)
    assert.equal(Buffer.from(hash.secret_hash!, 'base64').length, 32)
    assert.equal(await admin.sismember(keys.identitySet(record.identityId), record.id), 1)
    const everything = await admin.keys(`${PREFIX}*`)
    assert.ok(everything.every((k) => k.startsWith(PREFIX)))
  })

  it('Redis expires the hash by itself; deleteExpired then cleans every index entry of it', async () => {
    const providerSessionId = uniqueName('sid')
    const record = sessionFor({ expiresAtMs: Date.now() + 150, providerSessionId })
    await sessions.create(record)
    await new Promise((resolve) => setTimeout(resolve, 250))
    assert.equal(await sessions.get(record.id), undefined, 'gone at its absolute end')
    const keys = keysOf(record.id)
    assert.equal(await admin.sismember(keys.identitySet(record.identityId), record.id), 1)
    const providerSet = keys.providerSet('https://issuer.example', providerSessionId)
    assert.equal(providerSet, `${keys.base}provider:22:https://issuer.example:${providerSessionId}`)
    assert.equal(await admin.exists(providerSet), 1)
    assert.equal(await sessions.deleteExpired(Date.now(), 3_600_000), 1)
    assert.equal(await admin.sismember(keys.identitySet(record.identityId), record.id), 0)
    assert.equal(await admin.exists(providerSet), 0)
    assert.equal(await admin.zscore(keys.byExpiry, record.id), null)
    assert.equal(await admin.zscore(keys.byLastSeen, record.id), null)
    assert.equal(await admin.hexists(keys.refs, `i:${record.id}`), 0)
    assert.equal(await admin.hexists(keys.refs, `p:${record.id}`), 0)
  })

  it('deleteExpired works through more sessions than one batch', async () => {
    const batched = createRedisStores({
      client: connect(),
      prefix: `${PREFIX}batch:`,
      deleteBatchSize: 3,
    }).sessions
    const at = Date.now()
    await Promise.all(
      Array.from({ length: 10 }, () => batched.create(sessionFor({ expiresAtMs: at + 60_000 }))),
    )
    await batched.create(sessionFor({ expiresAtMs: at + 3_600_000 }))
    assert.equal(await batched.deleteExpired(at + 60_000, 86_400_000), 10)
  })

  it('a token whose expiry has passed is not recorded (nothing to guard), and answers true', async () => {
    const key = uniqueName('jti')
    assert.equal(await sessions.markTokenUsed(key, Date.now() - 1), true)
    assert.equal(await sessions.markTokenUsed(key, Date.now() - 1), true)
    assert.equal(await admin.exists(`${prefix}used:${key}`), 0)
    assert.equal(await sessions.markTokenUsed(key, Date.now() + 60_000), true)
    const ttl = await admin.pttl(`${prefix}used:${key}`)
    assert.ok(ttl > 55_000 && ttl <= 60_000, `PX set from the expiry (${ttl})`)
  })

  it('a script the server does not hold is sent once with EVAL, then run by its SHA-1', async () => {
    const client = connect()
    const source = `return ARGV[1] -- ${randomBytes(8).toString('hex')}`
    const script = new Script(source)
    assert.equal(await script.run(client, [], ['echo']), 'echo')
    const sha1 = createHash('sha1').update(source).digest('hex')
    assert.deepEqual(await admin.script('EXISTS', sha1), [1], 'loaded by the first run')
    assert.equal(await script.run(client, [], ['again']), 'again')
  })

  it('refuses a client without the commands it needs', () => {
    assert.throws(
      () => createRedisStores({ client: {} as never }),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )
  })
})

describe('Redis down: ERR_STORE_UNAVAILABLE, promptly, nothing half-written', () => {
  it('a client pointing at a closed port: every operation fails fast', async () => {
    const stores = createRedisStores({ client: fragile(await closedPort()), prefix: `${PREFIX}down:` })
    const operations: (() => Promise<unknown>)[] = [
      () => stores.ping(),
      () => stores.sessions.create(sessionFor()),
      () => stores.sessions.get('x'),
      () => stores.sessions.touch('x', 1),
      () => stores.sessions.markTokenUsed('jti', Date.now() + 60_000),
      () => stores.sessions.deleteByIdentity('i'),
      () => stores.sessions.deleteExpired(Date.now(), 1000),
    ]
    for (const operation of operations) {
      const { ms, error } = await timed(operation())
      unavailable()(error)
      assert.ok(ms < 1500, `failed within the bound (${Math.round(ms)} ms)`)
    }
  })

  it('a Redis that never answers: the command timeout bounds the call', async () => {
    const hole = await new BlackHole().start()
    try {
      const { sessions } = createRedisStores({ client: fragile(hole.port), prefix: `${PREFIX}hole:` })
      const { ms, error } = await timed(sessions.get('x'))
      unavailable(/^(Command timed out|Connection is closed\.|Error)$/)(error)
      assert.ok(ms < 1500, `failed within the bound (${Math.round(ms)} ms)`)
    } finally {
      await hole.stop()
    }
  })

  it('Redis goes away mid-life: the failed calls leave nothing behind', async () => {
    const relay = await new TcpRelay(REDIS).start()
    const prefix = `${PREFIX}away:`
    const { sessions } = createRedisStores({ client: fragile(relay.port), prefix })
    const before = sessionFor()
    await sessions.create(before)
    await relay.cut()
    const during = sessionFor({ identityId: before.identityId })
    for (const operation of [
      () => sessions.create(during),
      () => sessions.markTokenUsed('jti-during', Date.now() + 60_000),
      () => sessions.delete(before.id),
    ]) {
      const { ms, error } = await timed(operation())
      unavailable()(error)
      assert.ok(ms < 1500)
    }
    assert.equal(await admin.exists(shardKeys(prefix, shardOf(during.id)).session(during.id)), 0)
    assert.equal(await admin.exists(`${prefix}used:jti-during`), 0)
    const keys = shardKeys(prefix, shardOf(before.id))
    assert.equal(await admin.exists(keys.session(before.id)), 1)
    assert.deepEqual(await admin.smembers(keys.identitySet(before.identityId)), [before.id])
  })
})

describe('createRedisStores: options', () => {
  it('issue #13: a misspelt option is refused, naming the nearest known one', () => {
    const client = new Redis({ ...REDIS, lazyConnect: true })
    try {
      refusesUnknownOption(
        () => createRedisStores({ client, prefx: 'app:' } as never),
        'createRedisStores',
        'prefx',
        'prefix',
      )
    } finally {
      client.disconnect()
    }
  })
})
