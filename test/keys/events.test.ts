// Issue 3, behaviour 9 (events and figures), against a real HTTP server on 127.0.0.1: each event
// type is emitted in its scenario, and keySetStats() counts what happened.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createVerifier, type KeyRejectedEvent, type VerifierOptions } from '../../src/index.ts'
import { MemoryKeySetCache } from '../../src/keys/key-set-cache.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { ISSUER, makeKey } from '../helpers/tokens.ts'
import {
  Clock,
  EventLog,
  JWKS_TYPE,
  jwks,
  longToken,
  outcome,
  remoteVerifier,
  START_MS,
  settle,
  tokenWithKid,
} from './support.ts'

const a = makeKey('ES256', 'ev-a')
const b = makeKey('ES256', 'ev-b')

const withKid = (kid: string): string => tokenWithKid(a, kid)

describe('behaviour 9: events and figures', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  let n = 0
  const setup = (extra: Partial<VerifierOptions> = {}, body: unknown = jwks(a)) =>
    remoteVerifier(server, {
      name: 'events',
      body,
      options: {
        cacheMaxAgeSeconds: 60,
        cacheMinAgeSeconds: 30,
        cooldownSeconds: 30,
        retryBaseSeconds: 1,
        tokenCache: false,
        ...extra,
      },
    })

  it('first load: fetch (initial) then fetched (200, network), and the figures', async () => {
    const { url, clock, log, verifier, stats } = setup()
    const before = stats()
    assert.equal(before.fetches, 0)
    assert.equal(before.keyCount, 0)
    assert.equal(before.ageMs, undefined)
    assert.equal(before.url, url)
    await verifier.ready()
    assert.deepEqual(log.events, [
      { type: 'fetch', issuer: ISSUER, url, reason: 'initial' },
      { type: 'fetched', issuer: ISSUER, url, status: 200, source: 'network', keys: 1, freshForMs: 60_000 },
    ])
    clock.advance(5000)
    const s = stats()
    assert.equal(s.issuer, ISSUER)
    assert.equal(s.fetches, 1)
    assert.equal(s.keyCount, 1)
    assert.equal(s.ageMs, 5000)
    assert.equal(s.lastSuccessAtMs, START_MS)
    assert.equal(s.failures, 0)
    assert.equal(s.lastFailureAtMs, undefined)
  })

  it('a fetch still in flight when the verifier closes settles unheard: no event after close()', async () => {
    const { path, log, verifier } = setup()
    let answer: ((response: ServerResponse) => void) | undefined
    const held = new Promise<ServerResponse>((resolve) => {
      answer = resolve
    })
    // The key set answer is held until after close(), then fails, as during an app's shutdown.
    server.routes.set(path, { handle: (_request: unknown, response: ServerResponse) => answer?.(response) })
    const loading = verifier.ready().catch(() => undefined)
    const response = await held
    assert.deepEqual(
      log.events.map((event) => event.type),
      ['fetch'],
    )
    verifier.close()
    response.writeHead(500).end()
    await loading
    await settle()
    assert.deepEqual(
      log.events.map((event) => event.type),
      ['fetch'],
      'nothing reported after close()',
    )
  })

  it('revalidation: fetched with status 304, counted in revalidations', async () => {
    const { path, clock, log, verifier, stats } = setup()
    server.routes.set(path, {
      handle: (request: { headers: Record<string, unknown> }, response: ServerResponse) => {
        if (request.headers['if-none-match'] === '"e1"') response.writeHead(304, { etag: '"e1"' }).end()
        else response.writeHead(200, { ...JWKS_TYPE, etag: '"e1"' }).end(JSON.stringify(jwks(a)))
      },
    })
    await verifier.ready()
    clock.advance(46_000)
    const fetched = log.next('fetched')
    await verifier.verify(longToken(a))
    const event = await fetched
    assert.equal(event.status, 304)
    assert.equal(event.source, 'network')
    assert.equal(log.of('fetch').at(-1)?.reason, 'refresh')
    assert.equal(stats().revalidations, 1)
    assert.equal(stats().fetches, 2)
  })

  it('shared cache: fetched with source shared-cache, counted in sharedCacheHits, not in fetches', async () => {
    const clock = new Clock()
    const keySetCache = new MemoryKeySetCache(clock.nowMs)
    const one = setup({ keySetCache, nowMs: clock.nowMs })
    await one.verifier.ready()
    const log = new EventLog()
    const two = createVerifier({
      issuer: ISSUER,
      jwksUri: one.url,
      algorithms: ['ES256'],
      nowMs: clock.nowMs,
      onEvent: log.onEvent,
      keySetCache,
    })
    await two.ready()
    assert.deepEqual(
      log.events.map((e) => [e.type, 'source' in e ? e.source : undefined]),
      [['fetched', 'shared-cache']],
    )
    assert.equal(two.keySetStats()[0]?.sharedCacheHits, 1)
    assert.equal(two.keySetStats()[0]?.fetches, 0)
  })

  it('keys-changed: added and removed kids, counted in keysChanged; an unchanged refetch is not a change', async () => {
    const { path, clock, log, verifier, stats } = setup()
    await verifier.ready()
    assert.equal(log.of('keys-changed').length, 0, 'the first load is not a change')
    // Refetched unchanged (other member order): no change.
    server.routes.set(path, {
      body: { keys: [Object.fromEntries(Object.entries(a.jwk).reverse())] },
      headers: JWKS_TYPE,
    })
    clock.advance(46_000)
    let fetched = log.next('fetched')
    await verifier.verify(longToken(a))
    await fetched
    assert.equal(log.of('keys-changed').length, 0)
    assert.equal(stats().keysChanged, 0)
    // Rotated: b in, a out.
    server.routes.set(path, { body: jwks(b), headers: JWKS_TYPE })
    clock.advance(46_000)
    fetched = log.next('fetched')
    await verifier.verify(longToken(a, { sub: 'x' }))
    await fetched
    assert.deepEqual(log.of('keys-changed'), [
      { type: 'keys-changed', issuer: ISSUER, added: ['ev-b'], removed: ['ev-a'] },
    ])
    assert.equal(stats().keysChanged, 1)
  })

  it('key-rejected: each unusable key of a fetched set, also through onKeyRejected', async () => {
    const rejectedByCallback: KeyRejectedEvent[] = []
    const body = {
      keys: [
        a.jwk,
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'broken' },
      ],
    }
    const { log, verifier, stats } = setup(
      { onKeyRejected: (e: KeyRejectedEvent) => rejectedByCallback.push(e) },
      body,
    )
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    const rejected = log.of('key-rejected')
    assert.deepEqual(
      rejected.map((e) => [e.issuer, e.index, e.kid]),
      [
        [ISSUER, 1, 'hmac'],
        [ISSUER, 2, 'broken'],
      ],
    )
    for (const event of rejected) {
      assert.match(event.code, /^ERR_/)
      assert.ok(event.reason.length > 0)
    }
    assert.deepEqual(
      rejectedByCallback.map((e) => e.kid),
      ['hmac', 'broken'],
    )
    assert.equal(stats().keyCount, 1)
    // No key material in any event.
    const text = JSON.stringify(log.events)
    for (const secret of ['c2VjcmV0', String(a.jwk.x), String(a.jwk.y)])
      assert.equal(text.includes(secret), false)
  })

  it('fetch-failed and stale-served, with failures, consecutiveFailures, lastFailureAtMs and staleServes', async () => {
    const { path, url, clock, log, verifier, stats } = setup()
    await verifier.ready()
    server.routes.set(path, { status: 500, body: 'down' })
    clock.advance(61_000)
    const failed = log.next('fetch-failed')
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    const event = await failed
    assert.equal(event.issuer, ISSUER)
    assert.equal(event.url, url)
    assert.equal(event.code, 'ERR_JWKS_FETCH_FAILED')
    assert.equal(event.reason, 'status 500')
    assert.equal(event.consecutiveFailures, 1)
    assert.ok(event.retryInMs >= 500 && event.retryInMs <= 1000)
    assert.deepEqual(log.of('stale-served'), [{ type: 'stale-served', issuer: ISSUER, staleForMs: 1000 }])
    for (let i = 0; i < 4; i++) await verifier.verify(longToken(a, { sub: `s${i}` }))
    const s = stats()
    assert.equal(s.failures, 1)
    assert.equal(s.consecutiveFailures, 1)
    assert.equal(s.lastFailureAtMs, START_MS + 61_000)
    assert.equal(s.staleServes, 5)
    assert.equal(log.of('stale-served').length, 1, 'reported once per stale period')
  })

  it('unknown-kid-refused with each reason (cooldown, known-unknown, backoff), and the unknown-kid figures', async () => {
    const { path, clock, log, verifier, stats } = setup()
    await verifier.ready()
    // First unknown kid: fetched (reason unknown-kid), then remembered.
    assert.equal(await outcome(verifier.verify(withKid('k1'))), 'ERR_KEY_NOT_FOUND')
    assert.equal(log.of('fetch').at(-1)?.reason, 'unknown-kid')
    assert.equal(stats().unknownKidRefetches, 1)
    // The same kid again: known-unknown. Another one within the cooldown: cooldown.
    assert.equal(await outcome(verifier.verify(withKid('k1'))), 'ERR_KEY_NOT_FOUND')
    assert.equal(await outcome(verifier.verify(withKid('k2'))), 'ERR_KEY_NOT_FOUND')
    // After the cooldown, while a failed refresh is backing off: backoff.
    server.routes.set(path, { status: 500, body: 'down' })
    clock.advance(46_000)
    const failed = log.next('fetch-failed')
    await verifier.verify(longToken(a))
    await failed
    await settle()
    assert.equal(await outcome(verifier.verify(withKid('k3'))), 'ERR_KEY_NOT_FOUND')
    assert.deepEqual(
      log.of('unknown-kid-refused').map((e) => [e.issuer, e.reason]),
      [
        [ISSUER, 'known-unknown'],
        [ISSUER, 'cooldown'],
        [ISSUER, 'backoff'],
      ],
    )
    assert.equal(stats().unknownKidsRefused, 3)
    assert.equal(stats().unknownKidRefetches, 1)
  })

  it('discovered: once, with the jwks_uri found', async () => {
    const realm = `/disc-${++n}`
    const issuer = server.url(realm)
    server.routes.set(`${realm}/.well-known/openid-configuration`, {
      body: { issuer, jwks_uri: `${issuer}/certs` },
    })
    server.routes.set(`${realm}/certs`, { body: jwks(a), headers: JWKS_TYPE })
    const log = new EventLog()
    const clock = new Clock()
    const verifier = createVerifier({
      issuer,
      algorithms: ['ES256'],
      nowMs: clock.nowMs,
      onEvent: log.onEvent,
      tokenCache: false,
    })
    assert.equal(await outcome(verifier.verify(longToken(a, { iss: issuer }))), 'ok')
    assert.deepEqual(
      log.events.map((e) => e.type),
      ['discovered', 'fetch', 'fetched'],
    )
    assert.deepEqual(log.of('discovered')[0], { type: 'discovered', issuer, jwksUri: `${issuer}/certs` })
    // Discovery and key set requests both count as network fetches.
    assert.equal(verifier.keySetStats()[0]?.fetches, 2)
  })

  it('a static key set has no remote figures', () => {
    const verifier = createVerifier({ issuer: ISSUER, jwks: jwks(a), algorithms: ['ES256'] })
    assert.deepEqual(verifier.keySetStats(), [])
  })
})
