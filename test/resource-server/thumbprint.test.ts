import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { calculateJwkThumbprint } from 'jose'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import { jwkThumbprint } from '../../src/resource-server/thumbprint.ts'
import { makeKey } from '../helpers/tokens.ts'

// RFC 7638 §3.1, the worked example.
const RFC7638_KEY = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs' +
    'tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n' +
    '91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
}

describe('RFC 7638 JWK thumbprints', () => {
  it('RFC 7638 §3.1: the example RSA key has thumbprint NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', () => {
    assert.equal(jwkThumbprint(importPublicJwk(RFC7638_KEY)), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })

  it('RFC 7638 §3.2: optional members (kid, alg, use) do not change the thumbprint', () => {
    const bare = { kty: RFC7638_KEY.kty, n: RFC7638_KEY.n, e: RFC7638_KEY.e }
    assert.equal(
      jwkThumbprint(importPublicJwk(bare)),
      jwkThumbprint(importPublicJwk({ ...bare, use: 'sig', kid: 'x' })),
    )
  })

  it('RFC 7638 §3.2: EC and OKP keys agree with jose calculateJwkThumbprint (differential)', async () => {
    for (const alg of ['ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
      const jwk = makeKey(alg).jwk
      assert.equal(
        jwkThumbprint(importPublicJwk(jwk)),
        await calculateJwkThumbprint(jwk as never, 'sha256'),
        alg,
      )
    }
  })
})
