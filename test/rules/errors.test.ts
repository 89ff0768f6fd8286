// Rule: every rejection is a JwksBridgeError with a stable `code`, and nothing it carries (message,
// reason, claim, stack, its JSON or string form) contains the token, any segment of it, or key
// material (style guide §4; hono's "token (${token}) expired" is the counter-example: error
// messages end up in logs, and a logged bearer token is a stolen session).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createVerifier,
  type ErrorCode,
  importPublicJwk,
  isJwksBridgeError,
  JwksBridgeError,
  type KeyRejectedEvent,
  type Verifier,
} from '../../src/index.ts'
import { b64u, fixedClock, ISSUER, makeKey, NOW_SECONDS, signText, signToken } from '../helpers/tokens.ts'
import { STABLE_CODES, segments, verifierFor, withSegment, withUnusedBitsSet } from './support.ts'

const ec = makeKey('ES256')
const rsa = makeKey('RS256')
const verifier = verifierFor([ec, rsa], {
  algorithms: ['ES256', 'RS256'],
  audience: 'api',
  maxTokenAgeSeconds: 3600,
})
const valid = signToken(ec, { aud: 'api' })
const [header, payload, signature] = segments(valid)
const HEADER = JSON.stringify({ alg: 'ES256', kid: ec.kid })
const CLAIMS = `"iss":"${ISSUER}","aud":"api","iat":${NOW_SECONDS},"exp":${NOW_SECONDS + 60}`

/** Every secret-ish string an error must never show: key material of every configured key. */
const KEY_MATERIAL = [ec.jwk.x, ec.jwk.y, rsa.jwk.n].map(String)
const privateEc = ec.privateKey.export({ format: 'jwk' }) as Record<string, string>
const privateRsa = rsa.privateKey.export({ format: 'jwk' }) as Record<string, string>
const PRIVATE_MATERIAL = [privateEc.d, privateRsa.d, privateRsa.p, privateRsa.q].map(String)

/** What of an error could reach a log. */
function exposedText(error: JwksBridgeError): string[] {
  return [
    error.message,
    error.reason ?? '',
    error.claim ?? '',
    error.stack ?? '',
    String(error),
    JSON.stringify(error),
    JSON.stringify({ ...error }),
  ]
}

function assertNothingLeaks(error: JwksBridgeError, token: string, label: string): void {
  const secrets = [token, ...token.split('.'), ...KEY_MATERIAL, ...PRIVATE_MATERIAL].filter(
    // Short strings ("", "e30") could occur in any English sentence; every real segment is longer.
    (secret) => secret.length >= 8,
  )
  for (const text of exposedText(error)) {
    for (const secret of secrets) {
      // Report which case leaked, never the secret itself.
      assert.ok(!text.includes(secret), `${label}: the error exposes part of the token or key`)
    }
  }
}

type Case = [label: string, token: unknown, code: ErrorCode, verifier?: Verifier]

