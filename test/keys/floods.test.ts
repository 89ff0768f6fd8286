// Issue 3, behaviour 4 (floods), against a real HTTP server on 127.0.0.1: 10,000 tokens with random
// kids cause at most one fetch per cooldown and never evict a known key; valid tokens keep verifying
// between them; a repeated bogus kid is refused from the bounded negative cache.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { JWKS_TYPE, jwks, longToken, outcome, remoteVerifier, tokenWithKid } from './support.ts'

const known = [makeKey('ES256', 'flood-1'), makeKey('ES256', 'flood-2'), makeKey('ES256', 'flood-3')]
const [k1, k2, k3] = known as [(typeof known)[0], (typeof known)[0], (typeof known)[0]]

/** A token that names `kid` (a flood token: it fails at key lookup). */
const withKid = (kid: string): string => tokenWithKid(k1, kid)
const randomKid = () => randomBytes(12).toString('base64url')

describe('behaviour 4: floods of unknown kids', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  const setup = (extra: Partial<VerifierOptions> = {}, delayMs = 0) =>
    remoteVerifier(server, {
      name: 'flood',
      body: jwks(...known),
      delayMs,
      options: {
        cooldownSeconds: 30,
        cacheMaxAgeSeconds: 3600,
        // Every valid token goes through key selection, not the verified-token cache.
        tokenCache: false,
        ...extra,
      },
    })

  it('10,000 random-kid tokens cause at most one fetch per cooldown and never evict a known key', async () => {
    const { verifier, clock, count, log } = setup()
    await verifier.ready()
    const batches = 20
    const perBatch = 500
    const stepMs = 5000 // 20 batches over 100 s of injected time: four cooldown windows at most
    let refused = 0
    for (let batch = 0; batch < batches; batch++) {
      const flood = Array.from({ length: perBatch }, () => outcome(verifier.verify(withKid(randomKid()))))
      // A valid token with each known key in the middle of every batch.
      const valid = known.map((key, i) => outcome(verifier.verify(longToken(key, { sub: `b${batch}-${i}` }))))
      const floodResults = await Promise.all(flood)
      assert.deepEqual(await Promise.all(valid), ['ok', 'ok', 'ok'], `batch ${batch}`)
      refused += floodResults.filter((code) => code === 'ERR_KEY_NOT_FOUND').length
      clock.advance(stepMs)
    }
    assert.equal(refused, batches * perBatch, 'every random kid was refused with ERR_KEY_NOT_FOUND')
    const elapsedMs = batches * stepMs
    const windows = Math.floor(elapsedMs / 30_000) + 1
    const kidFetches = log.of('fetch').filter((e) => e.reason === 'unknown-kid').length
    assert.ok(
      kidFetches >= 1 && kidFetches <= windows,
      `${kidFetches} unknown-kid fetches in ${windows} windows`,
    )
    assert.equal(count(), 1 + kidFetches, 'requests beyond the initial load and the cooldown windows')
    const stats = verifier.keySetStats()[0]
    assert.equal(stats?.unknownKidRefetches, kidFetches)
    assert.equal(stats?.keyCount, 3)
    // Every known key still verifies after the flood, without a fetch.
    const before = count()
    for (const key of known)
      assert.equal(await outcome(verifier.verify(longToken(key, { sub: 'after' }))), 'ok')
    assert.equal(count(), before)
  })

  it('valid tokens do not wait for a fetch caused by unknown kids', async () => {
    const { verifier, path } = setup()
    await verifier.ready()
    server.routes.set(path, { body: jwks(...known), headers: JWKS_TYPE, delayMs: 300 })
    const flood = Promise.all(
      Array.from({ length: 200 }, () => outcome(verifier.verify(withKid(randomKid())))),
    )
    const started = performance.now()
    for (const key of known)
      assert.equal(await outcome(verifier.verify(longToken(key, { sub: 'during' }))), 'ok')
    const elapsed = performance.now() - started
    assert.ok(elapsed < 150, `valid tokens waited ${Math.round(elapsed)} ms behind the unknown-kid fetch`)
    const results = await flood
    assert.ok(results.every((code) => code === 'ERR_KEY_NOT_FOUND'))
  })

  it('the same bogus kid repeated is refused from the negative cache, without a fetch', async () => {
    const { verifier, count, clock, log } = setup()
    await verifier.ready()
    const bogus = withKid('bogus-kid')
    assert.equal(await outcome(verifier.verify(bogus)), 'ERR_KEY_NOT_FOUND')
    assert.equal(count(), 2, 'the first sight of the kid is looked up')
    const refusedBefore = verifier.keySetStats()[0]?.unknownKidsRefused ?? 0
    for (let i = 0; i < 1000; i++) {
      if (i % 100 === 0) clock.advance(1000)
      assert.equal(await outcome(verifier.verify(bogus)), 'ERR_KEY_NOT_FOUND')
    }
    assert.equal(count(), 2)
    assert.equal((verifier.keySetStats()[0]?.unknownKidsRefused ?? 0) - refusedBefore, 1000)
    const reasons = new Set(log.of('unknown-kid-refused').map((e) => e.reason))
    assert.deepEqual([...reasons], ['known-unknown'])
  })

  it('maxUnknownKids bounds the negative cache: the oldest kids are forgotten first', async () => {
    // Five unknown kids share one slow fetch; afterwards only the last three are remembered.
    const { verifier, count, log } = setup({ maxUnknownKids: 3 }, 100)
    await verifier.ready()
    const kids = ['nk-1', 'nk-2', 'nk-3', 'nk-4', 'nk-5']
    const first = await Promise.all(kids.map((kid) => outcome(verifier.verify(withKid(kid)))))
    assert.deepEqual(first, Array(5).fill('ERR_KEY_NOT_FOUND'))
    assert.equal(count(), 2, 'one shared fetch for the five kids')

    const reasonFor = async (kid: string) => {
      const seen = log.of('unknown-kid-refused').length
      assert.equal(await outcome(verifier.verify(withKid(kid))), 'ERR_KEY_NOT_FOUND')
      return log.of('unknown-kid-refused')[seen]?.reason
    }
    // Remembered: refused as known unknowns.
    assert.equal(await reasonFor('nk-5'), 'known-unknown')
    assert.equal(await reasonFor('nk-4'), 'known-unknown')
    assert.equal(await reasonFor('nk-3'), 'known-unknown')
    // Forgotten (beyond the bound): refused by the cooldown instead.
    assert.equal(await reasonFor('nk-1'), 'cooldown')
    assert.equal(await reasonFor('nk-2'), 'cooldown')
    assert.equal(count(), 2)
  })

  it('with a small negative cache, a flood overflows it without a fetch storm or lost keys', async () => {
    const { verifier, clock, count, log } = setup({ maxUnknownKids: 100 })
    await verifier.ready()
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => outcome(verifier.verify(withKid(randomKid())))),
      )
      assert.ok(results.every((code) => code === 'ERR_KEY_NOT_FOUND'))
      assert.equal(await outcome(verifier.verify(longToken(k2, { sub: `r${round}` }))), 'ok')
      clock.advance(10_000)
    }
    // 40 s of injected time: two cooldown windows.
    assert.ok(count() - 1 <= 2, `${count() - 1} unknown-kid fetches`)
    assert.equal(log.of('fetch').filter((e) => e.reason !== 'unknown-kid').length, 1)
    assert.equal(await outcome(verifier.verify(longToken(k3, { sub: 'end' }))), 'ok')
  })
})
