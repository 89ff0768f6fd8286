// Rules for the identity claims, all read after the signature: `iss` is one exact string
// (RFC 8725 §3.8; fast-jwt CVE-2025-30144 accepted an array `iss`); `aud` is a string or a non-empty
// array of strings and passes when any value is accepted (RFC 7519 §4.1.3; jwt-go CVE-2020-26160);
// `sub` and `jti`, when present, are strings; `requiredClaims` must be own members of the claims set.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { ISSUER, makeKey, NOW_SECONDS, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, verifierFor } from './support.ts'

const key = makeKey('ES256')
const make = (options: Partial<VerifierOptions> = {}) =>
  verifierFor([key], { algorithms: ['ES256'], ...options })
const verifier = make()

describe('iss is compared as an exact string (RFC 8725 §3.8; RFC 7519 §4.1.1)', () => {
  it('accepts the exact configured issuer', async () => {
    await expectAccepted(verifier.verify(signToken(key, { iss: ISSUER })))
  })

  for (const [label, iss] of [
    ['a trailing slash', `${ISSUER}/`],
    ['different case', ISSUER.toUpperCase()],
    ['a different scheme', ISSUER.replace('https:', 'http:')],
    ['a prefix of the issuer', ISSUER.slice(0, -1)],
    ['surrounding whitespace', ` ${ISSUER}`],
    ['an attacker host', 'https://evil.example'],
  ] as const) {
    it(`rejects an iss with ${label} as ERR_ISSUER_MISMATCH`, async () => {
      const error = await expectCode(verifier.verify(signToken(key, { iss })), 'ERR_ISSUER_MISMATCH')
      assert.equal(error.claim, 'iss')
    })
  }

  it('rejects an iss that differs only by Unicode normalization (NFC vs NFD) as ERR_ISSUER_MISMATCH', async () => {
    const nfc = 'https://é.example'
    const exact = make({ issuer: nfc })
    await expectAccepted(exact.verify(signToken(key, { iss: nfc })))
    await expectCode(exact.verify(signToken(key, { iss: nfc.normalize('NFD') })), 'ERR_ISSUER_MISMATCH')
  })

  it('rejects an array iss containing the issuer with ERR_CLAIMS_INVALID (fast-jwt CVE-2025-30144)', async () => {
    await expectCode(verifier.verify(signToken(key, { iss: [ISSUER] })), 'ERR_CLAIMS_INVALID')
    await expectCode(
      verifier.verify(signToken(key, { iss: [ISSUER, 'https://evil.example'] })),
      'ERR_CLAIMS_INVALID',
    )
  })

  it('rejects a non-string iss (number, object) with ERR_CLAIMS_INVALID', async () => {
    await expectCode(verifier.verify(signToken(key, { iss: 1 })), 'ERR_CLAIMS_INVALID')
    await expectCode(verifier.verify(signToken(key, { iss: { href: ISSUER } })), 'ERR_CLAIMS_INVALID')
  })

  it('rejects a token without iss with ERR_CLAIM_MISSING (claim "iss")', async () => {
    const error = await expectCode(verifier.verify(signToken(key, { iss: undefined })), 'ERR_CLAIM_MISSING')
    assert.equal(error.claim, 'iss')
  })
})

describe('aud: a string or a non-empty array of strings, any-match (RFC 7519 §4.1.3; RFC 8725 §3.9)', () => {
  const api = make({ audience: 'api' })

  it('accepts aud equal to the configured audience', async () => {
    await expectAccepted(api.verify(signToken(key, { aud: 'api' })))
  })

  it('accepts an aud array where any member matches (["evil", "api"]), as RFC 7519 requires', async () => {
    await expectAccepted(api.verify(signToken(key, { aud: ['evil', 'api'] })))
  })

  it('accepts when the token matches any of several configured audiences', async () => {
    await expectAccepted(make({ audience: ['web', 'api'] }).verify(signToken(key, { aud: 'api' })))
  })

  it('rejects an aud that is not accepted with ERR_AUDIENCE_MISMATCH (exact, case-sensitive)', async () => {
    for (const aud of ['other', 'API', 'api ', ['other', 'web']]) {
      const error = await expectCode(api.verify(signToken(key, { aud })), 'ERR_AUDIENCE_MISMATCH')
      assert.equal(error.claim, 'aud')
    }
  })

  it('rejects an empty aud array with ERR_CLAIMS_INVALID', async () => {
    await expectCode(api.verify(signToken(key, { aud: [] })), 'ERR_CLAIMS_INVALID')
  })

  it('rejects an aud array with a non-string member with ERR_CLAIMS_INVALID, even beside a match (jwt-go CVE-2020-26160)', async () => {
    await expectCode(api.verify(signToken(key, { aud: [1] })), 'ERR_CLAIMS_INVALID')
    await expectCode(api.verify(signToken(key, { aud: ['api', 1] })), 'ERR_CLAIMS_INVALID')
    await expectCode(api.verify(signToken(key, { aud: ['api', null] })), 'ERR_CLAIMS_INVALID')
    await expectCode(api.verify(signToken(key, { aud: [['api']] })), 'ERR_CLAIMS_INVALID')
  })

  it('rejects an aud that is a number, an object or null with ERR_CLAIMS_INVALID', async () => {
    for (const aud of [1, { api: true }, null]) {
      await expectCode(api.verify(signToken(key, { aud })), 'ERR_CLAIMS_INVALID')
    }
  })

  it('rejects a token without aud when an audience is configured with ERR_CLAIM_MISSING (claim "aud")', async () => {
    const error = await expectCode(api.verify(signToken(key)), 'ERR_CLAIM_MISSING')
    assert.equal(error.claim, 'aud')
  })

  it('without a configured audience, accepts any well-formed aud but still rejects malformed ones', async () => {
    await expectAccepted(verifier.verify(signToken(key, { aud: 'anyone' })))
    await expectAccepted(verifier.verify(signToken(key, { aud: ['a', 'b'] })))
    await expectCode(verifier.verify(signToken(key, { aud: [] })), 'ERR_CLAIMS_INVALID')
    await expectCode(verifier.verify(signToken(key, { aud: 7 })), 'ERR_CLAIMS_INVALID')
  })
})

