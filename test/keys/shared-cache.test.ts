// needs: redis
// Issue 3, behaviour 8 (shared cache), against a real HTTP server on 127.0.0.1 and the real Redis
// (127.0.0.1:6379, or the one npm test started): a set fetched by one verifier is reused by another
// (in memory, or through Redis by a "fresh process") with no network fetch; garbage in Redis is
// ignored; Redis down or unresponsive never fails verification.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createVerifier, type VerifierOptions } from '../../src/index.ts'
import { MemoryKeySetCache } from '../../src/keys/key-set-cache.ts'
import { createRedisKeySetCache } from '../../src/keys/redis-key-set-cache.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { ISSUER, makeKey } from '../helpers/tokens.ts'
import { REDIS } from '../stores/support.ts'
import { Clock, closedPort, EventLog, JWKS_TYPE, jwks, longToken, outcome, START_MS } from './support.ts'

const a = makeKey('ES256', 'shared-a')
const b = makeKey('ES256', 'shared-b')
// One prefix per run, so that parallel runs and earlier runs never meet; removed in `after`.
const PREFIX = `jwks-bridge-test:${process.pid}:${randomBytes(6).toString('hex')}:`

const redisClient = () =>
  new Redis({
    ...REDIS,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    // Do not keep the test process alive 2 s (the default) after disconnect().
    disconnectTimeout: 100,
  })

