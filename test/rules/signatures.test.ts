// Rules for the signature bytes, checked before any crypto: ECDSA is exactly R||S of the curve's
// size, never DER (RFC 7518 §3.4), with 1 <= r, s <= n-1 (CVE-2022-21449 "psychic signatures";
// Wycheproof SpecialCaseEs256 tcIds 386-401); RSA signatures are exactly the modulus length
// (RFC 8017 §8.2.2 step 1); RSA-PSS uses a salt of the hash length (RFC 7518 §3.5; jsrsasign
// CVE-2020-14968); EdDSA is 64 bytes with a canonical S (RFC 8032 §5.1.7; elliptic CVE-2024-42459).
// The cryptography itself is OpenSSL's (security catalogue C1-C6).
import assert from 'node:assert/strict'
import { constants, sign } from 'node:crypto'
import { describe, it } from 'node:test'
import { type AlgorithmSpec, algorithmSpec, CURVES } from '../../src/jose/algorithms.ts'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import { verifyCall } from '../../src/jose/signature.ts'
import { makeKey, signToken, type TestAlg } from '../helpers/tokens.ts'
import {
  expectAccepted,
  expectCode,
  fromBigInt,
  segments,
  signatureOf,
  toBigInt,
  verifierFor,
  withSegment,
  withSignatureBytes,
} from './support.ts'

const ECDSA: [TestAlg, keyof typeof CURVES, number][] = [
  ['ES256', 'P-256', 64],
  ['ES384', 'P-384', 96],
  ['ES512', 'P-521', 132],
]

