// Issue 3, behaviour 7 (several issuers), against two real HTTP servers on 127.0.0.1: a token is
// routed by its exact iss to that issuer's own key set and options; an issuer that is not
// configured is refused before any network I/O; a key of B never verifies a token claiming A.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createVerifier, type VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { Clock, EventLog, JWKS_TYPE, jwks, longToken, outcome } from './support.ts'

const ISSUER_A = 'https://a.example.com/realm'
const ISSUER_B = 'https://b.example.com'
// Both providers publish a key under the same kid.
const keyA = makeKey('RS256', 'shared-kid')
const keyB = makeKey('ES256', 'shared-kid')
const keyB2 = makeKey('RS256', 'b-rsa')

describe('behaviour 7: several issuers', () => {
  const serverA = new TestServer()
  const serverB = new TestServer()
  before(async () => {
    await serverA.start()
    await serverB.start()
  })
  after(async () => {
    await serverA.stop()
    await serverB.stop()
  })

  let n = 0
  const setup = (extra: Partial<VerifierOptions> = {}) => {
    const path = `/jwks-${++n}`
    serverA.routes.set(path, { body: jwks(keyA), headers: JWKS_TYPE })
    serverB.routes.set(path, {
      body: { keys: [keyB.jwk, { ...keyA.jwk, kid: 'a-key-copied-into-b' }, keyB2.jwk] },
      headers: JWKS_TYPE,
    })
    const clock = new Clock()
    const log = new EventLog()
    const verifier = createVerifier({
      issuers: [
        { issuer: ISSUER_A, jwksUri: serverA.url(path), audience: 'api-a', algorithms: ['RS256'] },
        {
          issuer: ISSUER_B,
          jwksUri: serverB.url(path),
          audience: 'api-b',
          algorithms: ['ES256'],
          cooldownSeconds: 5,
        },
      ],
      nowMs: clock.nowMs,
      onEvent: log.onEvent,
      ...extra,
    } as VerifierOptions)
    return { verifier, clock, log, countA: () => serverA.count(path), countB: () => serverB.count(path) }
  }

  it('routes each token by its exact iss to its own key set', async () => {
    const { verifier, countA, countB } = setup()
    assert.deepEqual(verifier.issuers, [ISSUER_A, ISSUER_B])
    assert.equal(await outcome(verifier.verify(longToken(keyA, { iss: ISSUER_A, aud: 'api-a' }))), 'ok')
    assert.equal(countA(), 1)
    assert.equal(countB(), 0, 'a token of A loaded the key set of B')
    assert.equal(await outcome(verifier.verify(longToken(keyB, { iss: ISSUER_B, aud: 'api-b' }))), 'ok')
    assert.equal(countA(), 1)
    assert.equal(countB(), 1)
    const stats = verifier.keySetStats()
    assert.deepEqual(
      stats.map((s) => [s.issuer, s.fetches, s.keyCount]),
      [
        [ISSUER_A, 1, 1],
        [ISSUER_B, 1, 3],
      ],
    )
  })

  it('a key of B never verifies a token claiming A, even under the same kid', async () => {
    const { verifier } = setup()
    // Signed by B's key, claiming A, with the kid both sets use: A's key is selected and fails.
    const forged = longToken(keyB, { iss: ISSUER_A, aud: 'api-a' }, { alg: 'ES256' })
    assert.equal(await outcome(verifier.verify(forged)), 'ERR_ALG_NOT_ALLOWED')
    // Same algorithm as A's policy: B's RSA key signs with A's kid; A's key set answers, and refuses.
    const forgedRsa = longToken(keyB2, { iss: ISSUER_A, aud: 'api-a' }, { kid: 'shared-kid' })
    assert.equal(await outcome(verifier.verify(forgedRsa)), 'ERR_SIGNATURE_INVALID')
    // B's key under its own kid, claiming A: A's set has no such kid.
    const wrongSet = longToken(keyB2, { iss: ISSUER_A, aud: 'api-a' })
    assert.equal(await outcome(verifier.verify(wrongSet)), 'ERR_KEY_NOT_FOUND')
    // A's key copied into B's set does not make B's tokens acceptable to A, nor A's to B.
    const viaCopy = longToken(keyA, { iss: ISSUER_B, aud: 'api-b' }, { kid: 'a-key-copied-into-b' })
    assert.equal(await outcome(verifier.verify(viaCopy)), 'ERR_ALG_NOT_ALLOWED')
  })

  it('refuses a token from an issuer that is not configured before any network I/O', async () => {
    const { verifier, countA, countB, log } = setup()
    for (const iss of [
      'https://c.example.com',
      `${ISSUER_A}/`,
      ISSUER_A.toUpperCase(),
      'https://b.example.com/',
      '',
    ]) {
      assert.equal(
        await outcome(verifier.verify(longToken(keyA, { iss, aud: 'api-a' }))),
        'ERR_ISSUER_UNKNOWN',
        iss,
      )
    }
    assert.equal(
      await outcome(verifier.verify(longToken(keyA, { iss: undefined, aud: 'api-a' }))),
      'ERR_ISSUER_UNKNOWN',
    )
    assert.equal(
      await outcome(verifier.verify(longToken(keyA, { iss: [ISSUER_A], aud: 'api-a' }))),
      'ERR_ISSUER_UNKNOWN',
    )
    assert.equal(countA(), 0)
    assert.equal(countB(), 0)
    assert.equal(log.events.length, 0, 'a key set event for an unconfigured issuer')
  })

  it('applies per-issuer options: audience and algorithms', async () => {
    const { verifier, countB } = setup()
    assert.equal(
      await outcome(verifier.verify(longToken(keyA, { iss: ISSUER_A, aud: 'api-b' }))),
      'ERR_AUDIENCE_MISMATCH',
    )
    assert.equal(
      await outcome(verifier.verify(longToken(keyB, { iss: ISSUER_B, aud: 'api-a' }))),
      'ERR_AUDIENCE_MISMATCH',
    )
    assert.equal(await outcome(verifier.verify(longToken(keyA, { iss: ISSUER_A, aud: 'api-a' }))), 'ok')
    assert.equal(await outcome(verifier.verify(longToken(keyB, { iss: ISSUER_B, aud: 'api-b' }))), 'ok')
    // B accepts only ES256: its own RS256 key is refused by its algorithm list, before any key lookup.
    const before = countB()
    assert.equal(
      await outcome(verifier.verify(longToken(keyB2, { iss: ISSUER_B, aud: 'api-b' }))),
      'ERR_ALG_NOT_ALLOWED',
    )
    assert.equal(countB(), before)
  })

  it('keeps caches and cooldowns separate: an unknown kid at A does not refetch B', async () => {
    const { verifier, countA, countB, clock } = setup()
    await verifier.ready()
    assert.equal(countA(), 1)
    assert.equal(countB(), 1)
    clock.advance(1000)
    assert.equal(
      await outcome(verifier.verify(longToken(keyA, { iss: ISSUER_A, aud: 'api-a' }, { kid: 'new-at-a' }))),
      'ERR_KEY_NOT_FOUND',
    )
    assert.equal(countA(), 2)
    assert.equal(countB(), 1)
    // B's own cooldown (5 s) is not A's (default 30 s).
    clock.advance(1000)
    assert.equal(
      await outcome(verifier.verify(longToken(keyB, { iss: ISSUER_B, aud: 'api-b' }, { kid: 'new-at-b' }))),
      'ERR_KEY_NOT_FOUND',
    )
    assert.equal(countB(), 2)
    clock.advance(5000)
    assert.equal(
      await outcome(verifier.verify(longToken(keyB, { iss: ISSUER_B, aud: 'api-b' }, { kid: 'newer-at-b' }))),
      'ERR_KEY_NOT_FOUND',
    )
    assert.equal(countB(), 3, "B's 5 s cooldown did not apply")
    assert.equal(
      await outcome(verifier.verify(longToken(keyA, { iss: ISSUER_A, aud: 'api-a' }, { kid: 'newer-at-a' }))),
      'ERR_KEY_NOT_FOUND',
    )
    assert.equal(countA(), 2, "A's 30 s cooldown did not apply")
  })
})
