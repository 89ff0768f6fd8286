import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createVerifier, importKeySet, isJwksBridgeError, verifyCompactJws } from '../../src/index.ts'
import { b64u, ISSUER, makeKey, signRaw, signText } from '../helpers/tokens.ts'

const key = makeKey('ES256', 'jws-key')
const keySet = importKeySet({ keys: [key.jwk] })
const header = JSON.stringify({ alg: 'ES256', kid: 'jws-key' })

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'accepted'
  } catch (error) {
    return isJwksBridgeError(error) ? error.code : 'not a JwksBridgeError'
  }
}

describe('verifyCompactJws: the JWS layer under the JWT verifier', () => {
  it('returns the header and the payload octets, not parsed, in a buffer of their own', () => {
    const octets = Buffer.from([0, 1, 2, 0xff, 0xfe])
    const first = verifyCompactJws(signText(key, header, octets), keySet, { algorithms: ['ES256'] })
    assert.equal(first.header.alg, 'ES256')
    assert.equal(first.header.kid, 'jws-key')
    assert.ok(first.payload.equals(octets))
    // Verification reuses scratch buffers; a returned payload must not change with the next call.
    verifyCompactJws(signText(key, header, 'another payload, longer than the first'), keySet, {
      algorithms: ['ES256'],
    })
    assert.ok(first.payload.equals(octets))
  })

  it('accepts an empty payload (RFC 7515 allows it), which the JWT verifier refuses', async () => {
    const input = `${b64u(header)}.`
    const token = `${input}.${signRaw('ES256', key.privateKey, input)}`
    const { payload } = verifyCompactJws(token, keySet, { algorithms: ['ES256'] })
    assert.equal(payload.length, 0)
    const verifier = createVerifier({ issuer: ISSUER, jwks: { keys: [key.jwk] }, algorithms: ['ES256'] })
    await assert.rejects(verifier.verify(token), (error) => isJwksBridgeError(error, 'ERR_TOKEN_MALFORMED'))
    verifier.close()
  })

  it('still refuses an empty header or signature segment', () => {
    const token = signText(key, header, 'x')
    const [h, p, s] = token.split('.')
    assert.equal(
      codeOf(() => verifyCompactJws(`.${p}.${s}`, keySet, { algorithms: ['ES256'] })),
      'ERR_TOKEN_MALFORMED',
    )
    assert.equal(
      codeOf(() => verifyCompactJws(`${h}.${p}.`, keySet, { algorithms: ['ES256'] })),
      'ERR_TOKEN_MALFORMED',
    )
  })

  it('checks the signature, the allowlist, crit and the length cap', () => {
    const token = signText(key, header, 'payload')
    const [h, , s] = token.split('.')
    const swapped = `${h}.${b64u('other')}.${s}`
    assert.equal(
      codeOf(() => verifyCompactJws(swapped, keySet, { algorithms: ['ES256'] })),
      'ERR_SIGNATURE_INVALID',
    )
    assert.equal(
      codeOf(() => verifyCompactJws(token, keySet, { algorithms: ['RS256'] })),
      'ERR_ALG_NOT_ALLOWED',
    )
    assert.equal(
      codeOf(() =>
        verifyCompactJws(token, keySet, { algorithms: ['ES256'], maxTokenLength: token.length - 1 }),
      ),
      'ERR_TOKEN_TOO_LONG',
    )
    const critical = signText(
      key,
      JSON.stringify({ alg: 'ES256', kid: 'jws-key', crit: ['ext'], ext: 1 }),
      'p',
    )
    assert.equal(
      codeOf(() => verifyCompactJws(critical, keySet, { algorithms: ['ES256'] })),
      'ERR_CRIT_UNSUPPORTED',
    )
    assert.equal(
      codeOf(() => verifyCompactJws(critical, keySet, { algorithms: ['ES256'], criticalHeaders: ['ext'] })),
      'accepted',
    )
  })

  it('refuses bad options: no algorithm, HS256, none, a key set that is not a KeySet, a bad cap', () => {
    const token = signText(key, header, 'payload')
    const bad: unknown[] = [
      { algorithms: [] },
      { algorithms: ['HS256'] },
      { algorithms: ['none'] },
      { algorithms: ['ES256'], maxTokenLength: 0 },
      { algorithms: ['ES256'], criticalHeaders: [1] },
    ]
    for (const options of bad) {
      assert.equal(
        codeOf(() => verifyCompactJws(token, keySet, options as never)),
        'ERR_INVALID_OPTIONS',
      )
    }
    const plainSet = { keys: [key.jwk] }
    assert.equal(
      codeOf(() => verifyCompactJws(token, plainSet as never, { algorithms: ['ES256'] })),
      'ERR_INVALID_OPTIONS',
    )
  })
})
