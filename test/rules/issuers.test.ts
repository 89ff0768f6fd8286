// Rule: with several issuers, the token's unverified `iss` only picks which issuer's keys and rules
// apply; a key belongs to exactly one issuer and never verifies a token claiming another
// (RFC 8725 §3.8: "the cryptographic keys used MUST belong to the issuer"); an issuer that is not
// configured is refused before any key lookup; each issuer has its own policy.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createVerifier, type VerifierOptions } from '../../src/index.ts'
import { fixedClock, makeKey, NOW_SECONDS, signToken, type TestKey } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, segments, withSegment } from './support.ts'

const A = 'https://a.example.com'
const B = 'https://b.example.com'
const keyA = makeKey('ES256', 'key-a')
const keyB = makeKey('ES256', 'key-b')
// Both issuers publish a key under the same kid: selection must stay within the claimed issuer.
const sharedA = makeKey('ES256', 'shared-kid-a')
const sharedB = makeKey('ES256', 'shared-kid-b')
const shared = (key: TestKey) => ({ ...key.jwk, kid: 'shared' })

const make = (extra: Partial<VerifierOptions> = {}) =>
  createVerifier({
    algorithms: ['ES256'],
    nowMs: fixedClock(),
    issuers: [
      { issuer: A, jwks: { keys: [keyA.jwk, shared(sharedA)] }, audience: 'app-a' },
      { issuer: B, jwks: { keys: [keyB.jwk, shared(sharedB)] }, audience: 'app-b' },
    ],
    ...extra,
  })
const verifier = make()

describe('several issuers: routed by exact iss, each with its own keys (RFC 8725 §3.8)', () => {
  it('verifies a token of issuer A with A’s key and a token of issuer B with B’s key', async () => {
    const { payload: a } = await verifier.verify(signToken(keyA, { iss: A, aud: 'app-a' }))
    assert.equal(a.iss, A)
    const { payload: b } = await verifier.verify(signToken(keyB, { iss: B, aud: 'app-b' }))
    assert.equal(b.iss, B)
  })

  it('lists the issuers in order', () => {
    assert.deepEqual(verifier.issuers, [A, B])
  })

  it('never lets a key of issuer B verify a token claiming issuer A (B’s kid is unknown to A: ERR_KEY_NOT_FOUND)', async () => {
    await expectCode(verifier.verify(signToken(keyB, { iss: A, aud: 'app-a' })), 'ERR_KEY_NOT_FOUND')
  })

  it('never lets a key of issuer B verify a token claiming issuer A under a kid both publish (ERR_SIGNATURE_INVALID)', async () => {
    const forged = signToken({ ...sharedB, kid: 'shared' }, { iss: A, aud: 'app-a' })
    await expectCode(verifier.verify(forged), 'ERR_SIGNATURE_INVALID')
    // The same kid does verify within its own issuer.
    await expectAccepted(verifier.verify(signToken({ ...sharedB, kid: 'shared' }, { iss: B, aud: 'app-b' })))
  })

  for (const [label, iss] of [
    ['an unconfigured issuer', 'https://c.example.com'],
    ['a configured issuer with a trailing slash', `${A}/`],
    ['a configured issuer in another case', A.toUpperCase()],
    ['an array holding a configured issuer', [A]],
    ['a number', 1],
    ['nothing (no iss)', undefined],
    ['an inherited property name', 'constructor'],
  ] as const) {
    it(`rejects a token claiming ${label} with ERR_ISSUER_UNKNOWN`, async () => {
      const error = await expectCode(
        verifier.verify(signToken(keyA, { iss, aud: 'app-a' })),
        'ERR_ISSUER_UNKNOWN',
      )
      assert.equal(error.claim, 'iss')
    })
  }

  it('applies each issuer’s audience: a token of A for B’s audience is ERR_AUDIENCE_MISMATCH', async () => {
    await expectCode(verifier.verify(signToken(keyA, { iss: A, aud: 'app-b' })), 'ERR_AUDIENCE_MISMATCH')
    await expectCode(verifier.verify(signToken(keyB, { iss: B, aud: 'app-a' })), 'ERR_AUDIENCE_MISMATCH')
  })

  it('takes top-level policy options as defaults and lets an issuer override them', async () => {
    const rsa = makeKey('RS256', 'rsa-b')
    const mixed = createVerifier({
      algorithms: ['ES256'],
      clockToleranceSeconds: 0,
      nowMs: fixedClock(),
      issuers: [
        { issuer: A, jwks: { keys: [keyA.jwk] } },
        { issuer: B, jwks: { keys: [rsa.jwk] }, algorithms: ['RS256'], clockToleranceSeconds: 60 },
      ],
    })
    await expectAccepted(mixed.verify(signToken(keyA, { iss: A })))
    await expectAccepted(mixed.verify(signToken(rsa, { iss: B })))
    // A inherits ES256 only; B's own list replaces it.
    await expectCode(mixed.verify(signToken(makeKey('RS256', 'rsa-a'), { iss: A })), 'ERR_ALG_NOT_ALLOWED')
    // Tolerance: 30 s past exp is refused for A (default 0) and accepted for B (60).
    await expectCode(mixed.verify(signToken(keyA, { iss: A, exp: NOW_SECONDS - 30 })), 'ERR_JWT_EXPIRED')
    await expectAccepted(mixed.verify(signToken(rsa, { iss: B, exp: NOW_SECONDS - 30 })))
  })

  it('still checks the signature before the claims: a badly signed, expired token of A is ERR_SIGNATURE_INVALID', async () => {
    const expired = signToken(keyA, { iss: A, aud: 'app-a', exp: NOW_SECONDS - 3600 })
    const otherSignature = segments(signToken(keyA, { iss: A, aud: 'app-a', jti: 'x' }))[2]
    await expectCode(verifier.verify(withSegment(expired, 2, otherSignature)), 'ERR_SIGNATURE_INVALID')
  })
})