for (const [alg, curve, length] of ECDSA) {
  describe(`${alg} signatures are exactly R||S of ${length} octets with r, s in 1..n-1 (RFC 7518 §3.4)`, () => {
    const key = makeKey(alg)
    const verifier = verifierFor([key], { algorithms: [alg] })
    const token = signToken(key)
    const signature = signatureOf(token)
    const half = length / 2
    const n = toBigInt(CURVES[curve].order)
    const r = signature.subarray(0, half)
    const s = signature.subarray(half)
    const rsBytes = (rPart: Uint8Array, sPart: Uint8Array) => Buffer.concat([rPart, sPart])
    const rs = (rPart: Uint8Array, sPart: Uint8Array) => withSignatureBytes(token, rsBytes(rPart, sPart))

    it('accepts the genuine signature (baseline)', async () => {
      assert.equal(signature.length, length)
      await expectAccepted(verifier.verify(token))
    })

    it('rejects the same signature DER-encoded with ERR_SIGNATURE_INVALID (Wycheproof tcIds 379-385)', async () => {
      const [header, payload] = segments(token)
      const der = sign(
        alg === 'ES256' ? 'sha256' : alg === 'ES384' ? 'sha384' : 'sha512',
        Buffer.from(`${header}.${payload}`),
        {
          key: key.privateKey,
          dsaEncoding: 'der',
        },
      )
      await expectCode(verifier.verify(withSignatureBytes(token, der)), 'ERR_SIGNATURE_INVALID')
    })

    it('rejects a signature one octet short or one octet long with ERR_SIGNATURE_INVALID', async () => {
      await expectCode(
        verifier.verify(withSignatureBytes(token, signature.subarray(0, length - 1))),
        'ERR_SIGNATURE_INVALID',
      )
      await expectCode(
        verifier.verify(withSignatureBytes(token, Buffer.concat([signature, Buffer.from([0])]))),
        'ERR_SIGNATURE_INVALID',
      )
      await expectCode(
        verifier.verify(withSignatureBytes(token, Buffer.concat([Buffer.from([0]), signature]))),
        'ERR_SIGNATURE_INVALID',
      )
    })

    it('rejects r = 0, s = 0 and r = s = 0 with ERR_SIGNATURE_INVALID (CVE-2022-21449 psychic signatures)', async () => {
      const zero = Buffer.alloc(half)
      await expectCode(verifier.verify(rs(zero, s)), 'ERR_SIGNATURE_INVALID')
      await expectCode(verifier.verify(rs(r, zero)), 'ERR_SIGNATURE_INVALID')
      await expectCode(verifier.verify(rs(zero, zero)), 'ERR_SIGNATURE_INVALID')
    })

    it('rejects r = n and s = n (out of range, Wycheproof SpecialCaseEs256) with ERR_SIGNATURE_INVALID', async () => {
      const order = fromBigInt(n, half)
      await expectCode(verifier.verify(rs(order, s)), 'ERR_SIGNATURE_INVALID')
      await expectCode(verifier.verify(rs(r, order)), 'ERR_SIGNATURE_INVALID')
      await expectCode(verifier.verify(rs(order, order)), 'ERR_SIGNATURE_INVALID')
    })

    it('the range rule itself refuses r or s of 0, n or above before OpenSSL sees them (CVE-2022-21449; FIPS 186-4 §6.4.2)', () => {
      // OpenSSL 3 refuses these values too, so the verifier's final answer cannot show whether the rule
      // is still in place: this asks the rule directly.
      const spec = algorithmSpec(alg) as AlgorithmSpec
      const verificationKey = importPublicJwk(key.jwk)
      const zero = Buffer.alloc(half)
      const order = fromBigInt(n, half)
      const max = Buffer.alloc(half, 0xff)
      for (const [name, bytes] of [
        ['r = 0', rsBytes(zero, s)],
        ['s = 0', rsBytes(r, zero)],
        ['r = s = 0', rsBytes(zero, zero)],
        ['r = n', rsBytes(order, s)],
        ['s = n', rsBytes(r, order)],
        ['r = 2^k - 1 > n', rsBytes(max, s)],
        ['s = 2^k - 1 > n', rsBytes(r, max)],
      ] as const) {
        assert.equal(verifyCall(spec, verificationKey, bytes), 'ecdsa-scalar-range', name)
      }
      // The edges of the range pass on to OpenSSL: r = 1, s = n - 1, and the genuine signature.
      for (const [name, bytes] of [
        ['r = 1, s = n - 1', rsBytes(fromBigInt(1n, half), fromBigInt(n - 1n, half))],
        ['genuine', signature],
      ] as const) {
        assert.equal(typeof verifyCall(spec, verificationKey, bytes), 'object', name)
      }
      assert.equal(verifyCall(spec, verificationKey, signature.subarray(1)), 'length')
    })

    it('ACCEPTS high-S (s -> n - s): valid per RFC 7518, which has no low-S rule', async () => {
      // Malleability: (r, n - s) is a second valid signature for the same token, and so a second
      // token string with the same header and claims. Replay or revocation lists must therefore key
      // on `jti` (or the claims), never on the raw token or signature (security catalogue C3).
      const flipped = rs(r, fromBigInt(n - toBigInt(s), half))
      assert.notEqual(segments(flipped)[2], segments(token)[2])
      await expectAccepted(verifier.verify(flipped))
    })
  })
}

describe('ES512: r + n fits in 66 octets and is the same value mod n, but is out of range', () => {
  it('rejects (r + n, s) and (r, s + n) with ERR_SIGNATURE_INVALID (one value, one spelling)', async () => {
    const key = makeKey('ES512')
    const verifier = verifierFor([key], { algorithms: ['ES512'] })
    const token = signToken(key)
    const signature = signatureOf(token)
    const n = toBigInt(CURVES['P-521'].order)
    const r = toBigInt(signature.subarray(0, 66))
    const s = toBigInt(signature.subarray(66))
    const bumpedR = Buffer.concat([fromBigInt(r + n, 66), fromBigInt(s, 66)])
    const bumpedS = Buffer.concat([fromBigInt(r, 66), fromBigInt(s + n, 66)])
    await expectCode(verifier.verify(withSignatureBytes(token, bumpedR)), 'ERR_SIGNATURE_INVALID')
    await expectCode(verifier.verify(withSignatureBytes(token, bumpedS)), 'ERR_SIGNATURE_INVALID')
  })
})

