// Rules for the keys themselves, checked once at import: RSA modulus of 2048 bits or more
// (RFC 7518 §3.3) and under a cap (RFC 7518 §8.6: a huge modulus is a CPU sink), exponent odd and
// >= 3 (e=1: the signature IS the padded message), minimal base64urlUInt (RFC 7518 §2, §6.3.1); EC
// coordinates of full length and on the curve (RFC 7518 §6.2.1); public members only, no `oct`
// (RFC 7517 §5; Wycheproof JWK tcIds 1, 7-9, 19-24; security catalogue B6-B8). In a key set an
// unusable key is skipped and reported, and the other keys keep working.
import assert from 'node:assert/strict'
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { describe, it } from 'node:test'
import { createVerifier, importPublicJwk, type KeyRejectedEvent } from '../../src/index.ts'
import { b64u, fixedClock, ISSUER, makeKey, NOW_SECONDS, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, expectThrowsCode, jwkWithout } from './support.ts'

const rsa = makeKey('RS256')
const p256 = makeKey('ES256')
const ed = makeKey('EdDSA')
const rsaPublic = jwkWithout(rsa, 'kid', 'alg', 'use')

const rejectsKey = (jwk: unknown, reasonPart?: RegExp) => {
  const error = expectThrowsCode(() => importPublicJwk(jwk), 'ERR_KEY_INVALID')
  if (reasonPart) assert.match(error.reason ?? '', reasonPart)
  return error
}

/** A base64urlUInt of `bytes` big-endian octets, top bit set, odd. */
const modulusOf = (bytes: number) => {
  const n = Buffer.alloc(bytes, 0xa5)
  n[0] = 0x80
  n[bytes - 1] = 0x01
  return n.toString('base64url')
}

describe('RSA modulus size (RFC 7518 §3.3: 2048 bits or larger; §8.6: enforce an upper limit)', () => {
  it('imports a 2048-bit key (the floor)', () => {
    assert.equal(importPublicJwk(rsaPublic).bits, 2048)
  })

  it('rejects a 1024-bit key with ERR_KEY_INVALID (Wycheproof JWK tcId 8; jsonwebtoken 9.0.0)', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })
    rejectsKey(small, /1024 bits is under 2048/)
  })

  it('rejects a 2048-bit key when the floor is raised to 3072', () => {
    expectThrowsCode(
      () => importPublicJwk(rsaPublic, { minRsaModulusBits: 3072, maxRsaModulusBits: 8192 }),
      'ERR_KEY_INVALID',
    )
  })

  it('accepts a modulus of exactly 8192 bits and rejects 8193 bits (constructed numbers, no key generation)', () => {
    assert.equal(importPublicJwk({ kty: 'RSA', n: modulusOf(1024), e: 'AQAB' }).bits, 8192)
    const over = Buffer.concat([Buffer.from([0x01]), Buffer.from(modulusOf(1024), 'base64url')])
    rejectsKey({ kty: 'RSA', n: over.toString('base64url'), e: 'AQAB' }, /8193 bits is over 8192/)
  })

  it('rejects a 16384-bit modulus before handing it to OpenSSL', () => {
    rejectsKey({ kty: 'RSA', n: modulusOf(2048), e: 'AQAB' }, /over 8192/)
  })
})

