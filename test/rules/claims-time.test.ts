// Rules for the time claims: read only after the signature has been checked (RFC 8725 §3.3;
// ruby-jwt #153; jose "signatures are compared before claim set"); NumericDates are finite JSON
// numbers, fractions allowed (RFC 7519 §2; `"exp": 1e400` parses to Infinity, a token that never
// expires: security catalogue E1, accepted by jose, jsonwebtoken and fast-jwt); `exp` required by
// default and the current time must be before it (RFC 7519 §4.1.4); at or after `nbf` (§4.1.5); not
// before `iat`; an optional maximum age from `iat`; one clock tolerance for all of them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { fixedClock, ISSUER, makeKey, NOW_SECONDS, signText, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, segments, verifierFor, withSegment } from './support.ts'

const key = makeKey('ES256')
const at = (seconds: number, options: Partial<VerifierOptions> = {}) =>
  verifierFor([key], { algorithms: ['ES256'], nowMs: fixedClock(seconds), ...options })
const verifier = at(NOW_SECONDS)
const HEADER = JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: key.kid })

/** The token with the signature of another token by the same key: right length, wrong value. */
const withForeignSignature = (token: string) =>
  withSegment(token, 2, segments(signToken(key, { jti: 'other' }))[2])

describe('claims are checked only after the signature (RFC 8725 §3.3; ruby-jwt #153)', () => {
  for (const [label, claims] of [
    ['expired', { exp: NOW_SECONDS - 3600 }],
    ['not yet valid', { nbf: NOW_SECONDS + 3600 }],
    ['without exp', { exp: undefined }],
    ['with a string exp', { exp: 'never' }],
    ['from another issuer', { iss: 'https://evil.example' }],
    ['for another audience', { aud: 'other' }],
  ] as const) {
    it(`reports ERR_SIGNATURE_INVALID, not a claim error, for a badly signed token that is also ${label}`, async () => {
      const strict = at(NOW_SECONDS, { audience: 'api' })
      await expectCode(
        strict.verify(withForeignSignature(signToken(key, { aud: 'api', ...claims }))),
        'ERR_SIGNATURE_INVALID',
      )
    })
  }

  it('reports ERR_SIGNATURE_INVALID for a badly signed claims set that is not even JSON', async () => {
    const token = signText(key, HEADER, 'not json')
    await expectCode(verifier.verify(withForeignSignature(token)), 'ERR_SIGNATURE_INVALID')
  })
})

describe('NumericDate values are finite JSON numbers (RFC 7519 §2)', () => {
  const CLAIMS = `"iss":${JSON.stringify(ISSUER)},"sub":"user-1","iat":${NOW_SECONDS - 10}`
  for (const [label, raw, claim] of [
    ['exp: 1e400 (Infinity: never expires)', '"exp":1e400', 'exp'],
    ['exp: -1e400', '"exp":-1e400', 'exp'],
    ['nbf: -1e400 (valid since forever)', `"exp":${NOW_SECONDS + 60},"nbf":-1e400`, 'nbf'],
    ['iat: 1e400', `"exp":${NOW_SECONDS + 60},"iat":1e400`, 'iat'],
    ['exp as a string', `"exp":"${NOW_SECONDS + 60}"`, 'exp'],
    ['exp: null', '"exp":null', 'exp'],
    ['exp: true', '"exp":true', 'exp'],
    ['exp as an array', `"exp":[${NOW_SECONDS + 60}]`, 'exp'],
    ['nbf as a string', `"exp":${NOW_SECONDS + 60},"nbf":"0"`, 'nbf'],
  ] as const) {
    it(`rejects ${label}, written as raw JSON text, with ERR_CLAIMS_INVALID`, async () => {
      // iat is given once: the fixture's iat is dropped when the case sets its own.
      const base = raw.includes('"iat"') ? `"iss":${JSON.stringify(ISSUER)},"sub":"user-1"` : CLAIMS
      const error = await expectCode(
        verifier.verify(signText(key, HEADER, `{${base},${raw}}`)),
        'ERR_CLAIMS_INVALID',
      )
      assert.equal(error.claim, claim)
    })
  }

  it('accepts a fractional exp, and expires it at that fraction', async () => {
    const token = signToken(key, { exp: NOW_SECONDS + 0.5 })
    await expectAccepted(at(NOW_SECONDS + 0.25).verify(token))
    await expectCode(at(NOW_SECONDS + 0.5).verify(token), 'ERR_JWT_EXPIRED')
  })

  it('accepts exponent notation that stays finite (1.8e9)', async () => {
    await expectAccepted(verifier.verify(signText(key, HEADER, `{${CLAIMS},"exp":1.9e9}`)))
  })
})

