// Rules for choosing the verification key: only from the configured key set (RFC 8725 §3.10;
// node-jose CVE-2018-0114: header `jwk` trusted), by exact string `kid` (RFC 7515 §4.1.4; ruby-jwt
// #440), and by the key's own kty/crv/alg/use/key_ops (RFC 7517 §4.2-4.3; Wycheproof JWS tcIds
// 353-356). No candidate or more than one candidate is an error: never try several keys
// (RFC 7517 §4.5; Wycheproof JWK tcId 4 DuplicateKid/Ambiguous; security catalogue B1-B5).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createVerifier } from '../../src/index.ts'
import { fixedClock, ISSUER, makeKey, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, jwkWithout, verifierFor } from './support.ts'

const trusted = makeKey('ES256', 'trusted')
const attacker = makeKey('ES256', 'attacker')

describe('keys come only from the configured key set (RFC 8725 §3.10; CVE-2018-0114)', () => {
  // A local server holding the attacker's key set, to prove that header URLs are never fetched.
  let requests = 0
  let base = ''
  const server = createServer((_request, response) => {
    requests++
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys: [attacker.jwk] }))
  })
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const verifier = verifierFor([trusted], { algorithms: ['ES256'] })
  const attackerDer = (attacker.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString(
    'base64',
  )

  /** Waits briefly, so that a fetch started in the background would have reached the server. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

  it('fixture check: the attacker server answers when asked', async () => {
    const before = requests
    const response = await fetch(`${base}/jwks.json`)
    assert.equal(response.status, 200)
    await response.arrayBuffer()
    assert.equal(requests, before + 1)
  })

  it('never uses an embedded "jwk": attacker-signed with its own key embedded, no kid → ERR_SIGNATURE_INVALID', async () => {
    const token = signToken(attacker, {}, { kid: undefined, jwk: jwkWithout(attacker, 'kid') })
    await expectCode(verifier.verify(token), 'ERR_SIGNATURE_INVALID')
  })

  it('never uses an embedded "jwk" whose kid names no configured key → ERR_KEY_NOT_FOUND', async () => {
    const token = signToken(attacker, {}, { jwk: attacker.jwk })
    await expectCode(verifier.verify(token), 'ERR_KEY_NOT_FOUND')
  })

  it('never uses an embedded "jwk" carrying the trusted kid: the configured key is used → ERR_SIGNATURE_INVALID', async () => {
    const token = signToken(attacker, {}, { kid: trusted.kid, jwk: { ...attacker.jwk, kid: trusted.kid } })
    await expectCode(verifier.verify(token), 'ERR_SIGNATURE_INVALID')
  })

  for (const member of ['jku', 'x5u'] as const) {
    it(`never fetches "${member}" pointing to an attacker key set: ERR_SIGNATURE_INVALID and no request (RFC 8725 §3.10)`, async () => {
      const before = requests
      const token = signToken(attacker, {}, { kid: trusted.kid, [member]: `${base}/jwks.json` })
      await expectCode(verifier.verify(token), 'ERR_SIGNATURE_INVALID')
      await settle()
      assert.equal(requests, before)
    })
  }

  it('never uses "x5c" holding the attacker key → ERR_SIGNATURE_INVALID', async () => {
    const token = signToken(attacker, {}, { kid: trusted.kid, x5c: [attackerDer] })
    await expectCode(verifier.verify(token), 'ERR_SIGNATURE_INVALID')
  })

  it('still verifies a genuine token that carries (ignored) jwk, jku, x5u and x5c members', async () => {
    const before = requests
    const token = signToken(
      trusted,
      {},
      {
        jwk: attacker.jwk,
        jku: `${base}/jwks.json`,
        x5u: `${base}/cert.pem`,
        x5c: [attackerDer],
      },
    )
    await expectAccepted(verifier.verify(token))
    await settle()
    assert.equal(requests, before)
  })
})

describe('kid is an exact-match string (RFC 7515 §4.1.4; ruby-jwt #440; jose "non-string kid")', () => {
  const verifier = verifierFor([trusted], { algorithms: ['ES256'] })
  for (const [label, kid] of [
    ['a number', 0],
    ['another number', 1],
    ['an object', { kid: trusted.kid }],
    ['an array', [trusted.kid]],
    ['null', null],
    ['true', true],
  ] as const) {
    it(`rejects a kid that is ${label} with ERR_HEADER_INVALID`, async () => {
      const error = await expectCode(verifier.verify(signToken(trusted, {}, { kid })), 'ERR_HEADER_INVALID')
      assert.equal(error.claim, 'kid')
    })
  }

  it('rejects a kid longer than 1024 characters with ERR_HEADER_INVALID', async () => {
    await expectCode(verifier.verify(signToken(trusted, {}, { kid: 'k'.repeat(1025) })), 'ERR_HEADER_INVALID')
  })

  for (const [label, kid] of [
    ['unknown', 'no-such-key'],
    ['differing in case', 'TRUSTED'],
    ['with a trailing space', 'trusted '],
    ['a path traversal', '../../trusted'],
    ['an inherited property name', 'constructor'],
  ] as const) {
    it(`rejects a kid that is ${label} with ERR_KEY_NOT_FOUND`, async () => {
      await expectCode(verifier.verify(signToken(trusted, {}, { kid })), 'ERR_KEY_NOT_FOUND')
    })
  }
})

describe('a key with the right kid must also be usable for signatures (RFC 7517 §4.2-4.3; Wycheproof tcIds 353-356)', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['use "enc"', { ...jwkWithout(trusted, 'use'), use: 'enc' }],
    ['key_ops ["encrypt"]', { ...jwkWithout(trusted, 'use'), key_ops: ['encrypt'] }],
    ['key_ops ["sign"] (verify missing)', { ...jwkWithout(trusted, 'use'), key_ops: ['sign'] }],
    ['key_ops [] (nothing allowed)', { ...jwkWithout(trusted, 'use'), key_ops: [] }],
  ]
  for (const [label, jwk] of cases) {
    it(`rejects a token whose kid names a key with ${label} as ERR_KEY_UNUSABLE`, async () => {
      // Another, usable key is in the set: a set with no key that may verify is refused at creation.
      const verifier = createVerifier({
        issuer: ISSUER,
        jwks: { keys: [jwk, makeKey('ES256', 'another-key').jwk] },
        algorithms: ['ES256'],
        nowMs: fixedClock(),
      })
      await expectCode(verifier.verify(signToken(trusted)), 'ERR_KEY_UNUSABLE')
    })
  }

  it('refuses at creation a set whose only keys may not verify (use "enc"): it would refuse every token', () => {
    assert.throws(
      () =>
        createVerifier({ issuer: ISSUER, jwks: { keys: [{ ...jwkWithout(trusted, 'use'), use: 'enc' }] } }),
      (error: unknown) => (error as { code?: string }).code === 'ERR_INVALID_OPTIONS',
    )
  })

  it('accepts key_ops ["verify"] and use "sig"', async () => {
    for (const jwk of [
      { ...jwkWithout(trusted, 'use'), key_ops: ['verify'] },
      { ...jwkWithout(trusted, 'use'), use: 'sig' },
    ]) {
      const verifier = createVerifier({
        issuer: ISSUER,
        jwks: { keys: [jwk] },
        algorithms: ['ES256'],
        nowMs: fixedClock(),
      })
      await expectAccepted(verifier.verify(signToken(trusted)))
    }
  })
})

describe('one key, one algorithm: a key without "alg" still needs the type and curve of the token\'s "alg" (RFC 8725 §3.1; RFC 7518 §3.1)', () => {
  // Keys without their own "alg" (most providers publish none): only kty and crv tie them to an
  // algorithm, and the refusal must come from key selection, before any signature is computed.
  it('RFC 8725 §3.1: an RS256 token whose kid names an EC key (no "alg") is refused as ERR_KEY_UNUSABLE', async () => {
    const rsa = makeKey('RS256', 'shared-kid')
    const ec = makeKey('ES256', 'ec-for-kty')
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [{ ...jwkWithout(ec, 'alg'), kid: 'shared-kid' }] },
      algorithms: ['RS256', 'ES256'],
      nowMs: fixedClock(),
    })
    await expectCode(verifier.verify(signToken(rsa)), 'ERR_KEY_UNUSABLE')
  })

  it('RFC 8725 §3.1: an ES384 token whose kid names a P-256 key (no "alg") is refused as ERR_KEY_UNUSABLE', async () => {
    const p384 = makeKey('ES384', 'shared-kid')
    const p256 = makeKey('ES256', 'p256-for-crv')
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [{ ...jwkWithout(p256, 'alg'), kid: 'shared-kid' }] },
      algorithms: ['ES256', 'ES384'],
      nowMs: fixedClock(),
    })
    await expectCode(verifier.verify(signToken(p384)), 'ERR_KEY_UNUSABLE')
  })
})

describe('exactly one candidate key, never several tried (RFC 7517 §4.5; Wycheproof JWK tcId 4)', () => {
  it('rejects a token whose kid is held by two keys in the set with ERR_KEY_AMBIGUOUS', async () => {
    const twin = makeKey('ES256', 'twin')
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [{ ...attacker.jwk, kid: 'twin' }, twin.jwk] },
      algorithms: ['ES256'],
      nowMs: fixedClock(),
    })
    // Even the genuine signer of one of the two keys is refused: which key is meant is unknowable.
    await expectCode(verifier.verify(signToken(twin)), 'ERR_KEY_AMBIGUOUS')
  })

  it('rejects a token without kid when two keys fit its algorithm with ERR_KEY_AMBIGUOUS', async () => {
    const verifier = verifierFor([trusted, attacker], { algorithms: ['ES256'] })
    await expectCode(verifier.verify(signToken(trusted, {}, { kid: undefined })), 'ERR_KEY_AMBIGUOUS')
  })

  it('verifies a token without kid when exactly one key fits its algorithm (others are of other types)', async () => {
    const rsa = makeKey('RS256')
    const p384 = makeKey('ES384')
    const verifier = verifierFor([rsa, trusted, p384], { algorithms: ['ES256', 'RS256', 'ES384'] })
    await expectAccepted(verifier.verify(signToken(trusted, {}, { kid: undefined })))
  })

  it('rejects a token without kid when no key fits its algorithm with ERR_KEY_NOT_FOUND', async () => {
    const rsa = makeKey('RS256')
    const verifier = verifierFor([rsa], { algorithms: ['ES256', 'RS256'] })
    await expectCode(verifier.verify(signToken(trusted, {}, { kid: undefined })), 'ERR_KEY_NOT_FOUND')
  })

  it('does not fall back to a key without kid when the token names an unknown kid (ERR_KEY_NOT_FOUND)', async () => {
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [jwkWithout(trusted, 'kid')] },
      algorithms: ['ES256'],
      nowMs: fixedClock(),
    })
    await expectCode(verifier.verify(signToken(trusted, {}, { kid: 'other' })), 'ERR_KEY_NOT_FOUND')
  })
})
