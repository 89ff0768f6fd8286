import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { JwksBridgeError } from '../../src/errors.ts'
import {
  holdsSeveralCredentials,
  type RequestHeaders,
  readCredentials,
  refuseOtherTokenMethods,
  searchOf,
} from '../../src/resource-server/authorization-header.ts'
import { params } from '../property/params.ts'

const LIMITS = { maxAuthorizationLength: 16_416, maxProofLength: 8192 }
const read = (headers: RequestHeaders) => readCredentials(headers, LIMITS)

function refusal(run: () => unknown): JwksBridgeError {
  try {
    run()
  } catch (error) {
    return error as JwksBridgeError
  }
  throw new Error('expected a refusal')
}

describe('Authorization and DPoP headers (plain data)', () => {
  it('RFC 6750 §2.1: "Bearer <token>" gives the token and the scheme', () => {
    assert.deepEqual(read({ authorization: 'Bearer abc.def.ghi' }), {
      scheme: 'Bearer',
      token: 'abc.def.ghi',
      proof: undefined,
    })
  })

  it('RFC 9110 §11.1: scheme names match case-insensitively (bearer, BEARER, dpop, DPOP)', () => {
    for (const [value, scheme] of [
      ['bearer t', 'Bearer'],
      ['BEARER t', 'Bearer'],
      ['bEaReR t', 'Bearer'],
      ['dpop t', 'DPoP'],
      ['DPOP t', 'DPoP'],
    ] as const) {
      assert.equal(read({ authorization: value }).scheme, scheme, value)
    }
  })

  it('RFC 9110 §11.4: one or more spaces after the scheme; header names in any case', () => {
    assert.equal(read({ authorization: 'Bearer    t0k3n' }).token, 't0k3n')
    assert.equal(read({ Authorization: 'Bearer t' }).token, 't')
    assert.equal(read({ authorization: ['Bearer t'] }).token, 't')
  })

  it('RFC 6750 §3.1: no Authorization header is ERR_TOKEN_MISSING (a challenge without error code)', () => {
    assert.equal(refusal(() => read({})).code, 'ERR_TOKEN_MISSING')
  })

  it('RFC 6750 §3.1: another scheme (Basic) is ERR_AUTH_SCHEME_UNSUPPORTED', () => {
    assert.equal(
      refusal(() => read({ authorization: 'Basic dXNlcjpwYXNz' })).code,
      'ERR_AUTH_SCHEME_UNSUPPORTED',
    )
  })

  it('RFC 6750 §3.1 invalid_request: two Authorization headers are refused (array or two spellings)', () => {
    for (const headers of [
      { authorization: ['Bearer a', 'Bearer b'] },
      { authorization: 'Bearer a', Authorization: 'Bearer b' },
    ]) {
      const error = refusal(() => read(headers))
      assert.equal(error.code, 'ERR_REQUEST_INVALID')
      assert.match(error.message, /more than one Authorization header/)
      assert.equal(error.claim, 'authorization')
    }
  })

  it('RFC 6750 §3.1 / RFC 9449 §7.1 invalid_request: two Authorization lines joined with ", " (RFC 9110 §5.3, as a Web Headers joins them) are refused as the two lines are, whatever the first scheme', () => {
    for (const [first, second] of [
      ['Basic dXNlcjpwYXNz', 'Bearer abc.def.ghi'],
      ['Bearer abc.def.ghi', 'Basic dXNlcjpwYXNz'],
      ['Digest username="a", realm="b"', 'DPoP abc.def.ghi'],
      ['Negotiate YIIB', 'Basic dXNlcjpwYXNz'],
      ['Basic dXNlcjpwYXNz', 'Basic b3RoZXI6cGFzcw=='],
      ['', 'Bearer abc.def.ghi'],
      ['Basic dXNlcjpwYXNz', 'Private'],
      // An empty line after a token: "Bearer t, " trimmed to "Bearer t,".
      ['Bearer abc.def.ghi', ''],
    ] as const) {
      const lines = refusal(() => read({ authorization: [first, second] }))
      const joined = refusal(() => read({ authorization: `${first}, ${second}` }))
      assert.equal(joined.code, 'ERR_REQUEST_INVALID', `${first}, ${second}`)
      assert.deepEqual(
        { message: joined.message, claim: joined.claim },
        { message: lines.message, claim: lines.claim },
        `${first}, ${second}`,
      )
    }
    // Joined without the space too (another proxy's way of folding).
    assert.equal(refusal(() => read({ authorization: 'Basic x,Bearer y' })).code, 'ERR_REQUEST_INVALID')
  })

  it('RFC 9110 §11.4 / RFC 7235 §2.1: one credential is never taken for several (a token68 has no comma; auth-params and quoted-strings may)', () => {
    for (const single of [
      'Bearer abc.def.ghi',
      'Basic dXNlcjpwYXNz',
      'Basic dXNlcjpwYXNz==',
      'Digest username="a", realm="b", nonce="c"',
      'Digest username = "a" , realm=b',
      'Digest username="a, Bearer b", realm="x"',
      'Digest username="a\\", Bearer b", realm="x"',
      'Digest username="a", , realm="b"',
      'Digest username="a",',
      'Other a="unterminated, Bearer b',
    ]) {
      assert.equal(holdsSeveralCredentials(single), false, single)
    }
    for (const several of [
      'Basic x, Bearer y',
      'Basic x,Bearer y',
      'Basic x ,\tBearer',
      'Digest a="1", b="2", Bearer y',
      'Digest a="1, 2", Bearer y',
      ', Bearer y',
      'Bearer a, b',
    ]) {
      assert.equal(holdsSeveralCredentials(several), true, several)
    }
    // A single credential of another scheme is still that scheme's refusal, not invalid_request.
    assert.equal(
      refusal(() => read({ authorization: 'Digest username="a", realm="b"' })).code,
      'ERR_AUTH_SCHEME_UNSUPPORTED',
    )
  })

  it('holdsSeveralCredentials reads a value of commas, quotes or backslashes in linear time', () => {
    for (const value of [
      `Basic ${','.repeat(200_000)}`,
      `Basic ${', '.repeat(100_000)}=`,
      `Digest a="${'\\'.repeat(100_000)}`,
      `Digest ${'a=, '.repeat(60_000)}`,
    ]) {
      const started = performance.now()
      for (let i = 0; i < 20; i++) holdsSeveralCredentials(value)
      assert.ok(performance.now() - started < 500, `linear: ${value.slice(0, 12)}`)
    }
  })

  it('RFC 6750 §3.1 invalid_request: a list of credentials in one header is refused', () => {
    for (const value of ['Bearer a, Bearer b', 'Bearer a,b', 'DPoP a, DPoP b']) {
      const error = refusal(() => read({ authorization: value }))
      assert.equal(error.code, 'ERR_REQUEST_INVALID', value)
      assert.match(error.message, /list/)
    }
  })

  it('RFC 6750 §2.1 b64token: a scheme without a token, or a token with other characters, is invalid_request', () => {
    for (const value of [
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer a"b',
      'Bearer =abc',
      'Bearer\tabc',
      ' ',
    ]) {
      assert.equal(
        refusal(() => read({ authorization: value })).code,
        'ERR_REQUEST_INVALID',
        JSON.stringify(value),
      )
    }
  })

  it('a huge Authorization header is refused before any parsing, without echoing it', () => {
    const huge = `Bearer ${'a'.repeat(1_000_000)}`
    const error = refusal(() => read({ authorization: huge }))
    assert.equal(error.code, 'ERR_REQUEST_INVALID')
    assert.match(error.message, /longer than 16416 characters/)
    assert.ok(error.message.length < 200)
  })

  it('RFC 9449 §4.3 check 1: more than one DPoP header, or a list in one, is invalid_request', () => {
    for (const dpop of [['a.b.c', 'd.e.f'], 'a.b.c, d.e.f', '']) {
      const error = refusal(() => read({ authorization: 'DPoP t', dpop }))
      assert.equal(error.code, 'ERR_REQUEST_INVALID', JSON.stringify(dpop))
      assert.equal(error.claim, 'dpop')
    }
    // Two lines, and the same two joined with ", " as a Web Headers joins them: one refusal, word for word.
    const lines = refusal(() => read({ authorization: 'DPoP t', dpop: ['a.b.c', 'd.e.f'] }))
    const joined = refusal(() => read({ authorization: 'DPoP t', dpop: 'a.b.c, d.e.f' }))
    assert.equal(joined.message, lines.message)
    assert.equal(
      refusal(() => read({ authorization: 'DPoP t', dpop: 'x'.repeat(9000) })).code,
      'ERR_REQUEST_INVALID',
    )
  })

  it('RFC 9449 §4.1: the DPoP header comes with the credentials', () => {
    assert.equal(read({ authorization: 'DPoP t', dpop: 'a.b.c' }).proof, 'a.b.c')
  })

  it('RFC 6750 §2 (one method per request) and §5.3: a token in the query or in a form body is refused', () => {
    for (const url of [
      'https://api.example.com/x?access_token=abc',
      'https://api.example.com/x?a=1&access%5Ftoken=abc#f',
    ]) {
      assert.equal(
        refusal(() => refuseOtherTokenMethods(searchOf(url), undefined)).code,
        'ERR_REQUEST_INVALID',
        url,
      )
    }
    const plain = searchOf('https://api.example.com/x?q=1')
    const error = refusal(() => refuseOtherTokenMethods(plain, { access_token: 'abc' }))
    assert.equal(error.code, 'ERR_REQUEST_INVALID')
    assert.equal(error.claim, 'access_token')
    assert.doesNotThrow(() => refuseOtherTokenMethods(plain, { other: 1 }))
    // A "?" inside the fragment is not a query.
    assert.equal(searchOf('https://api.example.com/x#a?access_token=1'), '')
    assert.equal(searchOf(new URL('https://api.example.com/x?b=2#c')), '?b=2')
  })
})