describe('RSA public exponent: odd and at least 3 (Wycheproof JWK tcId 9; CVE-2011-4121; jose 6.2.18 accepts e=1)', () => {
  it('rejects e=1 with ERR_KEY_INVALID, and shows why: with e=1 the signature is the padded message', () => {
    const weak = { kty: 'RSA', n: rsa.jwk.n as string, e: 'AQ' }
    const input = `${b64u(JSON.stringify({ alg: 'RS256', kid: 'weak' }))}.${b64u(JSON.stringify({ iss: ISSUER, sub: 'admin', exp: NOW_SECONDS + 600 }))}`
    // EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of the signing input, computed without any private key.
    const digestInfo = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update(input).digest(),
    ])
    const forged = Buffer.alloc(256, 0xff)
    forged[0] = 0x00
    forged[1] = 0x01
    forged[256 - digestInfo.length - 1] = 0x00
    digestInfo.copy(forged, 256 - digestInfo.length)
    // OpenSSL itself accepts this "signature" for such a key: the check has to be ours.
    const keyObject = createPublicKey({ key: weak, format: 'jwk' })
    assert.equal(verify('sha256', Buffer.from(input), keyObject, forged), true)
    rejectsKey(weak, /below 3/)
  })

  it('rejects even exponents (e=2, e=65538) with ERR_KEY_INVALID', () => {
    rejectsKey({ ...rsaPublic, e: 'Ag' }, /even/)
    rejectsKey({ ...rsaPublic, e: 'AQAC' }, /even/)
  })

  it('accepts e=3 and e=65537', () => {
    assert.equal(importPublicJwk({ ...rsaPublic, e: 'Aw' }).kty, 'RSA')
    assert.equal(importPublicJwk({ ...rsaPublic, e: 'AQAB' }).kty, 'RSA')
  })

  it('rejects an exponent longer than 64 bits with ERR_KEY_INVALID', () => {
    rejectsKey({ ...rsaPublic, e: b64u(Buffer.from('010000000000000001', 'hex')) }, /too large/)
  })
})

describe('base64urlUInt is minimal and canonical (RFC 7518 §2, §6.3.1)', () => {
  it('rejects n with a leading zero octet with ERR_KEY_INVALID', () => {
    const n = Buffer.concat([Buffer.from([0]), Buffer.from(rsa.jwk.n as string, 'base64url')])
    rejectsKey({ ...rsaPublic, n: n.toString('base64url') }, /"n" has a leading zero/)
  })

  it('rejects e with a leading zero octet ("AAEAAQ" for 65537) with ERR_KEY_INVALID', () => {
    rejectsKey({ ...rsaPublic, e: 'AAEAAQ' }, /"e" has a leading zero/)
  })

  it('rejects padded or non-canonical n and e with ERR_KEY_INVALID', () => {
    rejectsKey({ ...rsaPublic, e: 'AQAB=' })
    // "Ax" decodes to the same octet as "Aw" (e=3, accepted above) but sets unused bits.
    rejectsKey({ ...rsaPublic, e: 'Ax' }, /not canonical/)
    rejectsKey({ ...rsaPublic, n: `${rsa.jwk.n as string}==` })
  })

  it('rejects missing or non-string n and e with ERR_KEY_INVALID', () => {
    rejectsKey({ kty: 'RSA', e: 'AQAB' })
    rejectsKey({ kty: 'RSA', n: rsa.jwk.n, e: 65537 })
  })
})

