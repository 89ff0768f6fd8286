import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { JwksBridgeError } from '../../src/errors.ts'
import {
  type RequestHeaders,
  readCredentials,
  refuseOtherTokenMethods,
  searchOf,
} from '../../src/resource-server/authorization-header.ts'

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
      assert.match(error.message, /2 Authorization headers/)
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

// The rule-by-rule reading, as it was before the one-pass pattern: the oracle for the one below.
function ruleByRule(value: string): { scheme: string; token: string } | string {
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s.exec(value)
  if (match === null) return 'ERR_REQUEST_INVALID'
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
