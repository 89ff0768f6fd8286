import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import type { JwksBridgeError } from '../../src/errors.ts'
import {
  accessTokenHash,
  checkDpopProof,
  ProofKeyCache,
  type ProofPolicy,
  readDpopProof,
  verifyDpopProofInPool,
} from '../../src/resource-server/dpop-proof.ts'
import { HtuCache, htuOf } from '../../src/resource-server/htu.ts'
import { b64u, makeKey, signText, type TestKey } from '../helpers/tokens.ts'
import { API_URL, accessToken, clientKey, dpopProof, NOW_SECONDS, proofJwk, thumbprintOf } from './support.ts'

const POLICY: ProofPolicy = {
  algorithms: new Set(['ES256', 'RS256', 'EdDSA', 'PS256']),
  maxAgeSeconds: 60,
  clockToleranceSeconds: 5,
  maxProofLength: 8192,
}
const TOKEN = accessToken()
const request = (overrides: Partial<Parameters<typeof checkDpopProof>[1]> = {}) => ({
  method: 'GET',
  htu: htuOf(new URL(API_URL)),
  accessToken: TOKEN,
  nowSeconds: NOW_SECONDS,
  ...overrides,
})

function refusal(proof: string, req = request(), policy = POLICY): JwksBridgeError {
  try {
    checkDpopProof(proof, req, policy)
  } catch (error) {
    return error as JwksBridgeError
  }
  throw new Error('expected the proof to be refused')
}

function assertRefused(proof: string, claim: string | undefined, req = request()): void {
  const error = refusal(proof, req)
  assert.equal(error.code, 'ERR_DPOP_PROOF_INVALID')
  assert.equal(error.claim, claim)
  assert.ok(!error.message.includes(proof.slice(0, 20)), 'the message never holds the proof')
}