describe('sub and jti, when present, are strings (RFC 7519 §4.1.2, §4.1.7)', () => {
  for (const [label, sub] of [
    ['a number', 12345],
    ['an object', { id: 'user-1' }],
    ['an array', ['user-1']],
    ['null', null],
  ] as const) {
    it(`rejects a sub that is ${label} with ERR_CLAIMS_INVALID (claim "sub")`, async () => {
      const error = await expectCode(verifier.verify(signToken(key, { sub })), 'ERR_CLAIMS_INVALID')
      assert.equal(error.claim, 'sub')
    })
  }

  it('accepts a token without sub (RFC 7519: OPTIONAL) unless it is required', async () => {
    await expectAccepted(verifier.verify(signToken(key, { sub: undefined })))
    await expectCode(
      make({ requiredClaims: ['sub'] }).verify(signToken(key, { sub: undefined })),
      'ERR_CLAIM_MISSING',
    )
  })

  it('rejects a jti that is a number with ERR_CLAIMS_INVALID (claim "jti")', async () => {
    const error = await expectCode(verifier.verify(signToken(key, { jti: 42 })), 'ERR_CLAIMS_INVALID')
    assert.equal(error.claim, 'jti')
  })
})

describe('requiredClaims', () => {
  const strict = make({ requiredClaims: ['email', 'jti'] })

  it('rejects a token missing a required claim with ERR_CLAIM_MISSING naming it', async () => {
    const error = await expectCode(strict.verify(signToken(key, { jti: 'j-1' })), 'ERR_CLAIM_MISSING')
    assert.equal(error.claim, 'email')
  })

  it('accepts a token that has every required claim', async () => {
    await expectAccepted(strict.verify(signToken(key, { jti: 'j-1', email: 'a@example.com' })))
  })

  it('counts a claim present with a null value as present', async () => {
    await expectAccepted(strict.verify(signToken(key, { jti: 'j-1', email: null })))
  })

  it('does not count a name inherited from Object.prototype ("toString", "constructor") as present', async () => {
    for (const claim of ['toString', 'constructor', '__proto__']) {
      const error = await expectCode(
        make({ requiredClaims: [claim] }).verify(signToken(key)),
        'ERR_CLAIM_MISSING',
      )
      assert.equal(error.claim, claim)
    }
  })

  it('keeps exp required when requireExp is false but requiredClaims lists "exp"', async () => {
    const both = make({ requireExp: false, requiredClaims: ['exp'] })
    await expectCode(both.verify(signToken(key, { exp: undefined })), 'ERR_CLAIM_MISSING')
  })
})

describe('claims are read only after the signature verifies (RFC 8725 §3.1; ruby-jwt #153)', () => {
  // A forged token must learn nothing from the claims checks: whatever is wrong with its claims, the
  // answer is the signature's. Checking claims first would also act on attacker-chosen values.
  const other = makeKey('ES256', 'not-in-the-set')
  // Signed by another key under the kid of the configured one.
  const forged = (claims: Record<string, unknown>) => signToken(other, claims, { kid: key.kid })

  for (const [label, claims, code] of [
    ['expired', { exp: NOW_SECONDS - 3600 }, 'ERR_JWT_EXPIRED'],
    ['of another issuer', { iss: 'https://evil.example' }, 'ERR_ISSUER_MISMATCH'],
    ['for another audience', { aud: 'someone-else' }, 'ERR_AUDIENCE_MISMATCH'],
    ['with an array iss', { iss: [ISSUER] }, 'ERR_CLAIMS_INVALID'],
  ] as const) {
    it(`ruby-jwt #153: a token ${label}, signed by a key not in the set, is ERR_SIGNATURE_INVALID (not ${code})`, async () => {
      const strict = make({ audience: 'api' })
      // The same claims under the genuine key are refused by the claims rule, so the claim is bad.
      await expectCode(strict.verify(signToken(key, { aud: 'api', ...claims })), code)
      await expectCode(strict.verify(forged({ aud: 'api', ...claims })), 'ERR_SIGNATURE_INVALID')
    })
  }
})
