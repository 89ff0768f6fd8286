// Issue 3, behaviour 2 (caching), against a real HTTP server on 127.0.0.1: freshness from
// Cache-Control max-age within bounds, revalidation with ETag and Last-Modified (304), single
// flight for concurrent first verifications, and refresh ahead of expiry in the background.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { JWKS_TYPE, jwks, longToken, outcome, remoteVerifier, settle } from './support.ts'

const a = makeKey('ES256', 'cache-a')
const b = makeKey('ES256', 'cache-b')

describe('behaviour 2: caching', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  const setup = (path: string, extra: Partial<VerifierOptions> = {}) =>
    remoteVerifier(server, {
      path,
      options: {
        cacheMaxAgeSeconds: 600,
        cacheMinAgeSeconds: 30,
        // Every verification reaches the key set: the verified-token cache is another test's subject.
        tokenCache: false,
        ...extra,
      },
    })

  // Freshness is what the first fetch reports, and what decides when the next fetch starts: not
  // before 75 % of it has passed, and as soon as it has.
  async function assertFreshness(path: string, cacheControl: string, expectedMs: number) {
    server.routes.set(path, { body: jwks(a), headers: { ...JWKS_TYPE, 'cache-control': cacheControl } })
    const { clock, log, verifier } = setup(path)
    await verifier.ready()
    assert.equal(log.of('fetched')[0]?.freshForMs, expectedMs, cacheControl)
    const refreshAt = expectedMs * 0.75
    clock.advance(refreshAt - 1)
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    await settle()
    assert.equal(server.count(path), 1, `${cacheControl}: refreshed before 75 % of freshness`)
    const refreshed = log.next('fetched')
    clock.advance(1)
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    await refreshed
    assert.equal(server.count(path), 2, `${cacheControl}: not refreshed at 75 % of freshness`)
  }

  it('a max-age shorter than cacheMaxAgeSeconds shortens freshness', async () => {
    await assertFreshness('/max-age-120', 'public, max-age=120', 120_000)
  })

  it('a max-age over cacheMaxAgeSeconds is capped', async () => {
    await assertFreshness('/max-age-year', 'max-age=31536000', 600_000)
  })

  it('a max-age under cacheMinAgeSeconds is raised, and so is no-store', async () => {
    await assertFreshness('/max-age-5', 'max-age=5', 30_000)
    await assertFreshness('/no-store', 'no-store', 30_000)
  })

  it('the Age header counts against max-age', async () => {
    await assertFreshness('/aged', 'max-age=300', 300_000)
    server.routes.set('/aged-100', {
      body: jwks(a),
      headers: { ...JWKS_TYPE, 'cache-control': 'max-age=300', age: '100' },
    })
    const { log, verifier } = setup('/aged-100')
    await verifier.ready()
    assert.equal(log.of('fetched')[0]?.freshForMs, 200_000)
  })

  // A server that answers 304 when the client's validator matches, 200 otherwise.
  function conditional(header: 'etag' | 'last-modified', value: string) {
    const requestHeader = header === 'etag' ? 'if-none-match' : 'if-modified-since'
    const seen: (string | undefined)[] = []
    const handle = (
      request: { headers: Record<string, string | string[] | undefined> },
      response: ServerResponse,
    ) => {
      const sent = request.headers[requestHeader] as string | undefined
      seen.push(sent)
      if (sent === value) {
        response.writeHead(304, { [header]: value, 'cache-control': 'max-age=300' }).end()
        return
      }
      response.writeHead(200, { ...JWKS_TYPE, [header]: value, 'cache-control': 'max-age=400' })
      response.end(JSON.stringify(jwks(a)))
    }
    return { seen, handle }
  }

  for (const [header, value] of [
    ['etag', '"v1-abc"'],
    ['last-modified', 'Wed, 21 Oct 2026 07:28:00 GMT'],
  ] as const) {
    it(`revalidates with ${header === 'etag' ? 'ETag / If-None-Match' : 'Last-Modified / If-Modified-Since'}: a 304 keeps the keys and renews freshness`, async () => {
      const path = `/conditional-${header}`
      const { seen, handle } = conditional(header, value)
      server.routes.set(path, { handle })
      const { clock, log, verifier } = setup(path)
      await verifier.ready()
      assert.deepEqual(seen, [undefined], 'the first request carries no validator')
      assert.equal(log.of('fetched')[0]?.freshForMs, 400_000)

      // Past 75 % of 400 s: a background refresh, conditional, answered 304.
      clock.advance(301_000)
      const revalidated = log.next('fetched')
      assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
      const event = await revalidated
      assert.deepEqual(seen, [undefined, value], 'the refresh sends the validator back')
      assert.equal(event.status, 304)
      assert.equal(event.source, 'network')
      assert.equal(event.keys, 1)
      assert.equal(event.freshForMs, 300_000, 'freshness renewed from the 304 answer')
      const stats = verifier.keySetStats()[0]
      assert.equal(stats?.revalidations, 1)
      assert.equal(stats?.fetches, 2)
      assert.equal(stats?.keyCount, 1)
      assert.equal(stats?.ageMs, 0, 'the set counts as fetched now')
      assert.equal(log.of('keys-changed').length, 0)

      // Past the first set's original freshness (400 s), the renewed one is still fresh: no stale
      // serving and no request until 75 % of the renewed 300 s.
      clock.advance(200_000)
      assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
      await settle()
      assert.equal(seen.length, 2)
      assert.equal(verifier.keySetStats()[0]?.staleServes, 0)
      assert.equal(log.of('stale-served').length, 0)

      // The next refresh revalidates again.
      clock.advance(25_001)
      const again = log.next('fetched')
      assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
      assert.equal((await again).status, 304)
      assert.equal(verifier.keySetStats()[0]?.revalidations, 2)
    })
  }

  it('concurrent first verifications share one fetch', async () => {
    server.routes.set('/single-flight', { body: jwks(a), headers: JWKS_TYPE, delayMs: 100 })
    const { verifier, log } = setup('/single-flight')
    const results = await Promise.all([
      verifier.ready(),
      ...Array.from({ length: 50 }, (_, i) => outcome(verifier.verify(longToken(a, { sub: `user-${i}` })))),
    ])
    assert.deepEqual(results.slice(1), Array(50).fill('ok'))
    assert.equal(server.count('/single-flight'), 1)
    assert.equal(log.of('fetch').length, 1)
    assert.equal(verifier.keySetStats()[0]?.fetches, 1)
  })

  it('refreshes ahead of expiry in the background: verification does not wait for the network', async () => {
    server.routes.set('/ahead', { body: jwks(a), headers: JWKS_TYPE })
    const { clock, log, verifier } = setup('/ahead')
    await verifier.ready()
    // The provider now answers slowly, with a new key added.
    server.routes.set('/ahead', { body: jwks(a, b), headers: JWKS_TYPE, delayMs: 300 })
    clock.advance(600_000 * 0.75 + 1000)
    const fetchStarted = log.next('fetch')
    const installed = log.next('fetched')
    const started = performance.now()
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    const elapsed = performance.now() - started
    assert.ok(elapsed < 150, `verification waited ${Math.round(elapsed)} ms for a background refresh`)
    assert.equal((await fetchStarted).reason, 'refresh')
    assert.equal(log.of('fetched').length, 1, 'the new set is not in yet')

    // More verifications during the refresh neither wait nor start another fetch.
    for (let i = 0; i < 20; i++)
      assert.equal(await outcome(verifier.verify(longToken(a, { sub: `u${i}` }))), 'ok')
    assert.ok(performance.now() - started < 250, 'verifications waited for the refresh')

    const event = await installed
    assert.equal(event.status, 200)
    assert.equal(event.keys, 2)
    assert.equal(server.count('/ahead'), 2)
    // The new key verifies from the installed set, with no further request.
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ok')
    assert.equal(server.count('/ahead'), 2)
  })

  it('a set past its freshness keeps serving while a slow refresh runs', async () => {
    server.routes.set('/slow-stale', { body: jwks(a), headers: JWKS_TYPE })
    const { clock, log, verifier } = setup('/slow-stale')
    await verifier.ready()
    server.routes.set('/slow-stale', { body: jwks(a), headers: JWKS_TYPE, delayMs: 300 })
    clock.advance(650_000)
    const installed = log.next('fetched')
    const started = performance.now()
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    assert.ok(performance.now() - started < 150, 'verification waited for the refresh')
    await installed
    assert.equal(server.count('/slow-stale'), 2)
  })

  it('close() stops background refreshes', async () => {
    server.routes.set('/closed', { body: jwks(a), headers: JWKS_TYPE })
    const { clock, verifier } = setup('/closed')
    await verifier.ready()
    verifier.close()
    clock.advance(500_000)
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    await settle()
    assert.equal(server.count('/closed'), 1)
  })
})
