// Rule: each segment is the canonical base64url spelling of its bytes (RFC 7515 §2 and §5.2 step 2:
// no padding, no whitespace, no other characters; RFC 4648 §3.5: unused bits are zero). Otherwise one
// signed token has many spellings, and a revocation or replay list keyed on the token string is
// bypassed (PyJWT GHSA-hxm8-2xgr-2p9m; Wycheproof base64 group tcIds 357-377; security catalogue D1:
// jose, jsonwebtoken and fast-jwt all accept a signature re-spelled with non-zero unused bits).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { decodeBase64url, isCanonicalBase64url } from '../../src/jose/base64url.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import {
  expectAccepted,
  expectCode,
  expectThrowsCode,
  segments,
  verifierFor,
  withSegment,
  withUnusedBitsSet,
} from './support.ts'

const key = makeKey('ES256')
const verifier = verifierFor([key], { algorithms: ['ES256'] })

/** A valid token whose segment `index` has unused bits (its length is not a multiple of 4). */
function tokenWithUnusedBitsIn(index: 0 | 1 | 2): string {
  for (let filler = 0; filler < 4; filler++) {
    const pad = 'x'.repeat(filler)
    const candidate = index === 0 ? signToken(key, {}, { x: pad }) : signToken(key, { x: pad })
    if (segments(candidate)[index].length % 4 !== 0) return candidate
  }
  throw new Error('no filler gave unused bits')
}

describe('base64url alphabet and spelling, through createVerifier (RFC 7515 §2)', () => {
  const token = signToken(key)
  const [, , signature] = segments(token)

  it('ES256 signatures of 64 bytes take 86 characters: the last carries 4 unused bits (fixture check)', () => {
    assert.equal(signature.length, 86)
  })

  for (const [index, part] of [
    [0, 'header'],
    [1, 'payload'],
    [2, 'signature'],
  ] as const) {
    it(`rejects a ${part} re-spelled with non-zero unused bits (same bytes, other string) with ERR_BASE64URL_INVALID`, async () => {
      const valid = tokenWithUnusedBitsIn(index)
      await expectAccepted(verifier.verify(valid))
      const original = segments(valid)[index]
      const respelled = withUnusedBitsSet(original)
      // The premise of the attack: a lenient decoder reads the very same bytes.
      assert.notEqual(respelled, original)
      assert.ok(Buffer.from(respelled, 'base64url').equals(Buffer.from(original, 'base64url')))
      const error = await expectCode(
        verifier.verify(withSegment(valid, index, respelled)),
        'ERR_BASE64URL_INVALID',
      )
      assert.equal(error.reason, part)
    })
  }

  it('rejects "=" padding on the signature with ERR_BASE64URL_INVALID (jose 6.2.18 accepted it)', async () => {
    await expectCode(verifier.verify(`${token}==`), 'ERR_BASE64URL_INVALID')
  })

  it('rejects "=" padding on the header with ERR_BASE64URL_INVALID', async () => {
    const valid = tokenWithUnusedBitsIn(0)
    const header = segments(valid)[0]
    const padded = header + '='.repeat(4 - (header.length % 4))
    await expectCode(verifier.verify(withSegment(valid, 0, padded)), 'ERR_BASE64URL_INVALID')
  })

  for (const [label, mutate] of [
    ['a space inside the signature', (s: string) => `${s.slice(0, 10)} ${s.slice(10)}`],
    ['a trailing newline', (s: string) => `${s}\n`],
    ['a trailing CRLF', (s: string) => `${s}\r\n`],
    ['a tab inside the signature', (s: string) => `${s.slice(0, 10)}\t${s.slice(10)}`],
  ] as const) {
    it(`rejects whitespace (${label}) with ERR_BASE64URL_INVALID (RFC 7515 §5.2: no whitespace)`, async () => {
      await expectCode(verifier.verify(withSegment(token, 2, mutate(signature))), 'ERR_BASE64URL_INVALID')
    })
  }

  it('rejects leading whitespace before the header with ERR_BASE64URL_INVALID', async () => {
    await expectCode(verifier.verify(` ${token}`), 'ERR_BASE64URL_INVALID')
  })

  for (const [label, given, hint] of [
    ['its "Bearer " prefix', `Bearer ${token}`, /starts with "Bearer ": pass the token alone/],
    ['a lower-case "bearer " prefix', `bearer ${token}`, /starts with "Bearer "/],
    ['a trailing newline', `${token}\n`, /leading or trailing whitespace.*trim it/],
    ['a leading space', ` ${token}`, /leading or trailing whitespace.*trim it/],
  ] as const) {
    it(`issue #13: a token with ${label} keeps its code and gets a hint saying what to fix, without echoing the token`, async () => {
      const error = await expectCode(verifier.verify(given), 'ERR_BASE64URL_INVALID')
      assert.match(error.message, hint)
      for (const part of segments(token)) assert.equal(error.message.includes(part), false)
    })
  }

  it('issue #13: a token with no handling mistake gets no hint', async () => {
    const error = await expectCode(
      verifier.verify(withSegment(token, 2, `${signature.slice(0, 20)}+${signature.slice(21)}`)),
      'ERR_BASE64URL_INVALID',
    )
    assert.equal(error.message, 'the signature segment is not canonical base64url')
  })

  for (const char of ['+', '/', '!', '~', '\u00e9', '\u0000', '%']) {
    it(`rejects the character ${JSON.stringify(char)} outside the base64url alphabet with ERR_BASE64URL_INVALID`, async () => {
      const mutated = `${signature.slice(0, 20)}${char}${signature.slice(21)}`
      await expectCode(verifier.verify(withSegment(token, 2, mutated)), 'ERR_BASE64URL_INVALID')
    })
  }

  it('rejects appended junk such as "!!!!" (PyJWT GHSA-hxm8-2xgr-2p9m revocation bypass) with ERR_BASE64URL_INVALID', async () => {
    await expectCode(verifier.verify(`${token}!!!!`), 'ERR_BASE64URL_INVALID')
  })

  it('rejects a segment whose length is 1 mod 4 (no byte string has that spelling) with ERR_BASE64URL_INVALID', async () => {
    await expectCode(verifier.verify(withSegment(token, 2, signature.slice(0, -1))), 'ERR_BASE64URL_INVALID')
  })
})

