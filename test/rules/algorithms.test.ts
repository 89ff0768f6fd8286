// Rules for `alg`: compared exactly (case-sensitively) with the caller's allowlist (RFC 7515 §4.1.1,
// RFC 8725 §3.1); `none` and HS* have no code path (RFC 7518 §3.6; CVE-2015-9235); one key, one
// algorithm: a JWK's own `alg` must equal the token's, and the key type and curve must fit
// (security catalogue A1-A4; jsonwebtoken CVE-2022-23539; Wycheproof JWS tcIds 331-340).
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { createVerifier, SUPPORTED_ALGORITHMS } from '../../src/index.ts'
import {
  b64u,
  fixedClock,
  ISSUER,
  makeKey,
  NOW_SECONDS,
  signText,
  signToken,
  type TestAlg,
} from '../helpers/tokens.ts'
import { expectAccepted, expectCode, expectThrowsCode, jwkWithout, verifierFor } from './support.ts'

const rsa = makeKey('RS256')
const CLAIMS = JSON.stringify({ iss: ISSUER, sub: 'user-1', iat: NOW_SECONDS - 10, exp: NOW_SECONDS + 600 })

/** A token whose header says `alg` but whose signature is a real RS256 signature (non-empty). */
function withAlg(alg: unknown): string {
  return signText(rsa, JSON.stringify({ alg, typ: 'JWT', kid: rsa.kid }), CLAIMS, 'RS256')
}

describe('unsecured JWS: "none" in any spelling (RFC 7518 §3.6; CVE-2022-23540; Wycheproof tcIds 16, 341-344)', () => {
  const everything = verifierFor([rsa], { algorithms: [...SUPPORTED_ALGORITHMS] })
  for (const alg of ['none', 'NONE', 'nOnE', 'None']) {
    it(`rejects alg "${alg}" with ERR_ALG_NOT_ALLOWED, even when every supported algorithm is allowed`, async () => {
      await expectCode(everything.verify(withAlg(alg)), 'ERR_ALG_NOT_ALLOWED')
    })
  }

  it('rejects alg "none" with the empty signature it comes with as ERR_TOKEN_MALFORMED (before any alg lookup)', async () => {
    const header = b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))
    await expectCode(everything.verify(`${header}.${b64u(CLAIMS)}.`), 'ERR_TOKEN_MALFORMED')
  })
})

describe('alg is compared case-sensitively with the allowlist (RFC 7515 §4.1.1; rfc8725bis "noNE")', () => {
  const verifier = verifierFor([rsa])
  for (const alg of ['rs256', 'Rs256', 'RS256 ', ' RS256', 'RS-256']) {
    it(`rejects alg ${JSON.stringify(alg)} for an RS256 verifier with ERR_ALG_NOT_ALLOWED`, async () => {
      await expectCode(verifier.verify(withAlg(alg)), 'ERR_ALG_NOT_ALLOWED')
    })
  }

  it('rejects an algorithm that is supported but not in the allowlist (RS384 for ["RS256"]) with ERR_ALG_NOT_ALLOWED', async () => {
    const rs384 = makeKey('RS384')
    await expectCode(verifierFor([rs384]).verify(signToken(rs384)), 'ERR_ALG_NOT_ALLOWED')
  })

  it('rejects ES256 for the default allowlist ["RS256"] with ERR_ALG_NOT_ALLOWED (RFC 8725 §3.1)', async () => {
    const ec = makeKey('ES256')
    await expectCode(verifierFor([ec]).verify(signToken(ec)), 'ERR_ALG_NOT_ALLOWED')
  })

  for (const [label, alg] of [
    ['missing', undefined],
    ['a number', 256],
    ['an array', ['RS256']],
    ['null', null],
  ] as const) {
    it(`rejects a header whose alg is ${label} with ERR_HEADER_INVALID (RFC 7515 §4.1.1: alg is a required string)`, async () => {
      await expectCode(verifier.verify(withAlg(alg)), 'ERR_HEADER_INVALID')
    })
  }
})

describe('HS256 with the public key as HMAC secret (CVE-2015-9235, CVE-2016-10555; fast-jwt CVE-2023-48223 chain)', () => {
  const everything = verifierFor([rsa], { algorithms: [...SUPPORTED_ALGORITHMS] })
  const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string
  const secrets: [string, string | Buffer][] = [
    ['the SPKI PEM text', pem],
    ['the PKCS#1 PEM text', rsa.publicKey.export({ format: 'pem', type: 'pkcs1' }) as string],
    ['the JWK JSON text', JSON.stringify(rsa.jwk)],
    ['the JWKS JSON text', JSON.stringify({ keys: [rsa.jwk] })],
    ['the raw modulus bytes', Buffer.from(rsa.jwk.n as string, 'base64url')],
  ]
  for (const [label, secret] of secrets) {
    it(`rejects HS256 signed with ${label} as ERR_ALG_NOT_ALLOWED: there is no HMAC path`, async () => {
      const input = `${b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: rsa.kid }))}.${b64u(CLAIMS)}`
      const mac = createHmac('sha256', secret).update(input).digest('base64url')
      await expectCode(everything.verify(`${input}.${mac}`), 'ERR_ALG_NOT_ALLOWED')
    })
  }

  for (const alg of ['HS256', 'HS384', 'HS512', 'none', 'NONE']) {
    it(`createVerifier refuses algorithms: ["${alg}"] with ERR_INVALID_OPTIONS`, () => {
      expectThrowsCode(
        () => createVerifier({ issuer: ISSUER, jwks: { keys: [rsa.jwk] }, algorithms: [alg as never] }),
        'ERR_INVALID_OPTIONS',
      )
    })
  }
})