describe('RSA signatures are exactly the modulus length (RFC 8017 §8.2.2 step 1)', () => {
  const key = makeKey('RS256')
  const verifier = verifierFor([key])

  it('rejects a signature with its leading zero octet stripped (255 of 256 octets) with ERR_SIGNATURE_INVALID', async () => {
    // RS256 is deterministic: vary `jti` until the signature starts with 0x00 (about 1 in 256).
    let token: string | undefined
    for (let i = 0; i < 4096 && token === undefined; i++) {
      const candidate = signToken(key, { jti: `jti-${i}` })
      if (signatureOf(candidate)[0] === 0) token = candidate
    }
    assert.ok(token, 'no signature with a leading zero octet within 4096 attempts')
    await expectAccepted(verifier.verify(token))
    await expectCode(
      verifier.verify(withSignatureBytes(token, signatureOf(token).subarray(1))),
      'ERR_SIGNATURE_INVALID',
    )
  })

  it('rejects a signature with a zero octet prepended (257 octets) with ERR_SIGNATURE_INVALID', async () => {
    const token = signToken(key)
    const longer = Buffer.concat([Buffer.from([0]), signatureOf(token)])
    await expectCode(verifier.verify(withSignatureBytes(token, longer)), 'ERR_SIGNATURE_INVALID')
  })

  it('rejects an all-zero signature of the right length with ERR_SIGNATURE_INVALID', async () => {
    await expectCode(
      verifier.verify(withSignatureBytes(signToken(key), Buffer.alloc(256))),
      'ERR_SIGNATURE_INVALID',
    )
  })

  it('RFC 8017 §8.1.2 / §8.2.2 step 1: the length rule itself refuses RS256 and PS256 signatures one octet short or long', () => {
    // OpenSSL 3 refuses these lengths too, so the verifier's final answer cannot show whether the rule
    // is still in place: this asks the rule directly.
    for (const alg of ['RS256', 'PS256'] as const) {
      const rsa = makeKey(alg)
      const spec = algorithmSpec(alg) as AlgorithmSpec
      const verificationKey = importPublicJwk(rsa.jwk)
      const genuine = signatureOf(signToken(rsa))
      assert.equal(typeof verifyCall(spec, verificationKey, genuine), 'object', `${alg} genuine`)
      assert.equal(verifyCall(spec, verificationKey, genuine.subarray(1)), 'length', `${alg} 255 octets`)
      assert.equal(
        verifyCall(spec, verificationKey, Buffer.concat([Buffer.from([0]), genuine])),
        'length',
        `${alg} 257 octets`,
      )
    }
  })
})

describe('RSA-PSS salt is exactly the hash length (RFC 7518 §3.5; Wycheproof ps256 SaltLenChanged)', () => {
  for (const [alg, hash, saltLengths] of [
    ['PS256', 'sha256', [0, 20, 31, 33, constants.RSA_PSS_SALTLEN_MAX_SIGN]],
    ['PS384', 'sha384', [32, 64]],
    ['PS512', 'sha512', [32, 48]],
  ] as const) {
    it(`rejects ${alg} signed with salt lengths ${saltLengths.map((l) => (l < 0 ? 'max' : l)).join(', ')} with ERR_SIGNATURE_INVALID`, async () => {
      const key = makeKey(alg)
      const verifier = verifierFor([key], { algorithms: [alg] })
      const token = signToken(key)
      await expectAccepted(verifier.verify(token))
      const [header, payload] = segments(token)
      for (const saltLength of saltLengths) {
        const signature = sign(hash, Buffer.from(`${header}.${payload}`), {
          key: key.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength,
        })
        await expectCode(verifier.verify(withSignatureBytes(token, signature)), 'ERR_SIGNATURE_INVALID')
      }
    })
  }

  it('rejects a PKCS#1 v1.5 signature labelled PS256 with ERR_SIGNATURE_INVALID', async () => {
    const key = makeKey('PS256')
    const verifier = verifierFor([key], { algorithms: ['PS256'] })
    const token = signToken(key)
    const [header, payload] = segments(token)
    const pkcs1 = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey)
    await expectCode(verifier.verify(withSignatureBytes(token, pkcs1)), 'ERR_SIGNATURE_INVALID')
  })
})