describe('DPoP proofs (RFC 9449 §4.3), plain data', () => {
  it('RFC 9449 §4.3: a proper proof passes and gives the RFC 7638 thumbprint of its key', () => {
    const key = clientKey()
    const checked = checkDpopProof(dpopProof(key, TOKEN), request(), POLICY)
    assert.equal(checked.jkt, thumbprintOf(key))
    assert.equal(checked.iat, NOW_SECONDS)
    assert.equal(checked.nonce, undefined)
  })

  it('RFC 9449 §4.3 check 2: something that is not a compact JWS is refused', () => {
    assertRefused('not-a-jws', undefined)
    assertRefused('a.b.c.d.e', undefined)
  })

  it('RFC 9449 §4.3 check 4: typ must be dpop+jwt (an at+jwt or JWT signed by the client is not a proof)', () => {
    for (const typ of ['JWT', 'at+jwt', undefined])
      assertRefused(dpopProof(clientKey(), TOKEN, { header: { typ } }), 'typ')
    // RFC 7515 §4.1.9: the media type may carry application/ and any case.
    assert.doesNotThrow(() =>
      checkDpopProof(
        dpopProof(clientKey(), TOKEN, { header: { typ: 'application/DPoP+JWT' } }),
        request(),
        POLICY,
      ),
    )
  })

  it('RFC 9449 §4.3 check 5: alg none, HS256, or an algorithm outside the allowlist is refused', () => {
    const key = clientKey()
    for (const alg of ['none', 'HS256', 'ES384']) {
      const header = JSON.stringify({ typ: 'dpop+jwt', alg, jwk: proofJwk(key) })
      const body = JSON.stringify({ jti: 'j', htm: 'GET', htu: API_URL, iat: NOW_SECONDS })
      assertRefused(`${b64u(header)}.${b64u(body)}.${b64u('sig')}`, 'alg')
    }
  })

  it('RFC 9449 §4.3 check 6: a signature by another key than the header jwk is refused', () => {
    const key = clientKey()
    const other = makeKey('ES256', 'thief')
    const proof = dpopProof(other, TOKEN, { header: { jwk: proofJwk(key) } })
    assertRefused(proof, undefined)
  })

  it('RFC 9449 §4.3 check 7: a jwk with private members (d) or a symmetric key is refused', () => {
    const key = clientKey()
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const privateJwk = privateKey.export({ format: 'jwk' })
    assertRefused(dpopProof(key, TOKEN, { header: { jwk: privateJwk } }), 'jwk')
    assertRefused(dpopProof(key, TOKEN, { header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } }), 'jwk')
    assertRefused(dpopProof(key, TOKEN, { header: { jwk: undefined } }), 'jwk')
  })

  it('RFC 8725 §3.1: a jwk that does not fit alg (an RSA key under ES256) is refused', () => {
    assertRefused(
      dpopProof(clientKey(), TOKEN, { header: { jwk: proofJwk(makeKey('RS256', 'rsa-client')) } }),
      'jwk',
    )
  })

  it('RFC 7518 §3.3: a weak RSA key (1024 bits) in the proof header is refused', () => {
    const weak = makeKey('RS256', 'weak', 1024)
    assertRefused(dpopProof(weak, TOKEN), 'jwk')
  })

  it('RFC 9449 §4.3 check 8: htm must be this request’s method (case-sensitive)', () => {
    assertRefused(dpopProof(clientKey(), TOKEN, { method: 'POST' }), 'htm')
    assertRefused(dpopProof(clientKey(), TOKEN, { method: 'get' }), 'htm')
  })

  it('RFC 9449 §4.3 check 9: htu must be this request’s URL; query and fragment are ignored', () => {
    assertRefused(dpopProof(clientKey(), TOKEN, { url: 'https://api.example.com/things/43' }), 'htu')
    assertRefused(dpopProof(clientKey(), TOKEN, { url: 'https://evil.example.com/things/42' }), 'htu')
    assertRefused(dpopProof(clientKey(), TOKEN, { url: 'http://api.example.com/things/42' }), 'htu')
    assertRefused(dpopProof(clientKey(), TOKEN, { url: '/things/42' }), 'htu')
    const withQuery = request({ htu: htuOf(new URL(`${API_URL}?page=2`)) })
    assert.doesNotThrow(() =>
      checkDpopProof(dpopProof(clientKey(), TOKEN, { url: `${API_URL}#top` }), withQuery, POLICY),
    )
    // RFC 3986 §6.2.2-6.2.3: scheme and host case, and the default port, are normalized.
    assert.doesNotThrow(() =>
      checkDpopProof(
        dpopProof(clientKey(), TOKEN, { url: 'HTTPS://API.example.com:443/things/42' }),
        request(),
        POLICY,
      ),
    )
  })

  it('RFC 9449 §4.3 check 11: iat within the window (60 s old at most, 5 s of skew)', () => {
    const at = (iat: number) => dpopProof(clientKey(), TOKEN, { claims: { iat } })
    assert.doesNotThrow(() => checkDpopProof(at(NOW_SECONDS - 65), request(), POLICY))
    assertRefused(at(NOW_SECONDS - 66), 'iat')
    assert.doesNotThrow(() => checkDpopProof(at(NOW_SECONDS + 5), request(), POLICY))
    assertRefused(at(NOW_SECONDS + 6), 'iat')
    assertRefused(dpopProof(clientKey(), TOKEN, { claims: { iat: '1800000000' } }), 'iat')
  })

  it('RFC 9449 §4.2: jti, htm and htu are required', () => {
    for (const claim of ['jti', 'htm', 'htu']) {
      assertRefused(dpopProof(clientKey(), TOKEN, { claims: { [claim]: undefined } }), claim)
    }
  })

  it('RFC 9449 §4.3 check 12: ath must be the SHA-256 of the access token presented with it', () => {
    assertRefused(dpopProof(clientKey(), undefined), 'ath')
    assertRefused(dpopProof(clientKey(), accessToken({ sub: 'someone-else' })), 'ath')
  })

  it('RFC 9449 §4.3: a cached proof key never skips the signature or the claims of the next proof', () => {
    const cache = new ProofKeyCache()
    const key = clientKey()
    checkDpopProof(dpopProof(key, TOKEN), request(), POLICY, cache)
    const good = dpopProof(key, TOKEN)
    const [header, payload] = good.split('.')
    const forged = `${header}.${payload}.${dpopProof(key, TOKEN).split('.')[2]}`
    assert.throws(() => checkDpopProof(forged, request(), POLICY, cache), { code: 'ERR_DPOP_PROOF_INVALID' })
    assert.throws(() => checkDpopProof(dpopProof(key, TOKEN, { method: 'PUT' }), request(), POLICY, cache), {
      code: 'ERR_DPOP_PROOF_INVALID',
    })
    assert.equal(checkDpopProof(good, request(), POLICY, cache).jkt, thumbprintOf(key))
  })

  it('RFC 9449 §4.3: proofs with RSA-PSS and Ed25519 keys pass too', () => {
    for (const alg of ['PS256', 'EdDSA'] as const) {
      const key = makeKey(alg, `client-${alg}`)
      assert.equal(checkDpopProof(dpopProof(key, TOKEN), request(), POLICY).jkt, thumbprintOf(key))
    }
  })

  it('a proof built from raw JSON with a duplicate member is refused (the verifier’s JSON rules)', () => {
    const key = clientKey()
    const header = `{"typ":"dpop+jwt","alg":"ES256","jwk":${JSON.stringify(proofJwk(key))}}`
    const body = `{"jti":"a","jti":"b","htm":"GET","htu":"${API_URL}","iat":${NOW_SECONDS}}`
    assertRefused(signText(key, header, body), undefined)
  })

  it('RFC 9449 §4.3 check 9: with the htu cache, the same answers, cold and warm (case, default port, query and fragment)', () => {
    const htus = new HtuCache()
    const key = clientKey()
    for (let pass = 0; pass < 2; pass++) {
      for (const url of [
        API_URL,
        'HTTPS://API.example.com:443/things/42',
        `${API_URL}#top`,
        `${API_URL}?x=1`,
      ]) {
        assert.doesNotThrow(() =>
          checkDpopProof(dpopProof(key, TOKEN, { url }), request(), POLICY, undefined, htus),
        )
      }
      for (const url of [
        'https://api.example.com/things/43',
        'http://api.example.com/things/42',
        '/things/42',
      ]) {
        assert.throws(
          () => checkDpopProof(dpopProof(key, TOKEN, { url }), request(), POLICY, undefined, htus),
          {
            code: 'ERR_DPOP_PROOF_INVALID',
            claim: 'htu',
          },
        )
      }
    }
  })

  it('RFC 7638 / RFC 9449 §6.1: the proof key cache keeps each key’s own thumbprint (no cross-talk; a changed jwk is its own entry)', () => {
    const cache = new ProofKeyCache()
    const keys = [clientKey(), makeKey('ES256', 'second-client'), makeKey('EdDSA', 'third-client')]
    for (let pass = 0; pass < 3; pass++) {
      for (const key of keys) {
        assert.equal(checkDpopProof(dpopProof(key, TOKEN), request(), POLICY, cache).jkt, thumbprintOf(key))
      }
    }
    assert.equal(cache.size, keys.length)
    // The same header but for its jwk (typ, alg unchanged): another key, another thumbprint, and a
    // proof whose header names one key and whose signature is by another is refused, cached or not.
    const [first, second] = keys as [TestKey, TestKey]
    const mixed = dpopProof(second, TOKEN, { header: { jwk: proofJwk(first) } })
    assert.throws(() => checkDpopProof(mixed, request(), POLICY, cache), { code: 'ERR_DPOP_PROOF_INVALID' })
    assert.equal(checkDpopProof(dpopProof(second, TOKEN), request(), POLICY, cache).jkt, thumbprintOf(second))
  })

  it('the proof key cache is bounded: it starts over when full, and keeps answering right', () => {
    const cache = new ProofKeyCache(2)
    const keys = [0, 1, 2, 3, 4].map((i) => makeKey('ES256', `bounded-${i}`))
    for (const key of [...keys, ...keys]) {
      assert.equal(checkDpopProof(dpopProof(key, TOKEN), request(), POLICY, cache).jkt, thumbprintOf(key))
      assert.ok(cache.size <= 2, `size ${cache.size}`)
    }
  })

  it('RFC 9449 §4.3 check 6: on the thread pool, a signature by another key is refused and a good one passes, as inline', async () => {
    const cache = new ProofKeyCache()
    for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
      const key = makeKey(alg, `pool-${alg}`)
      const good = dpopProof(key, TOKEN)
      const checked = await verifyDpopProofInPool(readDpopProof(good, POLICY, cache), request, POLICY, cache)
      assert.equal(checked.jkt, thumbprintOf(key), alg)
      const [header, payload] = good.split('.')
      const forged = `${header}.${payload}.${dpopProof(key, TOKEN).split('.')[2]}`
      await assert.rejects(
        verifyDpopProofInPool(readDpopProof(forged, POLICY, cache), request, POLICY, cache),
        {
          code: 'ERR_DPOP_PROOF_INVALID',
          reason: 'its signature does not verify with its own "jwk"',
        },
      )
      // And the claims still count after the pool's answer.
      const late = dpopProof(key, TOKEN, { claims: { iat: NOW_SECONDS - 600 } })
      await assert.rejects(
        verifyDpopProofInPool(readDpopProof(late, POLICY, cache), request, POLICY, cache),
        {
          code: 'ERR_DPOP_PROOF_INVALID',
          claim: 'iat',
        },
      )
    }
  })
})

describe('accessTokenHash (RFC 9449 §4.2 ath)', () => {
  it('is SHA-256 of the ASCII token, and never the same for two different strings (no lossy encoding)', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.e30.sig'
    assert.equal(accessTokenHash(token), createHash('sha256').update(token, 'ascii').digest('base64url'))
    // 'ascii' keeps the low byte of each character: Ł (U+0141) and A (U+0041) would hash alike.
    assert.notEqual(accessTokenHash('Ł.x'), accessTokenHash('A.x'))
  })
})