describe('exp is required by default and must be in the future (RFC 7519 §4.1.4)', () => {
  it('rejects a token without exp with ERR_CLAIM_MISSING (claim "exp")', async () => {
    const error = await expectCode(verifier.verify(signToken(key, { exp: undefined })), 'ERR_CLAIM_MISSING')
    assert.equal(error.claim, 'exp')
  })

  it('accepts a token without exp when requireExp is false', async () => {
    await expectAccepted(at(NOW_SECONDS, { requireExp: false }).verify(signToken(key, { exp: undefined })))
  })

  it('still checks exp when present with requireExp false', async () => {
    await expectCode(
      at(NOW_SECONDS, { requireExp: false }).verify(signToken(key, { exp: NOW_SECONDS - 1 })),
      'ERR_JWT_EXPIRED',
    )
  })

  it('rejects at exactly exp (the current time MUST be before it) and accepts one second before', async () => {
    const token = signToken(key, { exp: NOW_SECONDS + 100 })
    await expectAccepted(at(NOW_SECONDS + 99).verify(token))
    await expectAccepted(at(NOW_SECONDS + 99.999).verify(token))
    const error = await expectCode(at(NOW_SECONDS + 100).verify(token), 'ERR_JWT_EXPIRED')
    assert.equal(error.claim, 'exp')
  })

  it('with clockToleranceSeconds 30: accepts until exp + 30, rejects at exp + 30', async () => {
    const token = signToken(key, { exp: NOW_SECONDS + 100 })
    await expectAccepted(at(NOW_SECONDS + 129, { clockToleranceSeconds: 30 }).verify(token))
    await expectCode(at(NOW_SECONDS + 130, { clockToleranceSeconds: 30 }).verify(token), 'ERR_JWT_EXPIRED')
  })
})

describe('nbf: the current time must be at or after it (RFC 7519 §4.1.5)', () => {
  const token = signToken(key, { nbf: NOW_SECONDS + 100 })
  it('rejects one second before nbf with ERR_JWT_NOT_YET_VALID and accepts at exactly nbf', async () => {
    const error = await expectCode(at(NOW_SECONDS + 99).verify(token), 'ERR_JWT_NOT_YET_VALID')
    assert.equal(error.claim, 'nbf')
    await expectAccepted(at(NOW_SECONDS + 100).verify(token))
  })

  it('with clockToleranceSeconds 30: accepts from nbf - 30, rejects at nbf - 31', async () => {
    await expectAccepted(at(NOW_SECONDS + 70, { clockToleranceSeconds: 30 }).verify(token))
    await expectCode(
      at(NOW_SECONDS + 69, { clockToleranceSeconds: 30 }).verify(token),
      'ERR_JWT_NOT_YET_VALID',
    )
  })
})

describe('iat must not be in the future (a clock we do not share, or a token forged for later)', () => {
  it('rejects iat one second ahead with ERR_JWT_ISSUED_IN_FUTURE and accepts iat equal to now', async () => {
    const error = await expectCode(
      verifier.verify(signToken(key, { iat: NOW_SECONDS + 1 })),
      'ERR_JWT_ISSUED_IN_FUTURE',
    )
    assert.equal(error.claim, 'iat')
    await expectAccepted(verifier.verify(signToken(key, { iat: NOW_SECONDS })))
  })

  it('with clockToleranceSeconds 30: accepts iat = now + 30, rejects iat = now + 31', async () => {
    const tolerant = at(NOW_SECONDS, { clockToleranceSeconds: 30 })
    await expectAccepted(tolerant.verify(signToken(key, { iat: NOW_SECONDS + 30 })))
    await expectCode(tolerant.verify(signToken(key, { iat: NOW_SECONDS + 31 })), 'ERR_JWT_ISSUED_IN_FUTURE')
  })
})

describe('maxTokenAgeSeconds bounds the age from iat (jose maxTokenAge; replay window)', () => {
  const aged = (options: Partial<VerifierOptions> = {}) =>
    at(NOW_SECONDS, { maxTokenAgeSeconds: 60, ...options })

  it('accepts a token exactly maxTokenAgeSeconds old and rejects one a second older with ERR_JWT_TOO_OLD', async () => {
    await expectAccepted(aged().verify(signToken(key, { iat: NOW_SECONDS - 60 })))
    const error = await expectCode(
      aged().verify(signToken(key, { iat: NOW_SECONDS - 61 })),
      'ERR_JWT_TOO_OLD',
    )
    assert.equal(error.claim, 'iat')
  })

  it('rejects a token without iat with ERR_CLAIM_MISSING (claim "iat") when a maximum age is set', async () => {
    const error = await expectCode(aged().verify(signToken(key, { iat: undefined })), 'ERR_CLAIM_MISSING')
    assert.equal(error.claim, 'iat')
  })

  it('accepts a token without iat when no maximum age is set', async () => {
    await expectAccepted(verifier.verify(signToken(key, { iat: undefined })))
  })

  it('with clockToleranceSeconds 5: accepts age 65, rejects age 66', async () => {
    await expectAccepted(aged({ clockToleranceSeconds: 5 }).verify(signToken(key, { iat: NOW_SECONDS - 65 })))
    await expectCode(
      aged({ clockToleranceSeconds: 5 }).verify(signToken(key, { iat: NOW_SECONDS - 66 })),
      'ERR_JWT_TOO_OLD',
    )
  })
})