describe('EdDSA signatures are 64 octets with a canonical S (RFC 8032 §5.1.7)', () => {
  const key = makeKey('EdDSA')
  const verifier = verifierFor([key], { algorithms: ['EdDSA'] })
  const token = signToken(key)
  const signature = signatureOf(token)

  it('rejects 63 and 65 octets with ERR_SIGNATURE_INVALID (elliptic CVE-2024-42459)', async () => {
    await expectCode(
      verifier.verify(withSignatureBytes(token, signature.subarray(0, 63))),
      'ERR_SIGNATURE_INVALID',
    )
    await expectCode(
      verifier.verify(withSignatureBytes(token, Buffer.concat([signature, Buffer.from([0])]))),
      'ERR_SIGNATURE_INVALID',
    )
  })

  it('RFC 8037 §3.1 (RFC 8032 §5.1.7): the length rule itself refuses EdDSA signatures of 63 and 65 octets', () => {
    // OpenSSL refuses these too: this asks the rule directly, so that removing it shows.
    const spec = algorithmSpec('EdDSA') as AlgorithmSpec
    const verificationKey = importPublicJwk(key.jwk)
    assert.equal(typeof verifyCall(spec, verificationKey, signature), 'object')
    assert.equal(verifyCall(spec, verificationKey, signature.subarray(0, 63)), 'length')
    assert.equal(verifyCall(spec, verificationKey, Buffer.concat([signature, Buffer.from([0])])), 'length')
  })

  it('rejects S + L (same value mod L, non-canonical: a malleable second signature) with ERR_SIGNATURE_INVALID', async () => {
    const L = (1n << 252n) + 27742317777372353535851937790883648493n
    // S is little-endian in the last 32 octets.
    const sLittle = Buffer.from(signature.subarray(32)).reverse()
    const shifted = fromBigInt(toBigInt(sLittle) + L, 32).reverse()
    const malleated = Buffer.concat([signature.subarray(0, 32), shifted])
    await expectCode(verifier.verify(withSignatureBytes(token, malleated)), 'ERR_SIGNATURE_INVALID')
  })
})

describe('the signature covers the header and the claims (RFC 7515 §5.2)', () => {
  const key = makeKey('ES256')
  const verifier = verifierFor([key], { algorithms: ['ES256'] })
  const token = signToken(key)

  it('rejects a valid signature moved onto other claims with ERR_SIGNATURE_INVALID', async () => {
    const other = segments(signToken(key, { sub: 'admin' }))[1]
    await expectCode(verifier.verify(withSegment(token, 1, other)), 'ERR_SIGNATURE_INVALID')
  })

  it('rejects a valid signature moved onto another header with ERR_SIGNATURE_INVALID', async () => {
    const other = segments(signToken(key, {}, { typ: 'at+jwt' }))[0]
    await expectCode(verifier.verify(withSegment(token, 0, other)), 'ERR_SIGNATURE_INVALID')
  })

  it('rejects a signature by another key of the same type under the same kid with ERR_SIGNATURE_INVALID', async () => {
    const impostor = makeKey('ES256', 'impostor')
    const forged = signToken({ ...impostor, kid: key.kid })
    await expectCode(verifier.verify(forged), 'ERR_SIGNATURE_INVALID')
  })

  it('rejects a single flipped bit anywhere in the signature with ERR_SIGNATURE_INVALID', async () => {
    const signature = signatureOf(token)
    for (const index of [0, 17, 31, 32, 50, 63]) {
      const flipped = Buffer.from(signature)
      flipped[index] = (flipped[index] as number) ^ 0x01
      await expectCode(verifier.verify(withSignatureBytes(token, flipped)), 'ERR_SIGNATURE_INVALID')
    }
  })
})
