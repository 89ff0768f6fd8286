// Identity values as header values (src/bridge/header-value.ts): pure, no I/O.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { claimHeaderValue, encodeHeaderValue, MAX_CLAIM_HEADER_BYTES } from '../../src/bridge/header-value.ts'

/** RFC 9110 §5.5 field-value as every proxy accepts it: visible ASCII and inner spaces, nothing else. */
const SAFE_FIELD_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/

describe('identity header values', () => {
  it('plain values (ids, issuer URLs, email addresses, names with inner spaces) pass unchanged', () => {
    for (const value of [
      'user-123',
      'https://auth.example.com/',
      'ada+news@example.com',
      'Ada Lovelace',
      '{"a":1}',
      '',
    ]) {
      assert.equal(encodeHeaderValue(value), value)
    }
  })

  it('RFC 9110 §5.5 / response splitting: CR, LF and other control characters are percent-encoded, never sent raw', () => {
    const forged = 'Ada\r\nX-Auth-Subject: root'
    const encoded = encodeHeaderValue(forged)
    assert.equal(encoded, 'Ada%0D%0AX-Auth-Subject: root')
    assert.match(encoded, SAFE_FIELD_VALUE)
    assert.equal(encodeHeaderValue('a\u0000b\tc\u007f'), 'a%00b%09c%7F')
  })

  it('non-ASCII text is percent-encoded UTF-8; "%" itself too, so that decoding is exact', () => {
    assert.equal(encodeHeaderValue('José'), 'Jos%C3%A9')
    assert.equal(encodeHeaderValue('100%'), '100%25')
    assert.equal(decodeURIComponent(encodeHeaderValue('100% José')), '100% José')
  })

  it('leading and trailing spaces are encoded (a proxy would strip them as optional whitespace)', () => {
    assert.equal(encodeHeaderValue(' admin '), '%20admin%20')
  })

  it('property: any string becomes a safe field value that a percent-decoder turns back into it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        const encoded = encodeHeaderValue(text)
        assert.match(encoded, SAFE_FIELD_VALUE)
        // Plain values pass unchanged, so decoding applies only to what was encoded.
        assert.equal(encoded === text ? text : decodeURIComponent(encoded), text)
      }),
      { numRuns: 500 },
    )
  })

  it('claims: strings as they are, numbers and booleans as text, arrays and objects as JSON; null sends nothing', () => {
    assert.equal(claimHeaderValue('ada@example.com'), 'ada@example.com')
    assert.equal(claimHeaderValue(true), 'true')
    assert.equal(claimHeaderValue(42), '42')
    assert.equal(claimHeaderValue(['admin', 'ops']), '["admin","ops"]')
    assert.equal(claimHeaderValue({ a: 'b c' }), '{"a":"b c"}')
    assert.equal(claimHeaderValue(null), undefined)
    assert.equal(claimHeaderValue(undefined), undefined)
  })

  it(`a claim longer than ${MAX_CLAIM_HEADER_BYTES} bytes once encoded is left out, not cut`, () => {
    assert.equal(claimHeaderValue('a'.repeat(MAX_CLAIM_HEADER_BYTES))?.length, MAX_CLAIM_HEADER_BYTES)
    assert.equal(claimHeaderValue('a'.repeat(MAX_CLAIM_HEADER_BYTES + 1)), undefined)
    // 'é' is two UTF-8 bytes, six characters encoded.
    assert.equal(claimHeaderValue('é'.repeat(200)), undefined)
  })
})
