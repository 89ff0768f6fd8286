// The resource server's hot path keeps per-token and per-URL work in caches (the verifier's token
// cache, the access-token checks once per cached token, htu strings, proof keys) and may check DPoP
// proof signatures on libuv's thread pool. Every answer must be the one the uncached, inline path gives.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AccessTokenRequest } from '../../src/resource-server/resource-server.ts'
import { signaturePool } from '../../src/verifier/signature-pool.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import {
  API_URL,
  accessToken,
  clientKey,
  codeOf,
  dpopProof,
  issuerKey,
  makeApi,
  RESOURCE,
  thumbprintOf,
} from './support.ts'

const get = (headers: Record<string, string>, url: string | URL = API_URL): AccessTokenRequest => ({
  method: 'GET',
  url,
  headers,
})
const bearer = (token: string) => get({ authorization: `Bearer ${token}` })

describe('resource server hot path: cached answers are the uncached ones', () => {
  it('RFC 8725 §2.8 / RFC 9068 §4: a token refused as an access token is refused on every presentation, also once the verifier has cached it', async () => {
    // The generic profile lets the verifier pass (and cache) an ID-token-shaped token; the resource
    // server's own checks must refuse it each time, not only the first.
    for (const tokenCache of [undefined, false] as const) {
      const api = makeApi({ accessTokenProfile: 'generic', ...(tokenCache === false ? { tokenCache } : {}) })
      const idToken = signToken(issuerKey(), { aud: RESOURCE, nonce: 'n', client_id: 'c' })
      for (let i = 0; i < 3; i++) {
        assert.equal(await codeOf(api.authenticate(bearer(idToken))), 'ERR_ACCESS_TOKEN_INVALID', `${i}`)
      }
    }
  })

  it('RFC 6750 §3.1: each request’s scopes are checked, also for a token already accepted', async () => {
    const api = makeApi()
    const token = accessToken({ scope: 'read write' })
    for (let i = 0; i < 2; i++) {
      assert.deepEqual((await api.authenticate(bearer(token))).scopes, ['read', 'write'])
      assert.equal(
        await codeOf(api.authenticate(bearer(token), { scopes: ['admin'] })),
        'ERR_SCOPE_INSUFFICIENT',
      )
      assert.deepEqual((await api.authenticate(bearer(token), { scopes: ['write'] })).scopes, [
        'read',
        'write',
      ])
    }
  })

  it('RFC 9449 §7.2: a bound token is refused as Bearer, also after it passed with its proof', async () => {
    const api = makeApi()
    const key = clientKey()
    const token = accessToken({}, {}, key)
    const proof = dpopProof(key, token)
    assert.equal(
      (await api.authenticate(get({ authorization: `DPoP ${token}`, dpop: proof }))).scheme,
      'DPoP',
    )
    assert.equal(await codeOf(api.authenticate(bearer(token))), 'ERR_TOKEN_BOUND')
  })

  it('the same payload and scopes with the verifier’s token cache on or off; scopes are frozen either way', async () => {
    const token = accessToken({ scope: 'read write' })
    const cached = await makeApi().authenticate(bearer(token))
    const uncached = await makeApi({ tokenCache: false }).authenticate(bearer(token))
    assert.deepEqual(cached.payload, uncached.payload)
    assert.deepEqual(cached.scopes, uncached.scopes)
    assert.ok(Object.isFrozen(cached.scopes) && Object.isFrozen(uncached.scopes))
  })

  it('RFC 9449 §4.3 check 9: the request URL is normalized as a parse does, cold and warm (string or URL)', async () => {
    const api = makeApi()
    const key = clientKey()
    const token = accessToken({}, {}, key)
    const request = (proof: string, url: string | URL) =>
      api.authenticate(get({ authorization: `DPoP ${token}`, dpop: proof }, url))
    for (let pass = 0; pass < 2; pass++) {
      for (const url of [
        API_URL,
        'HTTPS://API.example.com:443/things/42',
        `${API_URL}?page=2`,
        new URL('https://api.example.com/things/./42'),
      ]) {
        assert.equal((await request(dpopProof(key, token), url)).jkt, thumbprintOf(key), String(url))
      }
      // Another path, another port, a trailing dot, a percent-encoded letter: not this request's URL.
      for (const url of [
        `${RESOURCE}/things/43`,
        'https://api.example.com:8443/things/42',
        'https://api.example.com./things/42',
        `${RESOURCE}/th%69ngs/42`,
      ]) {
        assert.equal(await codeOf(request(dpopProof(key, token), url)), 'ERR_DPOP_PROOF_INVALID', url)
      }
      assert.equal(await codeOf(request(dpopProof(key, token), '/things/42')), 'ERR_REQUEST_INVALID')
    }
  })

  it('RFC 9449 §4.3 check 6: proofs checked on the thread pool and inline get the same answers (ES256, EdDSA, PS256)', async () => {
    for (const dpopProofThreadPool of ['auto', true, false] as const) {
      const api = makeApi({ dpopProofThreadPool })
      for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
        const key = makeKey(alg, `hot-path-${alg}`)
        const token = accessToken({}, {}, key)
        const dpop = (proof: string) => api.authenticate(get({ authorization: `DPoP ${token}`, dpop: proof }))
        const good = dpopProof(key, token)
        assert.equal((await dpop(good)).jkt, thumbprintOf(key), `${alg} ${dpopProofThreadPool}`)
        assert.equal(await codeOf(dpop(good)), 'ERR_DPOP_PROOF_REPLAYED')
        const [header, payload] = dpopProof(key, token).split('.')
        const forged = `${header}.${payload}.${dpopProof(key, token).split('.')[2]}`
        const error = await dpop(forged).catch((e: unknown) => e)
        assert.equal(
          (error as { code?: string }).code,
          'ERR_DPOP_PROOF_INVALID',
          `${alg} ${dpopProofThreadPool}`,
        )
        assert.match(
          api.challenge(error).headers['www-authenticate'] ?? '',
          /DPoP error="invalid_dpop_proof"/,
        )
        const other = dpopProof(makeKey(alg, `hot-path-other-${alg}`), token)
        assert.equal(await codeOf(dpop(other)), 'ERR_DPOP_BINDING_MISMATCH')
      }
    }
  })

  it('dpopProofThreadPool: ECDSA and EdDSA proofs go to the pool under auto, RSA ones too under true, none under false', async () => {
    const handedOff = async (mode: 'auto' | boolean | undefined, alg: 'ES256' | 'EdDSA' | 'PS256') => {
      const api = makeApi(mode === undefined ? {} : { dpopProofThreadPool: mode })
      const key = makeKey(alg, `pool-count-${alg}`)
      const token = accessToken({}, {}, key)
      const before = signaturePool.handedOff
      await api.authenticate(get({ authorization: `DPoP ${token}`, dpop: dpopProof(key, token) }))
      return signaturePool.handedOff - before
    }
    for (const mode of [undefined, 'auto'] as const) {
      assert.equal(await handedOff(mode, 'ES256'), 1)
      assert.equal(await handedOff(mode, 'EdDSA'), 1)
      assert.equal(await handedOff(mode, 'PS256'), 0)
    }
    assert.equal(await handedOff(true, 'PS256'), 1)
    for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) assert.equal(await handedOff(false, alg), 0)
    assert.equal(signaturePool.inFlight, 0)
  })

  it('dpopProofThreadPool is false, true or auto; a misspelling is refused with the right name', () => {
    assert.throws(() => makeApi({ dpopProofThreadPool: 'yes' as never }), { code: 'ERR_INVALID_OPTIONS' })
    refusesUnknownOption(
      () => makeApi({ dpopProofThreadpool: false } as never),
      'createResourceServer',
      'dpopProofThreadpool',
      'dpopProofThreadPool',
    )
  })
})
