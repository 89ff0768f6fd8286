// Which key set and discovery URLs are accepted (src/keys/url-policy.ts), and that createVerifier
// refuses the others up front with ERR_INVALID_OPTIONS, before any network I/O.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createVerifier, isJwksBridgeError } from '../../src/index.ts'
import { checkKeySetUrl } from '../../src/keys/url-policy.ts'
import { ISSUER } from '../helpers/tokens.ts'

describe('checkKeySetUrl', () => {
  it('accepts https anywhere', () => {
    assert.equal(
      checkKeySetUrl('https://auth.example.com/jwks.json', 'jwksUri').href,
      'https://auth.example.com/jwks.json',
    )
    assert.equal(checkKeySetUrl(new URL('https://10.0.0.1/keys'), 'jwksUri').hostname, '10.0.0.1')
  })

  it('accepts http only on loopback hosts', () => {
    for (const url of [
      'http://127.0.0.1:8080/jwks',
      'http://127.9.9.9/jwks',
      'http://localhost:3000/jwks',
      'http://LOCALHOST/jwks',
      'http://[::1]:4000/jwks',
      // Other spellings of 127.0.0.1 that the WHATWG URL parser normalizes: still loopback.
      'http://2130706433/jwks',
      'http://0x7f.1/jwks',
    ]) {
      assert.equal(checkKeySetUrl(url, 'jwksUri').protocol, 'http:', url)
    }
  })

  it('refuses http to any other host, and other schemes', () => {
    for (const url of [
      'http://10.0.0.1/jwks',
      'http://10.0.0.1:8080/jwks',
      'http://192.168.0.10/jwks',
      'http://auth.example.com/jwks',
      'http://127.0.0.1.nip.io/jwks',
      'http://localhost.example.com/jwks',
      'http://[::2]/jwks',
      'http://0.0.0.0/jwks',
      'ftp://127.0.0.1/jwks',
      'file:///etc/jwks.json',
      'ws://127.0.0.1/jwks',
      'data:application/json,{"keys":[]}',
      'javascript:alert(1)',
    ]) {
      assert.throws(
        () => checkKeySetUrl(url, 'jwksUri'),
        (error: unknown) => {
          assert.ok(isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'), url)
          return true
        },
      )
    }
  })

  it('refuses credentials and fragments', () => {
    for (const url of [
      'https://user:secret@auth.example.com/jwks',
      'https://user@auth.example.com/jwks',
      'https://:secret@auth.example.com/jwks',
      'http://user:pw@127.0.0.1/jwks',
      'https://auth.example.com/jwks#keys',
      'http://127.0.0.1/jwks#x',
    ]) {
      assert.throws(
        () => checkKeySetUrl(url, 'jwksUri'),
        (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
        url,
      )
    }
  })

  it('never puts credentials in its error message', () => {
    try {
      checkKeySetUrl('https://user:hunter2@auth.example.com/jwks', 'jwksUri')
      assert.fail('accepted a URL with credentials')
    } catch (error) {
      assert.equal((error as Error).message.includes('hunter2'), false)
    }
  })

  it('refuses values that are not URLs', () => {
    for (const value of [
      42,
      null,
      undefined,
      {},
      '',
      'not a url',
      '/relative/jwks',
      'auth.example.com/jwks',
    ]) {
      assert.throws(
        () => checkKeySetUrl(value, 'jwksUri'),
        (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
        String(value),
      )
    }
  })
})

describe('createVerifier refuses unsafe key set URLs with ERR_INVALID_OPTIONS', () => {
  const refused = (options: Parameters<typeof createVerifier>[0]) =>
    assert.throws(
      () => createVerifier(options),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )

  it('refuses a plain-http jwksUri on a non-loopback host', () => {
    refused({ issuer: ISSUER, jwksUri: 'http://10.0.0.1/jwks' })
    refused({ issuer: ISSUER, jwksUri: 'http://auth.example.com/jwks' })
  })

  it('refuses credentials and fragments in jwksUri', () => {
    refused({ issuer: ISSUER, jwksUri: 'https://u:p@auth.example.com/jwks' })
    refused({ issuer: ISSUER, jwksUri: 'https://auth.example.com/jwks#frag' })
  })

  it('refuses a plain-http issuer used for discovery on a non-loopback host', () => {
    refused({ issuer: 'http://10.0.0.1/realm' })
    refused({ issuer: 'not a url' })
  })

  it('refuses an unsafe URL in any entry of issuers', () => {
    refused({
      issuers: [
        { issuer: 'https://a.example.com', jwksUri: 'https://a.example.com/jwks' },
        { issuer: 'https://b.example.com', jwksUri: 'http://10.0.0.1/jwks' },
      ],
    })
  })

  it('accepts https anywhere and http on loopback, without fetching anything', () => {
    let fetches = 0
    const fetch = async () => {
      fetches++
      throw new Error('no network in this test')
    }
    createVerifier({ issuer: ISSUER, jwksUri: 'https://auth.example.com/jwks', fetch })
    createVerifier({ issuer: ISSUER, jwksUri: 'http://127.0.0.1:9/jwks', fetch })
    createVerifier({ issuer: ISSUER, jwksUri: 'http://[::1]:9/jwks', fetch })
    createVerifier({ issuer: ISSUER, jwksUri: 'http://localhost:9/jwks', fetch })
    createVerifier({ issuer: 'http://127.0.0.1:9/realm', fetch })
    assert.equal(fetches, 0)
  })
})