describe('EC public keys: full-length coordinates on the curve (RFC 7518 §6.2.1.2-3; Wycheproof JWK tcIds 22-23)', () => {
  const ec = jwkWithout(p256, 'kid', 'alg', 'use')
  const x = Buffer.from(ec.x as string, 'base64url')
  const y = Buffer.from(ec.y as string, 'base64url')

  it('imports a valid P-256 key', () => {
    assert.equal(importPublicJwk(ec).crv, 'P-256')
  })

  it('rejects x of 31 or 33 octets with ERR_KEY_INVALID (no dropped or added leading zeros)', () => {
    rejectsKey({ ...ec, x: b64u(x.subarray(1)) }, /"x" is not 32 octets/)
    rejectsKey({ ...ec, x: b64u(Buffer.concat([Buffer.from([0]), x])) }, /"x" is not 32 octets/)
  })

  it('rejects y of the wrong length with ERR_KEY_INVALID', () => {
    rejectsKey({ ...ec, y: b64u(y.subarray(1)) }, /"y" is not 32 octets/)
  })

  it('rejects a P-256 key written with P-384 coordinate lengths, and P-521 coordinates of 65 octets', () => {
    const p384 = jwkWithout(makeKey('ES384'), 'kid', 'alg', 'use')
    rejectsKey({ ...p384, crv: 'P-256' })
    const p521 = jwkWithout(makeKey('ES512'), 'kid', 'alg', 'use')
    const x521 = Buffer.from(p521.x as string, 'base64url')
    rejectsKey({ ...p521, x: b64u(x521.subarray(1)) }, /"x" is not 66 octets/)
  })

  it('rejects a point that is not on the curve with ERR_KEY_INVALID (Wycheproof JWK tcId 22)', () => {
    const offCurve = Buffer.from(y)
    offCurve[31] = (offCurve[31] as number) ^ 0x01
    rejectsKey({ ...ec, y: b64u(offCurve) }, /not on the curve/)
  })

  it('rejects an EC key whose alg names another curve (ES384 on P-256) with ERR_KEY_INVALID (Wycheproof JWK tcId 23)', () => {
    rejectsKey({ ...ec, alg: 'ES384' })
  })

  it('rejects OKP Ed25519 x of the wrong length with ERR_KEY_INVALID', () => {
    const okp = jwkWithout(ed, 'kid', 'alg', 'use')
    rejectsKey({ ...okp, x: b64u(Buffer.from(okp.x as string, 'base64url').subarray(1)) }, /32 octets/)
  })
})

describe('unsupported curves and key types', () => {
  it('rejects EC secp256k1 (RFC 8812 ES256K is not offered) with ERR_KEY_INVALID', () => {
    rejectsKey(
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' }),
      /curve/,
    )
  })

  it('rejects OKP Ed448 and X25519 with ERR_KEY_INVALID', () => {
    rejectsKey(generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' }), /curve/)
    rejectsKey(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }), /curve/)
  })

  it('rejects an unknown kty, a missing kty and a non-object with ERR_KEY_INVALID', () => {
    rejectsKey({ kty: 'DSA', y: 'AQAB' })
    rejectsKey({ n: rsa.jwk.n, e: 'AQAB' })
    rejectsKey([rsaPublic])
    rejectsKey(null)
    rejectsKey('{"kty":"RSA"}')
  })

  it('rejects a key restricted to an algorithm that is not a supported signature algorithm (RSA1_5, HS256, ES521)', () => {
    rejectsKey({ ...rsaPublic, alg: 'RSA1_5' })
    rejectsKey({ ...rsaPublic, alg: 'HS256' })
    rejectsKey({ ...jwkWithout(p256, 'alg'), alg: 'ES521' })
  })

  it('rejects key_ops that is not an array of unique strings (RFC 7517 §4.3)', () => {
    rejectsKey({ ...rsaPublic, key_ops: 'verify' })
    rejectsKey({ ...rsaPublic, key_ops: ['verify', 'verify'] })
    rejectsKey({ ...rsaPublic, key_ops: [1] })
  })

  it('rejects a non-string kid, use or alg member with ERR_KEY_INVALID', () => {
    rejectsKey({ ...rsaPublic, kid: 7 })
    rejectsKey({ ...rsaPublic, use: ['sig'] })
    rejectsKey({ ...rsaPublic, alg: 256 })
  })
})