describe('Authorization header parsing cost', () => {
  it('a header of spaces with a character at the end is refused in linear time (no regex backtracking)', () => {
    for (const value of [
      `Bearer ${' '.repeat(16_000)}x`,
      `Bearer ${' '.repeat(16_000)}x y`,
      `Bearer ${'a'.repeat(16_000)}=a`,
      'B'.repeat(16_000),
    ]) {
      const started = performance.now()
      for (let i = 0; i < 50; i++) {
        try {
          read({ authorization: value })
        } catch {}
      }
      assert.ok(performance.now() - started < 500, `parsing must stay linear: ${value.slice(0, 12)}`)
    }
  })
})

// More than one credential, by patterns rather than a scan: auth-param values in quotes (unterminated
// ones too) blanked, then a comma followed by a token that no "=" follows.
function severalByPattern(value: string): boolean {
  const unquoted = value.replace(/=[ \t]*"(?:[^"\\]|\\[\s\S]?)*(?:"|$)/g, '=q')
  return /,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?![!#$%&'*+.^_`|~0-9A-Za-z-]|[ \t]*=)/.test(unquoted)
}

// The rule-by-rule reading, as it was before the one-pass pattern (and the several-credentials rule
// after it): the oracle for the one below.
function ruleByRule(value: string): { scheme: string; token: string } | string {
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s.exec(value)
  if (match === null) return 'ERR_REQUEST_INVALID'
  if (severalByPattern(value)) return 'ERR_REQUEST_INVALID'
  const lower = (match[1] as string).toLowerCase()
  const scheme = lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : undefined
  if (scheme === undefined) return 'ERR_AUTH_SCHEME_UNSUPPORTED'
  const token = match[2]
  if (token === undefined || token.length === 0 || token.includes(',')) return 'ERR_REQUEST_INVALID'
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return 'ERR_REQUEST_INVALID'
  return { scheme, token }
}

describe('Authorization header: the one-pass reading', () => {
  it('RFC 6750 §2.1 / RFC 9110 §11.4: it accepts and refuses exactly what the rule-by-rule reading does (differential)', () => {
    const parts = [
      'Bearer',
      'bearer',
      'DPoP',
      'dPoP',
      'Basic',
      'Bearer!',
      ' ',
      '  ',
      '\t',
      'abc',
      'A-._~+/9',
      '=',
      '==',
      ',',
      'é',
      '"',
      '\n',
      '.',
    ]
    let compared = 0
    // Every sequence of up to four parts (111,150 values), each read both ways.
    const walk = (prefix: string, depth: number) => {
      if (depth === 0) return
      for (const part of parts) {
        const value = prefix + part
        let actual: { scheme: string; token: string } | string
        try {
          const { scheme, token } = read({ authorization: value })
          actual = { scheme, token }
        } catch (error) {
          actual = (error as JwksBridgeError).code
        }
        const expected = ruleByRule(value.replace(/^[ \t]+|[ \t]+$/g, ''))
        assert.deepEqual(actual, expected, JSON.stringify(value))
        compared += 1
        walk(value, depth - 1)
      }
    }
    walk('', 4)
    assert.equal(compared, 18 + 18 ** 2 + 18 ** 3 + 18 ** 4)
  })
})

describe('property: more than one credential in one value', () => {
  it('RFC 9110 §11.6.2: holdsSeveralCredentials agrees with the pattern reading on strings of the characters that matter', () => {
    const unit = fc.constantFrom('a', 'B', ' ', '\t', ',', '=', '"', '\\', '/', '(', '\u00e9')
    const seen = new Set<boolean>()
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 24 }), (value) => {
        const expected = severalByPattern(value)
        assert.equal(holdsSeveralCredentials(value), expected)
        seen.add(expected)
      }),
      params(20_000),
    )
    assert.deepEqual([...seen].sort(), [false, true], 'both answers were exercised')
  })
})
