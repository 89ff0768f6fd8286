import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createVerifier, isJwksBridgeError } from '../src/index.ts'
import { fixedClock, ISSUER, makeKey, signToken } from './helpers/tokens.ts'

describe('createVerifier: the happy path for every algorithm', () => {
  for (const alg of [
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
    'Ed25519',
  ] as const) {
    it(`verifies a valid ${alg} token and returns header and payload`, async () => {
      const key = makeKey(alg)
      const verifier = createVerifier({
        issuer: ISSUER,
        jwks: { keys: [key.jwk] },
        algorithms: [alg],
        nowMs: fixedClock(),
      })
      const { header, payload } = await verifier.verify(signToken(key, { email: 'a@example.com' }))
      assert.equal(header.alg, alg)
      assert.equal(header.kid, key.kid)
      assert.equal(payload.sub, 'user-1')
      assert.equal(payload.email, 'a@example.com')
    })
  }

  it('rejects an expired token with ERR_JWT_EXPIRED and a message without the token', async () => {
    const key = makeKey('RS256')
    const verifier = createVerifier({ issuer: ISSUER, jwks: { keys: [key.jwk] }, nowMs: fixedClock() })
    const token = signToken(key, { exp: 1 })
    await assert.rejects(verifier.verify(token), (error: unknown) => {
      assert.ok(isJwksBridgeError(error, 'ERR_JWT_EXPIRED'))
      assert.ok(!error.message.includes(token.split('.')[2] as string))
      return true
    })
  })
})