describe("a JWK's own alg must equal the token's (RFC 8725 §3.1: one key, one algorithm)", () => {
  it('rejects an RS384 token signed by a key published with alg RS256 as ERR_KEY_UNUSABLE', async () => {
    const verifier = verifierFor([rsa], { algorithms: ['RS256', 'RS384'] })
    const token = signText(rsa, JSON.stringify({ alg: 'RS384', kid: rsa.kid }), CLAIMS, 'RS384')
    await expectCode(verifier.verify(token), 'ERR_KEY_UNUSABLE')
  })

  it('rejects a PS256 token signed by a key published with alg RS256 as ERR_KEY_UNUSABLE', async () => {
    const verifier = verifierFor([rsa], { algorithms: ['RS256', 'PS256'] })
    const token = signText(rsa, JSON.stringify({ alg: 'PS256', kid: rsa.kid }), CLAIMS, 'PS256')
    await expectCode(verifier.verify(token), 'ERR_KEY_UNUSABLE')
  })

  it('verifies both RS256 and PS256 with one RSA key that has no alg member (the allowlist decides)', async () => {
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [jwkWithout(rsa, 'alg')] },
      algorithms: ['RS256', 'PS256'],
      nowMs: fixedClock(),
    })
    for (const alg of ['RS256', 'PS256'] as const) {
      await expectAccepted(verifier.verify(signText(rsa, JSON.stringify({ alg, kid: rsa.kid }), CLAIMS, alg)))
    }
  })
})

describe('EdDSA (RFC 8037) and its RFC 9864 name Ed25519', () => {
  const ed = makeKey('EdDSA')
  const verifier = createVerifier({
    issuer: ISSUER,
    jwks: { keys: [jwkWithout(ed, 'alg')] },
    algorithms: ['EdDSA', 'Ed25519'],
    nowMs: fixedClock(),
  })
  it('verifies a token with alg "EdDSA" and one with alg "Ed25519" using the same OKP Ed25519 key', async () => {
    for (const alg of ['EdDSA', 'Ed25519'] as const) {
      const { header } = await verifier.verify(
        signText(ed, JSON.stringify({ alg, kid: ed.kid }), CLAIMS, alg),
      )
      assert.equal(header.alg, alg)
    }
  })

  it('rejects "Ed25519" when only "EdDSA" is allowed (distinct names, exact match) with ERR_ALG_NOT_ALLOWED', async () => {
    const onlyEdDSA = verifierFor([ed], { algorithms: ['EdDSA'] })
    const token = signText(ed, JSON.stringify({ alg: 'Ed25519', kid: ed.kid }), CLAIMS, 'Ed25519')
    await expectCode(onlyEdDSA.verify(token), 'ERR_ALG_NOT_ALLOWED')
  })
})

describe('the key type and curve must fit the algorithm (security catalogue A4; Wycheproof JWK tcIds 19/20/23/24)', () => {
  // Keys published without `alg`, so that only kty and crv decide.
  const keys: Record<string, { sign: TestAlg; fits: readonly string[] }> = {
    'RSA 2048': { sign: 'RS256', fits: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] },
    'EC P-256': { sign: 'ES256', fits: ['ES256'] },
    'EC P-384': { sign: 'ES384', fits: ['ES384'] },
    'EC P-521': { sign: 'ES512', fits: ['ES512'] },
    'OKP Ed25519': { sign: 'EdDSA', fits: ['EdDSA', 'Ed25519'] },
  }
  for (const alg of SUPPORTED_ALGORITHMS) {
    const fitting = Object.keys(keys).filter((name) => keys[name]?.fits.includes(alg))
    it(`${alg} is verified only by ${fitting.join(' or ')}; every other key type is ERR_KEY_UNUSABLE`, async () => {
      for (const [name, { sign, fits }] of Object.entries(keys)) {
        const key = makeKey(sign, `matrix-${sign}`)
        const verifier = createVerifier({
          issuer: ISSUER,
          jwks: { keys: [jwkWithout(key, 'alg')] },
          algorithms: [alg],
          nowMs: fixedClock(),
          tokenCache: false,
        })
        if (fits.includes(alg)) {
          // Signed with the token's own algorithm: it must verify.
          const token = signText(key, JSON.stringify({ alg, kid: key.kid }), CLAIMS, alg as TestAlg)
          await expectAccepted(verifier.verify(token))
        } else {
          // Signed with the key's own algorithm but labelled `alg`: refused before any crypto.
          const token = signText(key, JSON.stringify({ alg, kid: key.kid }), CLAIMS, sign)
          const error = await expectCode(verifier.verify(token), 'ERR_KEY_UNUSABLE')
          assert.equal(error.claim, 'kid', `${name} for ${alg}`)
        }
      }
    })
  }

  it('rejects an RSA key for ES256, a P-256 key for ES384 and an Ed25519 key for RS256 (named cases)', async () => {
    const cases: [TestAlg, TestAlg][] = [
      ['RS256', 'ES256'],
      ['ES256', 'ES384'],
      ['EdDSA', 'RS256'],
    ]
    for (const [keyAlg, tokenAlg] of cases) {
      const key = makeKey(keyAlg, `named-${keyAlg}`)
      const verifier = createVerifier({
        issuer: ISSUER,
        jwks: { keys: [jwkWithout(key, 'alg')] },
        algorithms: [tokenAlg],
        nowMs: fixedClock(),
      })
      const token = signText(key, JSON.stringify({ alg: tokenAlg, kid: key.kid }), CLAIMS, keyAlg)
      await expectCode(verifier.verify(token), 'ERR_KEY_UNUSABLE')
    }
  })
})
