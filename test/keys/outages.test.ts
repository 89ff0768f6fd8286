// Issue 3, behaviour 5 (outages), against a real HTTP server on 127.0.0.1: when refreshes fail in
// each way, the last good set keeps serving up to maxStaleSeconds, failures are reported with a
// growing, jittered backoff that is respected, recovery replaces the set, and past maxStaleSeconds
// verification fails with ERR_JWKS_STALE. A failed first load does not cause a refetch storm.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { JWKS_TYPE, jwks, longToken, outcome, rejection, remoteVerifier, settle } from './support.ts'

const a = makeKey('ES256', 'out-a')
const b = makeKey('ES256', 'out-b')

const unusableKeys = {
  keys: [
    { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'symmetric' },
    { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'not-on-curve' },
  ],
}

describe('behaviour 5: outages', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  const setup = (extra: Partial<VerifierOptions> = {}) =>
    remoteVerifier(server, {
      name: 'outage',
      body: jwks(a),
      options: {
        cacheMaxAgeSeconds: 60,
        cacheMinAgeSeconds: 30,
        maxStaleSeconds: 3600,
        retryBaseSeconds: 1,
        retryMaxSeconds: 60,
        // Long enough that a loaded machine never turns a 500 into a timeout; the timeout mode waits it out once.
        timeoutMs: 600,
        maxResponseBytes: 4096,
        tokenCache: false,
        ...extra,
      },
    })

  it('the last good set serves through every kind of failed refresh, with backoff, until recovery', async () => {
    const { clock, log, verifier, serve, count } = setup()
    await verifier.ready()
    const port = server.port
    const modes: { name: string; apply: () => Promise<void> | void; code: string; reason: RegExp }[] = [
      {
        name: 'connection refused',
        apply: () => server.stop(),
        code: 'ERR_JWKS_FETCH_FAILED',
        reason: /network error/,
      },
      {
        name: 'timeout',
        apply: async () => {
          await server.start(port)
          serve({ handle: () => {} })
        },
        code: 'ERR_JWKS_FETCH_FAILED',
        reason: /^timeout$/,
      },
      {
        name: '500',
        apply: () => serve({ status: 500, body: 'down' }),
        code: 'ERR_JWKS_FETCH_FAILED',
        reason: /status 500/,
      },
      {
        name: 'bad JSON',
        apply: () => serve({ body: '{"keys":', headers: JWKS_TYPE }),
        code: 'ERR_JWKS_FETCH_FAILED',
        reason: /JSON/,
      },
      {
        name: 'wrong content type',
        apply: () => serve({ body: jwks(a, b), headers: { 'content-type': 'text/html' } }),
        code: 'ERR_JWKS_FETCH_FAILED',
        reason: /content type/,
      },
      {
        name: 'oversized',
        apply: () => serve({ body: { keys: [a.jwk, b.jwk], pad: 'x'.repeat(8000) }, headers: JWKS_TYPE }),
        code: 'ERR_JWKS_FETCH_FAILED',
        reason: /over 4096/,
      },
      {
        name: 'no usable key',
        apply: () => serve({ body: unusableKeys, headers: JWKS_TYPE }),
        code: 'ERR_KEYSET_INVALID',
        reason: /no usable key/,
      },
      {
        // Keys that import fine but may not verify (use "enc"): as useless as no keys at all.
        name: 'encryption keys only',
        apply: () => serve({ body: { keys: [{ ...b.jwk, use: 'enc' }] }, headers: JWKS_TYPE }),
        code: 'ERR_KEYSET_INVALID',
        reason: /no usable key/,
      },
    ]

    // The first refresh is due at 75 % of 60 s.
    let untilNextAttempt = 45_001
    let previousRetry = 0
    for (const [index, mode] of modes.entries()) {
      const failures = index + 1
      await mode.apply()
      clock.advance(untilNextAttempt)
      const failed = log.next('fetch-failed')
      assert.equal(await outcome(verifier.verify(longToken(a, { sub: `${mode.name}-1` }))), 'ok', mode.name)
      const event = await failed
      assert.equal(event.code, mode.code, mode.name)
      assert.match(event.reason, mode.reason, mode.name)
      assert.equal(event.consecutiveFailures, failures, mode.name)
      const ceiling = Math.min(60_000, 1000 * 2 ** (failures - 1))
      assert.ok(
        event.retryInMs >= ceiling / 2 && event.retryInMs <= ceiling,
        `${mode.name}: retryInMs ${event.retryInMs} outside [${ceiling / 2}, ${ceiling}]`,
      )
      // While the ceiling doubles, each jittered wait is at least the previous one; at the cap
      // (retryMaxSeconds) the jitter may go either way.
      if (ceiling < 60_000) assert.ok(event.retryInMs >= previousRetry, `${mode.name}: backoff shrank`)
      previousRetry = event.retryInMs

      // Not retried before retryInMs has passed, however many verifications come.
      const attempts = log.of('fetch').length
      const requests = count()
      clock.advance(event.retryInMs - 1)
      for (let i = 0; i < 5; i++) {
        assert.equal(await outcome(verifier.verify(longToken(a, { sub: `${mode.name}-wait-${i}` }))), 'ok')
      }
      await settle()
      assert.equal(log.of('fetch').length, attempts, `${mode.name}: retried before retryInMs`)
      assert.equal(count(), requests, `${mode.name}: retried before retryInMs`)
      untilNextAttempt = 1
    }

    const stats = verifier.keySetStats()[0]
    assert.equal(stats?.failures, modes.length)
    assert.equal(stats?.consecutiveFailures, modes.length)
    assert.equal(stats?.keyCount, 1, 'the last good set is still in use')
    assert.ok((stats?.staleServes ?? 0) > 0, 'the set was served past its freshness')
    assert.equal(log.of('stale-served').length, 1, 'stale serving is reported once per stale period')
    assert.equal(log.of('key-rejected').length, 2, 'the unusable keys were reported')

    // The provider recovers, with a new key: the next refresh replaces the set.
    serve({ body: jwks(a, b), headers: JWKS_TYPE })
    clock.advance(untilNextAttempt)
    const recovered = log.next('fetched')
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'recovery' }))), 'ok')
    assert.equal((await recovered).keys, 2)
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ok')
    const after = verifier.keySetStats()[0]
    assert.equal(after?.consecutiveFailures, 0)
    assert.equal(after?.failures, modes.length)
    assert.deepEqual(log.of('keys-changed').at(-1)?.added, ['out-b'])
  })

  it('past maxStaleSeconds, verification fails with ERR_JWKS_STALE until a refresh succeeds', async () => {
    const { clock, log, verifier, serve, count } = setup({ maxStaleSeconds: 600 })
    await verifier.ready()
    serve({ status: 503, body: 'maintenance' })
    // Fresh for 60 s, then stale-served up to 600 s more. One millisecond before the end: served.
    clock.advance(660_000 - 1)
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'last-stale' }))), 'ok')
    const failed = await log.next('fetch-failed')
    // Past the end, within the backoff: refused without a request.
    clock.advance(1)
    const requests = count()
    const error = await rejection(verifier.verify(longToken(a, { sub: 'too-stale' })))
    assert.equal(error.code, 'ERR_JWKS_STALE')
    assert.equal(count(), requests)
    // After the backoff, a verification tries once more; the provider still fails: stale again.
    clock.advance(failed.retryInMs)
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'retry' }))), 'ERR_JWKS_STALE')
    assert.equal(count(), requests + 1)
    // The provider recovers: the next allowed attempt loads a good set and verification works again.
    serve({ body: jwks(a), headers: JWKS_TYPE })
    clock.advance(60_001)
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'recovered' }))), 'ok')
    assert.equal(verifier.keySetStats()[0]?.consecutiveFailures, 0)
  })

  it('past maxStaleSeconds, a token verified earlier (in the verified-token cache) is refused too', async () => {
    const { clock, verifier, serve } = setup({ maxStaleSeconds: 600, tokenCache: { maxEntries: 100 } })
    const token = longToken(a)
    assert.equal(await outcome(verifier.verify(token)), 'ok')
    serve({ status: 503, body: 'maintenance' })
    clock.advance(60_000 + 600_000 + 1000)
    assert.equal(await outcome(verifier.verify(token)), 'ERR_JWKS_STALE')
  })

  it('unknown-kid tokens that join a failing fetch are refused like the one that started it', async () => {
    // The token whose unknown kid starts the fetch gets ERR_KEY_NOT_FOUND when the fetch fails; the
    // tokens that arrive during that fetch and share it must get the same answer, not the fetch's
    // internal error (ERR_JWKS_FETCH_FAILED is not a verification outcome).
    const { verifier, serve, count } = setup()
    await verifier.ready()
    serve({ status: 500, body: 'down', delayMs: 100 })
    const results = await Promise.all(
      ['u1', 'u2', 'u3', 'u4'].map((kid) => outcome(verifier.verify(longToken(a, { sub: kid }, { kid })))),
    )
    assert.equal(count(), 2, 'one shared fetch')
    assert.deepEqual(results, Array(4).fill('ERR_KEY_NOT_FOUND'))
  })

  it('an unknown-kid token that joins a failing background refresh is refused with ERR_KEY_NOT_FOUND', async () => {
    const { verifier, serve, clock, count } = setup()
    await verifier.ready()
    serve({ status: 500, body: 'down', delayMs: 100 })
    clock.advance(46_000)
    // Starts the background refresh and returns at once.
    assert.equal(await outcome(verifier.verify(longToken(a))), 'ok')
    assert.equal(await outcome(verifier.verify(longToken(a, {}, { kid: 'rotated' }))), 'ERR_KEY_NOT_FOUND')
    assert.equal(count(), 2)
  })

  it('a failed first load is ERR_JWKS_UNAVAILABLE and does not refetch on every verification', async () => {
    const { clock, log, verifier, serve, count } = setup()
    serve({ status: 500, body: 'down' })
    // Many concurrent first verifications: one request.
    const first = await Promise.all(
      Array.from({ length: 30 }, (_, i) => outcome(verifier.verify(longToken(a, { sub: `c${i}` })))),
    )
    assert.deepEqual(first, Array(30).fill('ERR_JWKS_UNAVAILABLE'))
    assert.equal(count(), 1)
    const failed = log.of('fetch-failed')[0]
    assert.ok(failed)
    assert.equal(failed.consecutiveFailures, 1)
    assert.ok(failed.retryInMs >= 500 && failed.retryInMs <= 1000, `retryInMs ${failed.retryInMs}`)

    // During the backoff: refused at once, no request.
    clock.advance(failed.retryInMs - 1)
    for (let i = 0; i < 50; i++) {
      const error = await rejection(verifier.verify(longToken(a, { sub: `w${i}` })))
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    }
    assert.equal(count(), 1, 'refetched during the backoff')

    // After it: one more attempt, which fails again with a longer backoff.
    clock.advance(1)
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'second' }))), 'ERR_JWKS_UNAVAILABLE')
    assert.equal(count(), 2)
    const second = log.of('fetch-failed')[1]
    assert.ok(second && second.consecutiveFailures === 2)
    assert.ok(second.retryInMs >= 1000 && second.retryInMs <= 2000, `retryInMs ${second.retryInMs}`)

    // ready() reports the failure too.
    clock.advance(second.retryInMs)
    await assert.rejects(verifier.ready())

    // The provider recovers: after the backoff, the next verification loads the set.
    serve({ body: jwks(a), headers: JWKS_TYPE })
    clock.advance(10_000)
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'up' }))), 'ok')
    assert.equal(verifier.keySetStats()[0]?.consecutiveFailures, 0)
  })
})
