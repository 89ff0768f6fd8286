// Pure processing of an OpenID Provider Configuration document (src/keys/discovery.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isJwksBridgeError } from '../../src/index.ts'
import { discoveryUrl, processDiscoveryDocument } from '../../src/keys/discovery.ts'

const ISSUER = 'https://auth.example.com/realm'

const refusedWith = (reason: RegExp) => (error: unknown) => {
  assert.ok(isJwksBridgeError(error, 'ERR_DISCOVERY_FAILED'))
  assert.match(String(error.reason), reason)
  return true
}

describe('discoveryUrl', () => {
  it('appends /.well-known/openid-configuration, removing a terminating slash (OIDC Discovery §4)', () => {
    assert.equal(discoveryUrl(ISSUER), 'https://auth.example.com/realm/.well-known/openid-configuration')
    assert.equal(
      discoveryUrl(`${ISSUER}/`),
      'https://auth.example.com/realm/.well-known/openid-configuration',
    )
    assert.equal(
      discoveryUrl('https://auth.example.com'),
      'https://auth.example.com/.well-known/openid-configuration',
    )
  })
})

describe('processDiscoveryDocument', () => {
  it('returns the jwks_uri when the issuer matches exactly', () => {
    const url = processDiscoveryDocument(
      { issuer: ISSUER, jwks_uri: 'https://auth.example.com/realm/certs' },
      ISSUER,
    )
    assert.equal(url, 'https://auth.example.com/realm/certs')
    const local = processDiscoveryDocument(
      { issuer: ISSUER, jwks_uri: 'http://127.0.0.1:8080/certs' },
      ISSUER,
    )
    assert.equal(local, 'http://127.0.0.1:8080/certs')
  })

  it('refuses a document that names another issuer, however close (mix-up, OIDC Discovery §4.3)', () => {
    for (const issuer of [
      `${ISSUER}/`,
      'https://AUTH.example.com/realm',
      'https://auth.example.com/Realm',
      'https://auth.example.com/realm2',
      'https://auth.example.com',
      'http://auth.example.com/realm',
      '',
      undefined,
      null,
      42,
      [ISSUER],
    ]) {
      assert.throws(
        () => processDiscoveryDocument({ issuer, jwks_uri: 'https://auth.example.com/certs' }, ISSUER),
        refusedWith(/issuer mismatch/),
        String(issuer),
      )
    }
  })

  it('refuses a missing or malformed jwks_uri', () => {
    for (const jwksUri of [
      undefined,
      null,
      42,
      '',
      'not a url',
      '/relative/certs',
      ['https://a.example.com/certs'],
    ]) {
      assert.throws(
        () => processDiscoveryDocument({ issuer: ISSUER, jwks_uri: jwksUri }, ISSUER),
        refusedWith(/jwks_uri/),
        String(jwksUri),
      )
    }
  })

  it('refuses a jwks_uri that breaks the URL rules (plain http off loopback, credentials, fragment)', () => {
    for (const jwksUri of [
      'http://10.0.0.1/certs',
      'http://auth.example.com/realm/certs',
      'https://user:pw@auth.example.com/certs',
      'https://auth.example.com/certs#keys',
      'file:///etc/passwd',
    ]) {
      assert.throws(
        () => processDiscoveryDocument({ issuer: ISSUER, jwks_uri: jwksUri }, ISSUER),
        refusedWith(/jwks_uri/),
        jwksUri,
      )
    }
  })
})