describe('a key set holds public keys only (RFC 7517 §5; Wycheproof JWK tcId 1 MixedKeySet)', () => {
  const rsaPrivate = rsa.privateKey.export({ format: 'jwk' }) as Record<string, unknown>
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
    it(`rejects an RSA key carrying the private member "${member}" with ERR_KEY_INVALID`, () => {
      rejectsKey({ ...rsaPublic, [member]: rsaPrivate[member] }, new RegExp(`private member "${member}"`))
    })
  }

  it('rejects an EC key and an OKP key carrying "d" with ERR_KEY_INVALID', () => {
    rejectsKey(p256.privateKey.export({ format: 'jwk' }), /private member "d"/)
    rejectsKey(ed.privateKey.export({ format: 'jwk' }), /private member "d"/)
  })

  it('rejects any key carrying "k" or "oth" with ERR_KEY_INVALID', () => {
    rejectsKey({ ...rsaPublic, k: 'c2VjcmV0' }, /private member "k"/)
    rejectsKey({ ...rsaPublic, oth: [] }, /private member "oth"/)
  })

  it('rejects symmetric "oct" keys with ERR_KEY_INVALID: no HMAC, no key confusion (CVE-2015-9235)', () => {
    rejectsKey({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' }, /oct/)
  })
})

describe('in createVerifier, an unusable key is skipped and reported; the other keys keep working', () => {
  it('skips a 1024-bit key, reports it through onKeyRejected, and still verifies with the good key', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weakJwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' }
    const events: KeyRejectedEvent[] = []
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [weakJwk, rsa.jwk] },
      nowMs: fixedClock(),
      onKeyRejected: (event) => events.push(event),
    })
    assert.equal(events.length, 1)
    const [event] = events
    assert.equal(event?.issuer, ISSUER)
    assert.equal(event?.index, 0)
    assert.equal(event?.kid, 'weak')
    assert.equal(event?.code, 'ERR_KEY_INVALID')
    assert.match(event?.reason ?? '', /1024 bits/)
    assert.ok(!JSON.stringify(event).includes(weakJwk.n as string), 'the event carries no key material')
    await expectAccepted(verifier.verify(signToken(rsa)))
    // A token signed by the skipped key finds no key.
    const weakKey = { ...rsa, kid: 'weak', privateKey: weak.privateKey, jwk: weakJwk }
    await expectCode(verifier.verify(signToken(weakKey)), 'ERR_KEY_NOT_FOUND')
  })

  it('skips an e=1 key: a token forged for it finds no key (ERR_KEY_NOT_FOUND)', async () => {
    const events: KeyRejectedEvent[] = []
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [{ kty: 'RSA', n: rsa.jwk.n, e: 'AQ', kid: 'e1' }, p256.jwk] },
      algorithms: ['RS256', 'ES256'],
      nowMs: fixedClock(),
      onKeyRejected: (event) => events.push(event),
    })
    assert.deepEqual(
      events.map((e) => [e.index, e.kid, e.code]),
      [[0, 'e1', 'ERR_KEY_INVALID']],
    )
    await expectCode(verifier.verify(signToken(rsa, {}, { kid: 'e1' })), 'ERR_KEY_NOT_FOUND')
    await expectAccepted(verifier.verify(signToken(p256)))
  })

  it('reports every bad key of a mixed set, in order, and keeps the good ones', () => {
    const events: KeyRejectedEvent[] = []
    createVerifier({
      issuer: ISSUER,
      jwks: {
        keys: [
          { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
          rsa.jwk,
          { ...(p256.privateKey.export({ format: 'jwk' }) as object), kid: 'leaked' },
          { kty: 'OKP', crv: 'Ed448', x: 'AA', kid: 'ed448' },
          p256.jwk,
        ],
      },
      algorithms: ['RS256', 'ES256'],
      nowMs: fixedClock(),
      onKeyRejected: (event) => events.push(event),
    })
    assert.deepEqual(
      events.map((e) => [e.index, e.kid]),
      [
        [0, 'hmac'],
        [2, 'leaked'],
        [3, 'ed448'],
      ],
    )
  })

  it('throws ERR_INVALID_OPTIONS from createVerifier when the set has no usable key at all', () => {
    expectThrowsCode(
      () =>
        createVerifier({
          issuer: ISSUER,
          jwks: {
            keys: [
              { kty: 'RSA', n: rsa.jwk.n, e: 'AQ' },
              { kty: 'oct', k: 'c2VjcmV0' },
            ],
          },
          nowMs: fixedClock(),
        }),
      'ERR_INVALID_OPTIONS',
    )
    expectThrowsCode(() => createVerifier({ issuer: ISSUER, jwks: { keys: [] } }), 'ERR_INVALID_OPTIONS')
  })
})