describe('behaviour 8: shared key set cache', () => {
  const server = new TestServer()
  const clients: Redis[] = []
  const connect = () => {
    const client = redisClient()
    client.on('error', () => {})
    clients.push(client)
    return client
  }
  before(() => server.start())
  after(async () => {
    await server.stop()
    const admin = connect()
    const keys = await admin.keys(`${PREFIX}*`)
    if (keys.length > 0) await admin.del(...keys)
    for (const client of clients) client.disconnect()
  })

  let n = 0
  const route = (body: unknown = jwks(a)) => {
    const path = `/shared-${++n}`
    server.routes.set(path, { body, headers: JWKS_TYPE })
    return { path, url: server.url(path), count: () => server.count(path) }
  }
  const verifierWith = (url: string, clock: Clock, extra: Partial<VerifierOptions> = {}) => {
    const log = new EventLog()
    const verifier = createVerifier({
      issuer: ISSUER,
      jwksUri: url,
      algorithms: ['ES256'],
      nowMs: clock.nowMs,
      onEvent: log.onEvent,
      cacheMaxAgeSeconds: 600,
      maxStaleSeconds: 3600,
      ...extra,
    } as VerifierOptions)
    return { verifier, log }
  }

  it('MemoryKeySetCache shared by two verifiers: the second never fetches', async () => {
    const { url, count } = route()
    const clock = new Clock()
    const keySetCache = new MemoryKeySetCache(clock.nowMs)
    const one = verifierWith(url, clock, { keySetCache })
    const two = verifierWith(url, clock, { keySetCache })
    assert.equal(await outcome(one.verifier.verify(longToken(a))), 'ok')
    assert.equal(count(), 1)
    assert.equal(await outcome(two.verifier.verify(longToken(a))), 'ok')
    assert.equal(count(), 1, 'the second verifier fetched')
    const stats = two.verifier.keySetStats()[0]
    assert.equal(stats?.fetches, 0)
    assert.equal(stats?.sharedCacheHits, 1)
    assert.deepEqual(
      two.log.of('fetched').map((e) => [e.status, e.source]),
      [[200, 'shared-cache']],
    )
    assert.equal(two.log.of('fetch').length, 0)
  })

  it('MemoryKeySetCache: a kid another verifier already fetched is adopted without the network', async () => {
    const { path, url, count } = route()
    const clock = new Clock()
    const keySetCache = new MemoryKeySetCache(clock.nowMs)
    const one = verifierWith(url, clock, { keySetCache })
    const two = verifierWith(url, clock, { keySetCache })
    await one.verifier.ready()
    await two.verifier.ready()
    assert.equal(count(), 1)
    server.routes.set(path, { body: jwks(a, b), headers: JWKS_TYPE })
    clock.advance(1000)
    assert.equal(await outcome(one.verifier.verify(longToken(b))), 'ok')
    assert.equal(count(), 2)
    clock.advance(1000)
    assert.equal(await outcome(two.verifier.verify(longToken(b))), 'ok')
    assert.equal(count(), 2, 'the second verifier fetched a set the first had shared')
  })

  it('Redis: verifier 1 fetches and stores, verifier 2 (a fresh process) loads it with zero network fetches', async () => {
    const { url, count } = route(jwks(a, b))
    const clock = new Clock()
    const errors: unknown[] = []
    const one = verifierWith(url, clock, {
      keySetCache: createRedisKeySetCache({
        client: connect(),
        prefix: PREFIX,
        onError: (e) => errors.push(e),
      }),
    })
    assert.equal(await outcome(one.verifier.verify(longToken(a))), 'ok')
    assert.equal(count(), 1)

    // What is stored: the public document and its metadata, kept for freshness + maxStale.
    const admin = connect()
    const stored = JSON.parse((await admin.get(PREFIX + url)) ?? 'null')
    assert.equal(stored.document.keys.length, 2)
    assert.equal(stored.fetchedAtMs, START_MS)
    assert.equal(stored.freshUntilMs, START_MS + 600_000)
    assert.equal(JSON.stringify(stored).includes('"d"'), false, 'a private key member was stored')
    const ttl = await admin.pttl(PREFIX + url)
    assert.ok(ttl > 0 && ttl <= 600_000 + 3_600_000, `ttl ${ttl}`)

    const two = verifierWith(url, clock, {
      keySetCache: createRedisKeySetCache({
        client: connect(),
        prefix: PREFIX,
        onError: (e) => errors.push(e),
      }),
    })
    assert.equal(await outcome(two.verifier.verify(longToken(b))), 'ok')
    assert.equal(await outcome(two.verifier.verify(longToken(a))), 'ok')
    assert.equal(count(), 1, 'the second verifier fetched')
    assert.equal(two.verifier.keySetStats()[0]?.fetches, 0)
    assert.equal(two.verifier.keySetStats()[0]?.sharedCacheHits, 1)
    assert.equal(two.log.of('fetched')[0]?.source, 'shared-cache')
    assert.deepEqual(errors, [])
  })

  it('Redis: a garbage value is ignored and the verifier fetches (then stores a good one)', async () => {
    const admin = connect()
    const garbage = [
      'not json {',
      '"a string"',
      'null',
      '{"document":{}}',
      JSON.stringify({ document: { keys: 'x' }, fetchedAtMs: START_MS, freshUntilMs: START_MS + 600_000 }),
      JSON.stringify({ document: { keys: [] }, fetchedAtMs: 'soon', freshUntilMs: START_MS + 600_000 }),
      // Well formed, but no usable key in it.
      JSON.stringify({
        document: { keys: [{ kty: 'oct', k: 'AAAA' }] },
        fetchedAtMs: START_MS,
        freshUntilMs: START_MS + 600_000,
      }),
    ]
    for (const value of garbage) {
      const { url, count } = route()
      await admin.set(PREFIX + url, value, 'PX', 60_000)
      const { verifier } = verifierWith(url, new Clock(), {
        keySetCache: createRedisKeySetCache({ client: connect(), prefix: PREFIX }),
      })
      assert.equal(await outcome(verifier.verify(longToken(a))), 'ok', value)
      assert.equal(count(), 1, `did not fetch past ${value}`)
      const stored = JSON.parse((await admin.get(PREFIX + url)) ?? 'null')
      assert.equal(stored?.document?.keys?.length, 1, `the garbage was not replaced: ${value}`)
    }
  })

  it('Redis: a stored set with a key the provider never published is still checked like a fetched one', async () => {
    const { url, count } = route()
    const admin = connect()
    // A weak RSA key (1024 bits) planted in the cache is refused by the import rules: fetch instead.
    const weak = makeKey('RS256', 'weak', 1024)
    const entry = { document: { keys: [weak.jwk] }, fetchedAtMs: START_MS, freshUntilMs: START_MS + 600_000 }
    await admin.set(PREFIX + url, JSON.stringify(entry), 'PX', 60_000)
    const { verifier } = verifierWith(url, new Clock(), {
      keySetCache: createRedisKeySetCache({ client: connect(), prefix: PREFIX }),
      algorithms: ['ES256', 'RS256'],
    })
    assert.equal(await outcome(verifier.verify(longToken(weak))), 'ERR_KEY_NOT_FOUND')
    assert.equal(count(), 1)
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
  })

  it('Redis down (connection refused) does not fail verification', async () => {
    const { url, count } = route()
    const down = new Redis({
      host: '127.0.0.1',
      port: await closedPort(),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 200,
      disconnectTimeout: 100,
      retryStrategy: () => null,
    })
    down.on('error', () => {})
    clients.push(down)
    const errors: unknown[] = []
    const { verifier } = verifierWith(url, new Clock(), {
      keySetCache: createRedisKeySetCache({ client: down, prefix: PREFIX, onError: (e) => errors.push(e) }),
    })
    const started = performance.now()
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    assert.ok(performance.now() - started < 1000, 'verification waited for Redis')
    assert.equal(count(), 1)
    assert.ok(errors.length >= 1, 'the Redis failure was reported through onError')
  })

  it('Redis that accepts connections but never answers does not hold verification past timeoutMs', async () => {
    // A black-holed Redis (network partition, overloaded server): TCP connects, no reply ever comes.
    const held = new Set<Socket>()
    const hole = createServer((socket) => {
      held.add(socket)
      socket.on('close', () => held.delete(socket))
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    try {
      const silent = new Redis({
        host: '127.0.0.1',
        port: (hole.address() as { port: number }).port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        connectTimeout: 200,
        disconnectTimeout: 100,
        retryStrategy: () => null,
      })
      silent.on('error', () => {})
      clients.push(silent)
      const { url, count } = route()
      const { verifier } = verifierWith(url, new Clock(), {
        keySetCache: createRedisKeySetCache({ client: silent, prefix: PREFIX }),
        timeoutMs: 300,
      })
      const result = await Promise.race([
        outcome(verifier.verify(longToken(a))),
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('still waiting after 1.5 s'), 1500).unref(),
        ),
      ])
      assert.equal(result, 'ok')
      assert.equal(count(), 1)
    } finally {
      for (const client of clients) if (client.options.port !== REDIS.port) client.disconnect()
      for (const socket of held) socket.destroy()
      await new Promise<void>((resolve) => hole.close(() => resolve()))
    }
  })

  it("a shared set counts as fresh no longer than this verifier's cacheMaxAgeSeconds", async () => {
    // An instance with another configuration (or a bad clock) stored a set "fresh for 10 days".
    // This verifier promises that a removed key stops working within cacheMaxAgeSeconds (600 s):
    // the adopted set must be refreshed by then.
    const { url, count } = route()
    const admin = connect()
    const entry = { document: jwks(a), fetchedAtMs: START_MS, freshUntilMs: START_MS + 10 * 86_400_000 }
    await admin.set(PREFIX + url, JSON.stringify(entry), 'PX', 60_000)
    const clock = new Clock()
    const { verifier, log } = verifierWith(url, clock, {
      keySetCache: createRedisKeySetCache({ client: connect(), prefix: PREFIX }),
      tokenCache: false,
    })
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    assert.equal(count(), 0)
    clock.advance(601_000)
    const fetched = log.next('fetch', 500).then(
      () => 'fetched',
      () => 'no fetch',
    )
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'later' }))), 'ok')
    assert.equal(await fetched, 'fetched')
  })
})