const cases: Case[] = [
  ['non-string token', 42, 'ERR_TOKEN_TYPE'],
  ['over-long token', `${valid}${'A'.repeat(17_000)}`, 'ERR_TOKEN_TOO_LONG'],
  ['two segments', `${header}.${payload}`, 'ERR_TOKEN_MALFORMED'],
  ['five segments', `${valid}.${payload}.${signature}`, 'ERR_TOKEN_MALFORMED'],
  ['padding', `${valid}==`, 'ERR_BASE64URL_INVALID'],
  [
    'whitespace',
    `${header}.${payload}.${signature.slice(0, 40)} ${signature.slice(40)}`,
    'ERR_BASE64URL_INVALID',
  ],
  ['unused bits', withSegment(valid, 2, withUnusedBitsSet(signature)), 'ERR_BASE64URL_INVALID'],
  [
    'invalid UTF-8',
    signText(ec, HEADER, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    'ERR_UTF8_INVALID',
  ],
  ['BOM', signText(ec, `\ufeff${HEADER}`, `{${CLAIMS}}`), 'ERR_UTF8_INVALID'],
  ['array claims', signText(ec, HEADER, `[{${CLAIMS}}]`), 'ERR_JSON_INVALID'],
  ['duplicate exp', signText(ec, HEADER, `{${CLAIMS},"exp":1}`), 'ERR_JSON_DUPLICATE_MEMBER'],
  ['alg none', signText(ec, JSON.stringify({ alg: 'none' }), `{${CLAIMS}}`), 'ERR_ALG_NOT_ALLOWED'],
  ['alg HS256', signText(ec, JSON.stringify({ alg: 'HS256' }), `{${CLAIMS}}`), 'ERR_ALG_NOT_ALLOWED'],
  ['numeric kid', signToken(ec, { aud: 'api' }, { kid: 7 }), 'ERR_HEADER_INVALID'],
  ['b64', signToken(ec, { aud: 'api' }, { b64: false, crit: ['b64'] }), 'ERR_HEADER_INVALID'],
  ['empty crit', signToken(ec, { aud: 'api' }, { crit: [] }), 'ERR_CRIT_INVALID'],
  ['unknown crit', signToken(ec, { aud: 'api' }, { crit: ['ext'], ext: 1 }), 'ERR_CRIT_UNSUPPORTED'],
  ['unknown kid', signToken(ec, { aud: 'api' }, { kid: 'nope' }), 'ERR_KEY_NOT_FOUND'],
  [
    'ambiguous',
    signToken(ec, { aud: 'api' }, { kid: undefined }),
    'ERR_KEY_AMBIGUOUS',
    verifierFor([ec, makeKey('ES256', 'second')], { algorithms: ['ES256'] }),
  ],
  [
    'wrong key type',
    signText(ec, JSON.stringify({ alg: 'RS256', kid: ec.kid }), `{${CLAIMS}}`),
    'ERR_KEY_UNUSABLE',
  ],
  ['bad signature', withSegment(valid, 1, b64u(`{${CLAIMS},"sub":"admin"}`)), 'ERR_SIGNATURE_INVALID'],
  ['expired', signToken(ec, { aud: 'api', exp: NOW_SECONDS - 1 }), 'ERR_JWT_EXPIRED'],
  ['not yet valid', signToken(ec, { aud: 'api', nbf: NOW_SECONDS + 60 }), 'ERR_JWT_NOT_YET_VALID'],
  ['issued in the future', signToken(ec, { aud: 'api', iat: NOW_SECONDS + 60 }), 'ERR_JWT_ISSUED_IN_FUTURE'],
  ['too old', signToken(ec, { aud: 'api', iat: NOW_SECONDS - 7200 }), 'ERR_JWT_TOO_OLD'],
  [
    'infinite exp',
    signText(ec, HEADER, `{"iss":"${ISSUER}","aud":"api","iat":${NOW_SECONDS},"exp":1e400}`),
    'ERR_CLAIMS_INVALID',
  ],
  ['missing exp', signToken(ec, { aud: 'api', exp: undefined }), 'ERR_CLAIM_MISSING'],
  ['wrong issuer', signToken(ec, { aud: 'api', iss: 'https://evil.example' }), 'ERR_ISSUER_MISMATCH'],
  ['wrong audience', signToken(ec, { aud: 'evil' }), 'ERR_AUDIENCE_MISMATCH'],
  [
    'wrong typ',
    signToken(ec, { aud: 'api' }),
    'ERR_TYP_MISMATCH',
    verifierFor([ec], { algorithms: ['ES256'], typ: 'at+jwt' }),
  ],
  [
    'unknown issuer',
    signToken(ec, { iss: 'https://c.example' }),
    'ERR_ISSUER_UNKNOWN',
    createVerifier({
      algorithms: ['ES256'],
      nowMs: fixedClock(),
      issuers: [
        { issuer: 'https://a.example', jwks: { keys: [ec.jwk] } },
        { issuer: 'https://b.example', jwks: { keys: [ec.jwk] } },
      ],
    }),
  ],
]

describe('every rejection is a JwksBridgeError with a stable code, and never exposes the token or a key', () => {
  for (const [label, token, code, custom] of cases) {
    it(`${label}: ${code}, with nothing of the token or the keys in message, reason, claim or stack`, async () => {
      let caught: unknown
      try {
        await (custom ?? verifier).verify(token as string)
      } catch (error) {
        caught = error
      }
      assert.ok(caught instanceof JwksBridgeError, `${label}: not a JwksBridgeError`)
      assert.ok(caught instanceof Error)
      assert.equal(caught.name, 'JwksBridgeError')
      assert.equal(caught.code, code)
      assert.ok(STABLE_CODES.includes(caught.code))
      assert.ok(isJwksBridgeError(caught, code))
      assert.ok(caught.message.length > 0)
      if (typeof token === 'string') assertNothingLeaks(caught, token, label)
    })
  }

  it('covers a broad share of the stable codes (this list grows with the rules)', () => {
    assert.ok(new Set(cases.map(([, , code]) => code)).size >= 25)
  })
})

describe('key errors never expose key material', () => {
  const rejected: [string, Record<string, unknown>][] = [
    ['RSA private key', privateRsa],
    ['EC private key', privateEc],
    ['RSA key with e=1', { kty: 'RSA', n: rsa.jwk.n, e: 'AQ' }],
    ['EC point off the curve', { ...ec.jwk, y: b64u(Buffer.alloc(32, 1)) }],
    ['oct key', { kty: 'oct', k: privateEc.d }],
  ]

  for (const [label, jwk] of rejected) {
    it(`importPublicJwk(${label}) throws ERR_KEY_INVALID whose text holds no key material`, () => {
      let caught: unknown
      try {
        importPublicJwk(jwk)
      } catch (error) {
        caught = error
      }
      assert.ok(isJwksBridgeError(caught, 'ERR_KEY_INVALID'), label)
      assertNothingLeaks(caught, '', label)
    })
  }

  it('onKeyRejected events and the ERR_INVALID_OPTIONS of an unusable set hold no key material', () => {
    const events: KeyRejectedEvent[] = []
    let caught: unknown
    try {
      createVerifier({
        issuer: ISSUER,
        jwks: { keys: rejected.map(([, jwk]) => jwk) },
        onKeyRejected: (event) => events.push(event),
      })
    } catch (error) {
      caught = error
    }
    assert.ok(isJwksBridgeError(caught, 'ERR_INVALID_OPTIONS'))
    assertNothingLeaks(caught, '', 'options')
    assert.equal(events.length, rejected.length)
    const text = JSON.stringify(events)
    for (const secret of [...KEY_MATERIAL, ...PRIVATE_MATERIAL]) {
      assert.ok(!text.includes(secret), 'an onKeyRejected event exposes key material')
    }
  })
})
