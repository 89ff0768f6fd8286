import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createVerifier } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { ISSUER, makeKey, signToken } from '../helpers/tokens.ts'

describe('remote key set: first load, single flight, rotation', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  it('loads the set once for many concurrent first verifications, then picks up a rotated key', async () => {
    const a = makeKey('RS256', 'key-a')
    const b = makeKey('RS256', 'key-b')
    server.routes.set('/jwks', {
      body: { keys: [a.jwk] },
      headers: { 'content-type': 'application/jwk-set+json' },
    })
    let now = 1_800_000_000_000
    const verifier = createVerifier({ issuer: ISSUER, jwksUri: server.url('/jwks'), nowMs: () => now })
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(signToken(a))))
    assert.equal(results.length, 20)
    assert.equal(server.count('/jwks'), 1)
    server.routes.set('/jwks', { body: { keys: [a.jwk, b.jwk] } })
    now += 1000
    const { header } = await verifier.verify(signToken(b))
    assert.equal(header.kid, 'key-b')
    assert.equal(server.count('/jwks'), 2)
  })
})
