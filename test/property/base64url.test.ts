// Properties of the canonical base64url rule, against an independent oracle: a string is
// canonical exactly when decoding it (leniently, with Buffer) and encoding the bytes again gives
// the same string back (RFC 4648 §3.5: one spelling per byte string, no padding in base64url).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isJwksBridgeError } from '../../src/errors.ts'
import { decodeBase64url, isCanonicalBase64url } from '../../src/jose/base64url.ts'
import { splitCompact } from '../../src/jose/compact.ts'
import { params } from './params.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const roundTrips = (s: string): boolean => Buffer.from(s, 'base64url').toString('base64url') === s

/** Strings that look like base64url: mostly alphabet, some padding, whitespace, base64 and junk. */
const almostBase64url = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 40 }),
  fc.string({
    unit: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...ALPHABET) },
      { weight: 1, arbitrary: fc.constantFrom('=', ' ', '\n', '+', '/', '.', '\u00e9', '\u0000') },
    ),
    maxLength: 40,
  }),
  // Canonical encodings of random bytes, then with the last character replaced (unused bits).
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.constantFrom(...ALPHABET))
    .map(([bytes, last]) => Buffer.from(bytes).toString('base64url').slice(0, -1) + last),
  fc.string({ unit: 'binary', maxLength: 20 }),
)

describe('property: canonical base64url', () => {
  it('isCanonicalBase64url agrees with "decode then re-encode equals input"', () => {
    const seen = new Set<boolean>()
    fc.assert(
      fc.property(almostBase64url, (s) => {
        assert.equal(isCanonicalBase64url(s), roundTrips(s))
        seen.add(roundTrips(s))
      }),
      params(3000),
    )
    assert.equal(seen.size, 2, 'both canonical and non-canonical strings were generated')
  })

  it('the range form agrees with the same check on the slice', () => {
    fc.assert(
      fc.property(almostBase64url, fc.nat(), fc.nat(), (s, a, b) => {
        const start = a % (s.length + 1)
        const end = start + (b % (s.length - start + 1))
        assert.equal(isCanonicalBase64url(s, start, end), isCanonicalBase64url(s.slice(start, end)))
      }),
      params(2000),
    )
  })

  it('decodeBase64url throws exactly on non-canonical input, and returns bytes that re-encode to it', () => {
    fc.assert(
      fc.property(almostBase64url, (s) => {
        let decoded: Buffer | undefined
        try {
          decoded = decodeBase64url(s, 'test')
        } catch (error) {
          assert.ok(isJwksBridgeError(error, 'ERR_BASE64URL_INVALID'))
        }
        assert.equal(decoded !== undefined, roundTrips(s))
        if (decoded !== undefined) assert.equal(decoded.toString('base64url'), s)
      }),
      params(2000),
    )
  })

  it('splitCompact (fast and slow paths) accepts exactly three non-empty canonical segments', () => {
    const seen = new Set<boolean>()
    fc.assert(
      fc.property(fc.array(almostBase64url, { minLength: 1, maxLength: 4 }), (segments) => {
        const token = segments.join('.')
        let accepted = true
        try {
          splitCompact(token, 16 * 1024)
        } catch (error) {
          assert.ok(isJwksBridgeError(error))
          accepted = false
        }
        // A segment holding a dot changes the count, so judge the segments the token really has.
        const real = token.split('.')
        const expected = real.length === 3 && real.every((x) => x.length > 0 && roundTrips(x))
        assert.equal(accepted, expected)
        seen.add(accepted)
      }),
      params(3000),
    )
    assert.equal(seen.size, 2, 'both well-formed and malformed tokens were generated')
  })
})