describe('isCanonicalBase64url and decodeBase64url (pure functions)', () => {
  const cases: [string, boolean, string][] = [
    ['', true, 'the empty string is the spelling of zero bytes'],
    ['YQ', true, 'one byte, unused bits zero'],
    ['YR', false, 'one byte, unused bits non-zero'],
    ['YWI', true, 'two bytes, unused bits zero'],
    ['YWJ', false, 'two bytes, unused bits non-zero'],
    ['YWJj', true, 'three bytes, no unused bits'],
    ['YQ==', false, 'padding'],
    ['YQ=', false, 'partial padding'],
    ['Y', false, 'length 1 mod 4'],
    ['YW Jj', false, 'whitespace'],
    ['YWJj\n', false, 'trailing newline'],
    ['+/8', false, 'standard base64 alphabet'],
    ['-_8', true, 'URL-safe alphabet'],
  ]
  for (const [input, expected, why] of cases) {
    it(`${JSON.stringify(input)} is ${expected ? '' : 'not '}canonical (${why})`, () => {
      assert.equal(isCanonicalBase64url(input), expected)
    })
  }

  it('checks a range of a larger string without copying the rules (start/end arguments)', () => {
    assert.equal(isCanonicalBase64url('..YQ..', 2, 4), true)
    assert.equal(isCanonicalBase64url('..YR..', 2, 4), false)
  })

  it('for every length 0-64 and random bytes, only the canonical spelling of the last character is accepted', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    for (let length = 0; length <= 64; length++) {
      const bytes = randomBytes(length)
      const canonical = bytes.toString('base64url')
      assert.equal(isCanonicalBase64url(canonical), true)
      if (canonical.length === 0) continue
      const head = canonical.slice(0, -1)
      let accepted = 0
      for (const char of alphabet) {
        const spelling = head + char
        if (isCanonicalBase64url(spelling)) accepted++
        // Another spelling of the very same bytes is never canonical.
        if (spelling !== canonical && Buffer.from(spelling, 'base64url').equals(bytes)) {
          assert.equal(isCanonicalBase64url(spelling), false)
        }
      }
      // Endings with zero unused bits: all 64 characters, 16 (2 unused bits) or 4 (4 unused bits).
      assert.equal(accepted, length % 3 === 0 ? 64 : length % 3 === 1 ? 4 : 16)
    }
  })

  it('decodeBase64url decodes canonical input and throws ERR_BASE64URL_INVALID naming the part otherwise', () => {
    assert.deepEqual([...decodeBase64url('YWI', 'x')], [0x61, 0x62])
    const error = expectThrowsCode(() => decodeBase64url('YWJ', 'the signature'), 'ERR_BASE64URL_INVALID')
    assert.equal(error.reason, 'the signature')
  })
})
