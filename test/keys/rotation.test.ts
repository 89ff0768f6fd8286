// Issue 3, behaviour 3 (rotation), against a real HTTP server on 127.0.0.1: an unknown kid causes
// one fetch (single flight), at most one per cooldownSeconds, at once after a quiet period; a new key
// verifies; a key that left stops verifying, cached tokens included.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { JWKS_TYPE, longToken, outcome, remoteVerifier, settle } from './support.ts'

const a = makeKey('ES256', 'rot-a')
const b = makeKey('ES256', 'rot-b')
const c = makeKey('ES256', 'rot-c')
// Same kid as `a`, other key material: a key replaced in place.
const aReplaced = makeKey('ES256', 'rot-a-new-material')
const aReplacedJwk = { ...aReplaced.jwk, kid: 'rot-a' }
const signedByReplaced = (claims: Record<string, unknown> = {}) =>
  longToken(aReplaced, claims, { kid: 'rot-a' })

describe('behaviour 3: rotation', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  const setup = (initial: Record<string, unknown>[], extra: Partial<VerifierOptions> = {}) => {
    const remote = remoteVerifier(server, {
      name: 'rotation',
      body: { keys: initial },
      options: { cooldownSeconds: 30, cacheMaxAgeSeconds: 3600, ...extra },
    })
    const publish = (keys: Record<string, unknown>[], delayMs = 0) =>
      remote.serve({ body: { keys }, headers: JWKS_TYPE, delayMs })
    return { ...remote, publish }
  }

  it('an unknown kid causes one fetch shared by every concurrent token naming it, and the new key verifies', async () => {
    const { verifier, publish, count, log } = setup([a.jwk])
    await verifier.ready()
    publish([a.jwk, b.jwk], 50)
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => outcome(verifier.verify(longToken(b, { sub: `user-${i}` })))),
    )
    assert.deepEqual(results, Array(100).fill('ok'))
    assert.equal(count(), 2, 'one fetch for the unknown kid')
    assert.equal(log.of('fetch').at(-1)?.reason, 'unknown-kid')
    assert.equal(verifier.keySetStats()[0]?.unknownKidRefetches, 1)
    assert.deepEqual(log.of('keys-changed').at(-1)?.added, ['rot-b'])
  })

  it('at most one unknown-kid fetch per cooldownSeconds', async () => {
    const { verifier, publish, count, clock, log } = setup([a.jwk])
    await verifier.ready()
    publish([a.jwk, b.jwk])
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ok')
    assert.equal(count(), 2)

    // Within the cooldown, another unknown kid is refused without a fetch, even once published.
    publish([a.jwk, b.jwk, c.jwk])
    clock.advance(1000)
    assert.equal(await outcome(verifier.verify(longToken(c))), 'ERR_KEY_NOT_FOUND')
    clock.advance(28_999)
    assert.equal(await outcome(verifier.verify(longToken(c, { sub: 'again' }))), 'ERR_KEY_NOT_FOUND')
    assert.equal(count(), 2, 'fetched during the cooldown')
    assert.deepEqual(
      log.of('unknown-kid-refused').map((e) => e.reason),
      ['cooldown', 'cooldown'],
    )

    // Once the cooldown has passed, the next unknown kid is fetched, and verifies.
    clock.advance(1)
    assert.equal(await outcome(verifier.verify(longToken(c))), 'ok')
    assert.equal(count(), 3)
    assert.equal(verifier.keySetStats()[0]?.unknownKidRefetches, 2)
  })

  it('the first unknown kid after a quiet period is fetched at once, by the request that carries it', async () => {
    const { verifier, publish, count, clock } = setup([a.jwk])
    await verifier.ready()
    // Right after the first load: no unknown-kid fetch yet, so no cooldown applies.
    publish([a.jwk, b.jwk])
    clock.advance(1000)
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ok')
    assert.equal(count(), 2)
    // Quiet for 20 minutes, then the provider rotates: the first token with the new kid verifies.
    clock.advance(20 * 60_000)
    publish([b.jwk, c.jwk])
    assert.equal(await outcome(verifier.verify(longToken(c))), 'ok')
    assert.equal(count(), 3)
  })

  it('a key that left the set stops verifying after the refresh, and its verified-token cache entries go', async () => {
    const { verifier, publish, count, log } = setup([a.jwk, b.jwk])
    const tokenA = longToken(a)
    const first = await verifier.verify(tokenA)
    const second = await verifier.verify(tokenA)
    assert.equal(second, first, 'the second verification came from the verified-token cache')

    // The provider drops key a and adds c; a token with kid c triggers the refresh.
    publish([b.jwk, c.jwk])
    assert.equal(await outcome(verifier.verify(longToken(c))), 'ok')
    assert.equal(count(), 2)
    const changed = log.of('keys-changed').at(-1)
    assert.deepEqual(changed?.added, ['rot-c'])
    assert.deepEqual(changed?.removed, ['rot-a'])

    // The cached token of the removed key is refused now.
    assert.equal(await outcome(verifier.verify(tokenA)), 'ERR_KEY_NOT_FOUND')
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'new-token' }))), 'ERR_KEY_NOT_FOUND')
    // The key that stayed keeps verifying.
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ok')
  })

  it('a key replaced in place (same kid, new material): old tokens, cached ones included, stop verifying', async () => {
    const { verifier, publish, clock, log } = setup([a.jwk], { cacheMaxAgeSeconds: 600 })
    const oldToken = longToken(a)
    assert.equal(await outcome(verifier.verify(oldToken)), 'ok')
    publish([aReplacedJwk])
    // A scheduled refresh (past 75 % of freshness), started by another verification.
    clock.advance(451_000)
    const installed = log.next('keys-changed')
    assert.equal(await outcome(verifier.verify(longToken(a, { sub: 'other' }))), 'ok')
    const changed = await installed
    assert.deepEqual(changed.added, ['rot-a'])
    assert.deepEqual(changed.removed, ['rot-a'])
    assert.equal(await outcome(verifier.verify(oldToken)), 'ERR_SIGNATURE_INVALID')
    assert.equal(await outcome(verifier.verify(signedByReplaced())), 'ok')
  })

  it('a scheduled refresh that removes a key also drops that key from the verified-token cache', async () => {
    const { verifier, publish, clock, log } = setup([a.jwk, b.jwk], { cacheMaxAgeSeconds: 600 })
    const tokenA = longToken(a)
    const cached = await verifier.verify(tokenA)
    assert.equal(await verifier.verify(tokenA), cached)
    publish([b.jwk])
    clock.advance(451_000)
    const changed = log.next('keys-changed')
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ok')
    await changed
    await settle()
    assert.equal(await outcome(verifier.verify(tokenA)), 'ERR_KEY_NOT_FOUND')
  })

  it('a kid found absent is looked up again once the cooldown has passed (publication lag)', async () => {
    // A provider may sign with a new key a moment before its JWKS endpoint (or CDN) serves it.
    // The first token with that kid finds it absent; once the cooldown has passed, a token with the
    // same kid must be able to cause a fetch again, or the new key is refused until the next
    // scheduled refresh (up to cacheMaxAgeSeconds) instead of at most cooldownSeconds.
    const { verifier, publish, count, clock } = setup([a.jwk])
    await verifier.ready()
    assert.equal(await outcome(verifier.verify(longToken(b))), 'ERR_KEY_NOT_FOUND')
    assert.equal(count(), 2, 'the unknown kid was looked up')
    publish([a.jwk, b.jwk])
    clock.advance(31_000)
    assert.equal(await outcome(verifier.verify(longToken(b, { sub: 'later' }))), 'ok')
    assert.equal(count(), 3)
  })
})
