// Rule: a token is a string of exactly three non-empty base64url segments, no longer than a cap,
// and this is settled before anything is decoded (RFC 7515 §7.1, RFC 7519 §7.2, rfc8725bis
// "Check JWT Format Type"; Wycheproof JWS tcIds 2-15, 17; json-jwt CVE-2023-51774 JWE/JWS confusion).
import { describe, it } from 'node:test'
import { makeKey, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, segments, verifierFor } from './support.ts'

const key = makeKey('ES256')
const verifier = verifierFor([key], { algorithms: ['ES256'] })
const token = signToken(key)
const [header, payload, signature] = segments(token)

describe('token structure (RFC 7515 §7.1 compact serialization)', () => {
  it('accepts a well-formed three-segment token (the baseline every case below departs from)', async () => {
    await expectAccepted(verifier.verify(token))
  })

  it('rejects two segments (signature missing) with ERR_TOKEN_MALFORMED', async () => {
    await expectCode(verifier.verify(`${header}.${payload}`), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects four segments with ERR_TOKEN_MALFORMED', async () => {
    await expectCode(verifier.verify(`${token}.${signature}`), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects five segments, the shape of a JWE (json-jwt CVE-2023-51774: JWE accepted as JWS)', async () => {
    await expectCode(
      verifier.verify(`${header}.${payload}.${payload}.${payload}.${signature}`),
      'ERR_TOKEN_MALFORMED',
    )
  })

  it('rejects a trailing dot (an empty fourth segment) with ERR_TOKEN_MALFORMED', async () => {
    await expectCode(verifier.verify(`${token}.`), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects one segment and the empty string with ERR_TOKEN_MALFORMED (Wycheproof tcId 17)', async () => {
    await expectCode(verifier.verify(payload), 'ERR_TOKEN_MALFORMED')
    await expectCode(verifier.verify(''), 'ERR_TOKEN_MALFORMED')
    await expectCode(verifier.verify('..'), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects an empty header segment with ERR_TOKEN_MALFORMED', async () => {
    await expectCode(verifier.verify(`.${payload}.${signature}`), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects an empty payload segment with ERR_TOKEN_MALFORMED (RFC 7797 detached content is not a JWT)', async () => {
    await expectCode(verifier.verify(`${header}..${signature}`), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects an empty signature segment with ERR_TOKEN_MALFORMED (unsecured JWS, RFC 7518 §3.6)', async () => {
    await expectCode(verifier.verify(`${header}.${payload}.`), 'ERR_TOKEN_MALFORMED')
  })

  it('rejects the JSON serialization with ERR_TOKEN_MALFORMED (python-jwt CVE-2022-39227)', async () => {
    const json = JSON.stringify({ protected: header, payload, signature })
    await expectCode(verifier.verify(json), 'ERR_TOKEN_MALFORMED')
  })
})

describe('token length cap (rfc8725bis, RFC 7518 §8.6 spirit): checked before any decoding', () => {
  it('rejects a token longer than the default 16 KiB with ERR_TOKEN_TOO_LONG', async () => {
    const padded = `${header}.${payload}${'A'.repeat(16 * 1024)}.${signature}`
    await expectCode(verifier.verify(padded), 'ERR_TOKEN_TOO_LONG')
  })

  it('rejects an over-long string of junk with ERR_TOKEN_TOO_LONG, not a decoding error (no work before the cap)', async () => {
    await expectCode(verifier.verify('!'.repeat(16 * 1024 + 1)), 'ERR_TOKEN_TOO_LONG')
  })

  it('lets a string of exactly 16 KiB through the cap (it then fails on structure, ERR_TOKEN_MALFORMED)', async () => {
    await expectCode(verifier.verify('!'.repeat(16 * 1024)), 'ERR_TOKEN_MALFORMED')
  })

  it('applies a custom maxTokenLength: one character over is ERR_TOKEN_TOO_LONG, exactly at it verifies', async () => {
    const tight = verifierFor([key], { algorithms: ['ES256'], maxTokenLength: token.length - 1 })
    await expectCode(tight.verify(token), 'ERR_TOKEN_TOO_LONG')
    const exact = verifierFor([key], { algorithms: ['ES256'], maxTokenLength: token.length })
    await expectAccepted(exact.verify(token))
  })

  it('applies a custom maxTokenLength above the default: a 20 KiB valid token verifies with a 32 KiB cap', async () => {
    const big = signToken(key, { filler: 'x'.repeat(15 * 1024) })
    await expectCode(verifier.verify(big), 'ERR_TOKEN_TOO_LONG')
    const roomy = verifierFor([key], { algorithms: ['ES256'], maxTokenLength: 32 * 1024 })
    await expectAccepted(roomy.verify(big))
  })
})

describe('token type', () => {
  const notStrings: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { token }],
    ['an array of segments', [header, payload, signature]],
    ['a Buffer of the token', Buffer.from(token)],
    ['a String object', new String(token)],
  ]
  for (const [label, value] of notStrings) {
    it(`rejects ${label} with ERR_TOKEN_TYPE`, async () => {
      await expectCode(verifier.verify(value as string), 'ERR_TOKEN_TYPE')
    })
  }
})
