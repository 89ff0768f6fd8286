// Rules for the decoded header and claims set: strict UTF-8 with no BOM (RFC 8725 §3.7, RFC 8259
// §8.1), a JSON object at the top (RFC 7519 §7.2 steps 3 and 10; fast-jwt CVE-2026-107723, and
// jsonwebtoken 9.0.3 accepts a signed array), and no duplicate member names at any depth (RFC 7515
// §4, RFC 7519 §4: JSON.parse keeps the last, other parsers the first, so a gateway and this
// verifier could read two different tokens; security catalogue D4).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_JSON_DEPTH, parseJsonObject } from '../../src/jose/json.ts'
import { ISSUER, makeKey, NOW_SECONDS, signText } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, expectThrowsCode, verifierFor } from './support.ts'

const key = makeKey('ES256')
const verifier = verifierFor([key], { algorithms: ['ES256'] })
const HEADER = JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: key.kid })
// Claims as JSON text, so that tests can splice raw members in.
const CLAIMS = `"iss":${JSON.stringify(ISSUER)},"sub":"user-1","iat":${NOW_SECONDS - 10},"exp":${NOW_SECONDS + 600}`

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))

describe('header and claims set are JSON objects (RFC 7519 §7.2)', () => {
  it('accepts the baseline token built from raw JSON text', async () => {
    await expectAccepted(verifier.verify(signText(key, HEADER, `{${CLAIMS}}`)))
  })

  for (const [label, text] of [
    ['an array (jsonwebtoken 9.0.3 accepted [1,2]; fast-jwt CVE-2026-107723)', '[1,2]'],
    ['an array holding the claims object', `[{${CLAIMS}}]`],
    ['a string', '"user-1"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ] as const) {
    it(`rejects a validly signed claims set that is ${label} with ERR_JSON_INVALID`, async () => {
      await expectCode(verifier.verify(signText(key, HEADER, text)), 'ERR_JSON_INVALID')
    })
  }

  it('rejects a header that is an array with ERR_JSON_INVALID', async () => {
    await expectCode(verifier.verify(signText(key, `[${HEADER}]`, `{${CLAIMS}}`)), 'ERR_JSON_INVALID')
  })

  for (const [label, text] of [
    ['a trailing comma', `{${CLAIMS},}`],
    ['a truncated object', `{${CLAIMS}`],
    ['single quotes', `{'sub':'x',${CLAIMS}}`],
    ['a comment', `{/* c */${CLAIMS}}`],
    ['two objects in a row', `{${CLAIMS}}{}`],
  ] as const) {
    it(`rejects claims that are not valid JSON (${label}) with ERR_JSON_INVALID`, async () => {
      await expectCode(verifier.verify(signText(key, HEADER, text)), 'ERR_JSON_INVALID')
    })
  }

  it('rejects a header that is not valid JSON with ERR_JSON_INVALID', async () => {
    await expectCode(verifier.verify(signText(key, HEADER.slice(0, -1), `{${CLAIMS}}`)), 'ERR_JSON_INVALID')
  })
})

describe('strict UTF-8, no byte order mark (RFC 8725 §3.7, RFC 8259 §8.1)', () => {
  for (const [label, raw] of [
    ['a stray 0xFF byte', [0xff]],
    ['an overlong encoding of "/" (0xC0 0xAF)', [0xc0, 0xaf]],
    ['an encoded lone surrogate (0xED 0xA0 0x80)', [0xed, 0xa0, 0x80]],
    ['a truncated sequence (0xE2 0x82)', [0xe2, 0x82]],
  ] as const) {
    it(`rejects claims with invalid UTF-8 (${label}) inside a string with ERR_UTF8_INVALID`, async () => {
      const payload = bytes(`{${CLAIMS},"name":"`, [...raw], '"}')
      await expectCode(verifier.verify(signText(key, HEADER, payload)), 'ERR_UTF8_INVALID')
    })
  }

  it('rejects a header with invalid UTF-8 with ERR_UTF8_INVALID', async () => {
    const header = bytes(HEADER.slice(0, -1), ',"x":"', [0xff], '"}')
    await expectCode(verifier.verify(signText(key, header, `{${CLAIMS}}`)), 'ERR_UTF8_INVALID')
  })

  it('rejects a BOM before the claims set with ERR_UTF8_INVALID (jsonwebtoken and fast-jwt accept it)', async () => {
    await expectCode(verifier.verify(signText(key, HEADER, `\ufeff{${CLAIMS}}`)), 'ERR_UTF8_INVALID')
  })

  it('rejects a BOM before the header with ERR_UTF8_INVALID (jose 6.2.18 accepts it)', async () => {
    await expectCode(verifier.verify(signText(key, `\ufeff${HEADER}`, `{${CLAIMS}}`)), 'ERR_UTF8_INVALID')
  })

  it('accepts valid non-ASCII UTF-8 in a claim value', async () => {
    const { payload } = await verifier.verify(signText(key, HEADER, `{${CLAIMS},"name":"Zoë 👋"}`))
    assert.equal(payload.name, 'Zoë 👋')
  })
})

describe('duplicate member names are refused (RFC 7515 §4, RFC 7519 §4)', () => {
  it('rejects "alg" twice in the header with ERR_JSON_DUPLICATE_MEMBER', async () => {
    const header = `{"alg":"HS256","typ":"JWT","kid":"${key.kid}","alg":"ES256"}`
    await expectCode(verifier.verify(signText(key, header, `{${CLAIMS}}`)), 'ERR_JSON_DUPLICATE_MEMBER')
  })

  it('rejects "exp" twice in the claims set with ERR_JSON_DUPLICATE_MEMBER (last-wins would extend it)', async () => {
    const payload = `{"exp":${NOW_SECONDS - 1},${CLAIMS}}`
    await expectCode(verifier.verify(signText(key, HEADER, payload)), 'ERR_JSON_DUPLICATE_MEMBER')
  })

  it('rejects a duplicate inside a nested object with ERR_JSON_DUPLICATE_MEMBER', async () => {
    const payload = `{${CLAIMS},"profile":{"role":"user","role":"admin"}}`
    await expectCode(verifier.verify(signText(key, HEADER, payload)), 'ERR_JSON_DUPLICATE_MEMBER')
  })

  it('rejects a duplicate inside an object inside an array with ERR_JSON_DUPLICATE_MEMBER', async () => {
    const payload = `{${CLAIMS},"groups":[{"id":1},{"id":2,"id":3}]}`
    await expectCode(verifier.verify(signText(key, HEADER, payload)), 'ERR_JSON_DUPLICATE_MEMBER')
  })

  it('rejects "a" and "\\u0061" in one object (equal once unescaped) with ERR_JSON_DUPLICATE_MEMBER', async () => {
    const payload = `{${CLAIMS},"a":1,"\\u0061":2}`
    await expectCode(verifier.verify(signText(key, HEADER, payload)), 'ERR_JSON_DUPLICATE_MEMBER')
  })

  it('rejects "sub" spelled with an escape as a second "sub" with ERR_JSON_DUPLICATE_MEMBER', async () => {
    const payload = `{${CLAIMS},"\\u0073ub":"admin"}`
    await expectCode(verifier.verify(signText(key, HEADER, payload)), 'ERR_JSON_DUPLICATE_MEMBER')
  })

  it('accepts the same name in different objects, and names hidden inside string values', async () => {
    const payload = `{${CLAIMS},"a":{"x":1},"b":{"x":2},"c":"\\"a\\":1,{\\"b\\":","d":["a","a"],"e\\\\":1,"e":2}`
    const { payload: claims } = await verifier.verify(signText(key, HEADER, payload))
    assert.equal(claims.c, '"a":1,{"b":')
    assert.equal(claims['e\\'], 1)
  })
})

describe('nesting depth is bounded (MAX_JSON_DEPTH)', () => {
  it(`rejects claims nested deeper than ${MAX_JSON_DEPTH} levels with ERR_JSON_INVALID`, async () => {
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`
    await expectCode(verifier.verify(signText(key, HEADER, `{${CLAIMS},"deep":${deep}}`)), 'ERR_JSON_INVALID')
  })

  it(`parseJsonObject accepts exactly ${MAX_JSON_DEPTH} levels and rejects ${MAX_JSON_DEPTH + 1}`, () => {
    const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`
    assert.equal(typeof parseJsonObject(Buffer.from(nested(MAX_JSON_DEPTH)), 'claims set'), 'object')
    expectThrowsCode(
      () => parseJsonObject(Buffer.from(nested(MAX_JSON_DEPTH + 1)), 'claims set'),
      'ERR_JSON_INVALID',
    )
  })
})

describe('parseJsonObject (pure function)', () => {
  it('returns the object for strict JSON object text', () => {
    assert.deepEqual(parseJsonObject(Buffer.from('{"a":[1,{"b":null}]}'), 'x'), { a: [1, { b: null }] })
  })

  it('names the part in `reason` and never echoes the input', () => {
    const error = expectThrowsCode(
      () => parseJsonObject(Buffer.from('{"secret-value":1,'), 'claims set'),
      'ERR_JSON_INVALID',
    )
    assert.equal(error.reason, 'claims set')
    assert.ok(!error.message.includes('secret-value'))
  })

  it('keeps a "__proto__" member as plain data (no prototype change)', () => {
    const parsed = parseJsonObject(Buffer.from('{"__proto__":{"admin":true}}'), 'x')
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype)
    assert.equal((parsed as Record<string, unknown>).admin, undefined)
  })
})
