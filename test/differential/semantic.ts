// Re-signed mutations: tokens whose signature is genuine but whose header or claims set breaks
// (or bends) one rule. These are the tokens that tell a strict verifier from a lenient one.
import { ISSUER, NOW_SECONDS as NOW, type TestKey } from '../helpers/tokens.ts'
import {
  assemble,
  BOM,
  baseClaims,
  baseHeader,
  DROP,
  edit,
  jsonText,
  type Member,
  Raw,
  type Signing,
  withBytes,
} from './builder.ts'
import { type CorpusAlg, hmacSign, INHERITED_CRIT, type Keys, UNDERSTOOD_CRIT } from './keys.ts'
import type { Random } from './random.ts'

type Body = readonly Member[] | string | Uint8Array

export interface Ctx {
  rng: Random
  alg: CorpusAlg
  keys: Keys
  key: TestKey
  /** A fresh valid header, always with the signer's kid, with `changes` applied. */
  header(changes?: Record<string, unknown>): Member[]
  /** A fresh valid claims set with `changes` applied. */
  claims(changes?: Record<string, unknown>): Member[]
  /** Signs header and payload with the signer (or `signing`). */
  token(header: Body, payload: Body, signing?: Signing): string
}

export function makeCtx(rng: Random, alg: CorpusAlg, keys: Keys): Ctx {
  const key = keys.signer[alg]
  const body = (b: Body): string | Uint8Array =>
    typeof b === 'string' || b instanceof Uint8Array ? b : jsonText(b)
  return {
    rng,
    alg,
    keys,
    key,
    header: (changes = {}) => edit(edit(baseHeader(rng, alg, key.kid), { kid: key.kid }), changes),
    claims: (changes = {}) => edit(baseClaims(rng), changes),
    token: (header, payload, signing = { alg, key: key.privateKey }) =>
      assemble({ header: body(header), payload: body(payload), signing }),
  }
}

export interface SemanticCase {
  kind: string
  /** Both libraries must accept: a valid token written in an unusual but legal way. */
  expectValid?: boolean
  /** Returns undefined when the case does not apply to this algorithm. */
  make(c: Ctx): string | undefined
}

const pretty = (members: readonly Member[]): string => JSON.stringify(JSON.parse(jsonText(members)), null, 2)
const future = (c: Ctx): number => NOW + 10 + c.rng.int(100_000)

/** Another allowed algorithm whose signature the signer's private key can still produce. */
const OTHER_ALG: Record<CorpusAlg, 'RS256' | 'PS256' | 'ES256' | 'ES384' | undefined> = {
  RS256: 'PS256',
  PS256: 'RS256',
  ES256: 'ES384',
  ES384: 'ES256',
  EdDSA: undefined,
}

const valid: SemanticCase[] = [
  {
    kind: 'valid-pretty-json',
    expectValid: true,
    make: (c) => c.token(pretty(c.header()), pretty(c.claims())),
  },
  { kind: 'valid-kid-missing', expectValid: true, make: (c) => c.token(c.header({ kid: DROP }), c.claims()) },
  {
    kind: 'valid-exp-fraction',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ exp: NOW + 0.5 })),
  },
  {
    kind: 'valid-exp-huge-finite',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ exp: new Raw('1e300') })),
  },
  { kind: 'valid-nbf-now', expectValid: true, make: (c) => c.token(c.header(), c.claims({ nbf: NOW })) },
  { kind: 'valid-iat-now', expectValid: true, make: (c) => c.token(c.header(), c.claims({ iat: NOW })) },
  {
    kind: 'valid-aud-other-first',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ aud: ['evil', 'api'] })),
  },
  {
    kind: 'valid-aud-repeated',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ aud: ['api', 'api'] })),
  },
  {
    kind: 'valid-proto-claim',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims(JSON.parse('{"__proto__":{"admin":true}}'))),
  },
  {
    kind: 'valid-escaped-lone-surrogate',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ name: new Raw('"\\ud800x"') })),
  },
  {
    kind: 'valid-feff-inside-string',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ name: 'a\ufeffb' })),
  },
  {
    kind: 'valid-escaped-member-name',
    expectValid: true,
    make: (c) => c.token(c.header(), [...c.claims({ sub: DROP }), [new Raw('"\\u0073ub"'), 'user-2']]),
  },
  {
    kind: 'valid-crit-understood',
    expectValid: true,
    make: (c) => c.token(c.header({ crit: [UNDERSTOOD_CRIT], [UNDERSTOOD_CRIT]: 1 }), c.claims()),
  },
  {
    kind: 'valid-embedded-jwk-ignored',
    expectValid: true,
    make: (c) => c.token(c.header({ jwk: c.keys.attacker.jwk }), c.claims()),
  },
  {
    kind: 'valid-jku-x5u-ignored',
    expectValid: true,
    make: (c) =>
      c.token(c.header({ jku: 'https://evil.example/jwks', x5u: 'https://evil.example/c' }), c.claims()),
  },
  { kind: 'valid-cty-other', expectValid: true, make: (c) => c.token(c.header({ cty: 'json' }), c.claims()) },
  {
    kind: 'valid-nesting-under-limit',
    expectValid: true,
    make: (c) => c.token(c.header(), c.claims({ ctx: new Raw(`${'['.repeat(60)}${']'.repeat(60)}`) })),
  },
  {
    kind: 'valid-alg-ed25519-name',
    expectValid: true,
    make: (c) =>
      c.alg === 'EdDSA'
        ? c.token(c.header({ alg: 'Ed25519' }), c.claims(), { alg: 'Ed25519', key: c.key.privateKey })
        : undefined,
  },
]

const duplicates: SemanticCase[] = [
  { kind: 'dup-header-alg-same', make: (c) => c.token([['alg', c.alg], ...c.header()], c.claims()) },
  { kind: 'dup-header-alg-none-first', make: (c) => c.token([['alg', 'none'], ...c.header()], c.claims()) },
  { kind: 'dup-header-kid', make: (c) => c.token([['kid', 'unknown'], ...c.header()], c.claims()) },
  {
    kind: 'dup-header-escaped-alg',
    make: (c) => c.token([...c.header(), [new Raw('"\\u0061lg"'), c.alg]], c.claims()),
  },
  { kind: 'dup-claim-exp', make: (c) => c.token(c.header(), [['exp', 1], ...c.claims()]) },
  {
    kind: 'dup-claim-iss',
    make: (c) => c.token(c.header(), [['iss', 'https://evil.example'], ...c.claims()]),
  },
  { kind: 'dup-claim-sub', make: (c) => c.token(c.header(), [...c.claims(), ['sub', 'admin']]) },
  {
    kind: 'dup-claim-escaped-exp',
    make: (c) => c.token(c.header(), [...c.claims(), [new Raw('"\\u0065xp"'), NOW + 100]]),
  },
  {
    kind: 'dup-nested-member',
    make: (c) => c.token(c.header(), c.claims({ ctx: new Raw('{"a":1,"a":2}') })),
  },
  {
    kind: 'dup-deeply-nested-member',
    make: (c) => c.token(c.header(), c.claims({ ctx: new Raw('{"l":[{"x":1,"y":{"z":1,"z":1}}]}') })),
  },
]

const withPrefix = (prefix: readonly number[], text: string): Buffer =>
  Buffer.concat([Buffer.from(prefix), Buffer.from(text)])

const INVALID_UTF8: Record<string, number[]> = {
  ff: [0xff],
  overlong: [0xc0, 0xaf],
  surrogate: [0xed, 0xa0, 0x80],
  truncated: [0xe2, 0x82],
  'above-max': [0xf4, 0x90, 0x80, 0x80],
}

const encoding: SemanticCase[] = [
  { kind: 'bom-header', make: (c) => c.token(withPrefix(BOM, jsonText(c.header())), c.claims()) },
  { kind: 'bom-payload', make: (c) => c.token(c.header(), withPrefix(BOM, jsonText(c.claims()))) },
  {
    kind: 'bom-double-payload',
    make: (c) => c.token(c.header(), withPrefix([...BOM, ...BOM], jsonText(c.claims()))),
  },
  ...Object.entries(INVALID_UTF8).map(
    ([name, bytes]): SemanticCase => ({
      kind: `utf8-invalid-${name}-payload`,
      make: (c) => c.token(c.header(), withBytes(jsonText(c.claims({ sub: '@@' })), bytes)),
    }),
  ),
  {
    kind: 'utf8-invalid-header',
    make: (c) => c.token(withBytes(jsonText(c.header({ 'x-note': '@@' })), [0xc3]), c.claims()),
  },
  {
    kind: 'utf16-payload',
    make: (c) => c.token(c.header(), Buffer.from(jsonText(c.claims()), 'utf16le')),
  },
]

const numericDates: SemanticCase[] = [
  { kind: 'exp-1e400', make: (c) => c.token(c.header(), c.claims({ exp: new Raw('1e400') })) },
  { kind: 'exp-1e309', make: (c) => c.token(c.header(), c.claims({ exp: new Raw('1E309') })) },
  { kind: 'exp-neg-1e400', make: (c) => c.token(c.header(), c.claims({ exp: new Raw('-1e400') })) },
  { kind: 'nbf-neg-1e400', make: (c) => c.token(c.header(), c.claims({ nbf: new Raw('-1e400') })) },
  { kind: 'nbf-1e400', make: (c) => c.token(c.header(), c.claims({ nbf: new Raw('1e400') })) },
  { kind: 'iat-1e400', make: (c) => c.token(c.header(), c.claims({ iat: new Raw('1e400') })) },
  { kind: 'iat-neg-1e400', make: (c) => c.token(c.header(), c.claims({ iat: new Raw('-1e400') })) },
  { kind: 'exp-string', make: (c) => c.token(c.header(), c.claims({ exp: String(NOW + 100) })) },
  { kind: 'exp-array', make: (c) => c.token(c.header(), c.claims({ exp: [NOW + 100] })) },
  { kind: 'exp-null', make: (c) => c.token(c.header(), c.claims({ exp: null })) },
  { kind: 'exp-bool', make: (c) => c.token(c.header(), c.claims({ exp: true })) },
  { kind: 'exp-object', make: (c) => c.token(c.header(), c.claims({ exp: { v: NOW + 100 } })) },
  { kind: 'nbf-string', make: (c) => c.token(c.header(), c.claims({ nbf: String(NOW - 100) })) },
  { kind: 'iat-string', make: (c) => c.token(c.header(), c.claims({ iat: String(NOW - 100) })) },
  { kind: 'iat-null', make: (c) => c.token(c.header(), c.claims({ iat: null })) },
  { kind: 'exp-missing', make: (c) => c.token(c.header(), c.claims({ exp: DROP })) },
  { kind: 'expired', make: (c) => c.token(c.header(), c.claims({ exp: NOW - 1 - c.rng.int(100_000) })) },
  { kind: 'exp-now', make: (c) => c.token(c.header(), c.claims({ exp: NOW })) },
  { kind: 'exp-negative-zero', make: (c) => c.token(c.header(), c.claims({ exp: new Raw('-0') })) },
  { kind: 'nbf-future', make: (c) => c.token(c.header(), c.claims({ nbf: future(c) })) },
  { kind: 'iat-future', make: (c) => c.token(c.header(), c.claims({ iat: future(c) })) },
  { kind: 'iat-slightly-future', make: (c) => c.token(c.header(), c.claims({ iat: NOW + 0.5 })) },
]

const claimValues: SemanticCase[] = [
  { kind: 'sub-number', make: (c) => c.token(c.header(), c.claims({ sub: 42 })) },
  { kind: 'sub-array', make: (c) => c.token(c.header(), c.claims({ sub: ['user-1'] })) },
  { kind: 'sub-object', make: (c) => c.token(c.header(), c.claims({ sub: { id: 'user-1' } })) },
  { kind: 'sub-null', make: (c) => c.token(c.header(), c.claims({ sub: null })) },
  { kind: 'jti-number', make: (c) => c.token(c.header(), c.claims({ jti: 7 })) },
  { kind: 'iss-wrong', make: (c) => c.token(c.header(), c.claims({ iss: 'https://evil.example' })) },
  { kind: 'iss-missing', make: (c) => c.token(c.header(), c.claims({ iss: DROP })) },
  { kind: 'iss-array', make: (c) => c.token(c.header(), c.claims({ iss: [ISSUER] })) },
  { kind: 'iss-case', make: (c) => c.token(c.header(), c.claims({ iss: ISSUER.toUpperCase() })) },
  { kind: 'iss-trailing-slash', make: (c) => c.token(c.header(), c.claims({ iss: `${ISSUER}/` })) },
  { kind: 'iss-number', make: (c) => c.token(c.header(), c.claims({ iss: 1 })) },
  { kind: 'aud-wrong', make: (c) => c.token(c.header(), c.claims({ aud: 'other' })) },
  { kind: 'aud-missing', make: (c) => c.token(c.header(), c.claims({ aud: DROP })) },
  { kind: 'aud-empty-array', make: (c) => c.token(c.header(), c.claims({ aud: [] })) },
  { kind: 'aud-object', make: (c) => c.token(c.header(), c.claims({ aud: { api: true } })) },
  { kind: 'aud-number', make: (c) => c.token(c.header(), c.claims({ aud: 1 })) },
  { kind: 'aud-empty-string', make: (c) => c.token(c.header(), c.claims({ aud: '' })) },
  { kind: 'aud-case', make: (c) => c.token(c.header(), c.claims({ aud: 'API' })) },
  { kind: 'aud-nested-array', make: (c) => c.token(c.header(), c.claims({ aud: [['api']] })) },
  { kind: 'aud-mixed-array', make: (c) => c.token(c.header(), c.claims({ aud: ['api', 1] })) },
  { kind: 'aud-null-member', make: (c) => c.token(c.header(), c.claims({ aud: [null, 'api'] })) },
]

const shapes: SemanticCase[] = [
  { kind: 'payload-array', make: (c) => c.token(c.header(), '[]') },
  { kind: 'payload-array-of-claims', make: (c) => c.token(c.header(), `[${jsonText(c.claims())}]`) },
  { kind: 'payload-null', make: (c) => c.token(c.header(), 'null') },
  { kind: 'payload-number', make: (c) => c.token(c.header(), '1800000600') },
  { kind: 'payload-string', make: (c) => c.token(c.header(), JSON.stringify(jsonText(c.claims()))) },
  { kind: 'payload-empty', make: (c) => c.token(c.header(), '') },
  { kind: 'payload-not-json', make: (c) => c.token(c.header(), jsonText(c.claims()).slice(0, -1)) },
  {
    kind: 'payload-trailing-comma',
    make: (c) => c.token(c.header(), `${jsonText(c.claims()).slice(0, -1)},}`),
  },
  { kind: 'payload-trailing-garbage', make: (c) => c.token(c.header(), `${jsonText(c.claims())}x`) },
  { kind: 'payload-two-objects', make: (c) => c.token(c.header(), `${jsonText(c.claims())}{}`) },
  { kind: 'payload-nan-literal', make: (c) => c.token(c.header(), c.claims({ exp: new Raw('NaN') })) },
  {
    kind: 'payload-single-quotes',
    make: (c) => c.token(c.header(), jsonText(c.claims()).replaceAll('"', "'")),
  },
  {
    kind: 'deep-nesting-payload',
    make: (c) => c.token(c.header(), c.claims({ ctx: new Raw(`${'['.repeat(70)}${']'.repeat(70)}`) })),
  },
  {
    kind: 'deep-nesting-header',
    make: (c) =>
      c.token(c.header({ 'x-note': new Raw(`${'{"a":'.repeat(70)}1${'}'.repeat(70)}`) }), c.claims()),
  },
  { kind: 'too-long', make: (c) => c.token(c.header(), c.claims({ blob: 'x'.repeat(13_000) })) },
  { kind: 'header-array', make: (c) => c.token(`[${jsonText(c.header())}]`, c.claims()) },
  { kind: 'header-null', make: (c) => c.token('null', c.claims()) },
  { kind: 'header-string', make: (c) => c.token(JSON.stringify(c.alg), c.claims()) },
  { kind: 'header-not-json', make: (c) => c.token(jsonText(c.header()).slice(1), c.claims()) },
  { kind: 'header-empty-object', make: (c) => c.token('{}', c.claims()) },
  { kind: 'header-empty', make: (c) => c.token('', c.claims()) },
]

const kids: SemanticCase[] = [
  { kind: 'kid-number', make: (c) => c.token(c.header({ kid: 1 }), c.claims()) },
  { kind: 'kid-null', make: (c) => c.token(c.header({ kid: null }), c.claims()) },
  { kind: 'kid-array', make: (c) => c.token(c.header({ kid: [c.key.kid] }), c.claims()) },
  { kind: 'kid-object', make: (c) => c.token(c.header({ kid: { kid: c.key.kid } }), c.claims()) },
  { kind: 'kid-bool', make: (c) => c.token(c.header({ kid: true }), c.claims()) },
  { kind: 'kid-unknown', make: (c) => c.token(c.header({ kid: 'unknown' }), c.claims()) },
  { kind: 'kid-empty', make: (c) => c.token(c.header({ kid: '' }), c.claims()) },
  { kind: 'kid-case', make: (c) => c.token(c.header({ kid: c.key.kid.toUpperCase() }), c.claims()) },
  {
    kind: 'kid-other-key',
    make: (c) => c.token(c.header({ kid: c.alg === 'ES256' ? 'es384' : 'es256' }), c.claims()),
  },
  { kind: 'kid-long', make: (c) => c.token(c.header({ kid: 'k'.repeat(2000) }), c.claims()) },
  { kind: 'kid-proto', make: (c) => c.token(c.header({ kid: '__proto__' }), c.claims()) },
  { kind: 'kid-constructor', make: (c) => c.token(c.header({ kid: 'constructor' }), c.claims()) },
]

const algs: SemanticCase[] = [
  {
    kind: 'alg-change-resigned',
    make: (c) => {
      const other = OTHER_ALG[c.alg]
      return other && c.token(c.header({ alg: other }), c.claims(), { alg: other, key: c.key.privateKey })
    },
  },
  {
    kind: 'alg-change-original-signature',
    make: (c) => {
      const other = OTHER_ALG[c.alg] ?? 'ES256'
      const original = c.token(c.header(), c.claims())
      return c.token(c.header({ alg: other }), c.claims(), { literal: original.split('.')[2] as string })
    },
  },
  { kind: 'alg-lowercase', make: (c) => c.token(c.header({ alg: c.alg.toLowerCase() }), c.claims()) },
  {
    kind: 'alg-mixed-case',
    make: (c) => c.token(c.header({ alg: c.alg[0] + c.alg.slice(1).toLowerCase() }), c.claims()),
  },
  { kind: 'alg-trailing-space', make: (c) => c.token(c.header({ alg: `${c.alg} ` }), c.claims()) },
  {
    kind: 'alg-none-empty-signature',
    make: (c) => c.token(c.header({ alg: 'none' }), c.claims(), { literal: '' }),
  },
  {
    kind: 'alg-none-with-signature',
    make: (c) => c.token(c.header({ alg: 'none' }), c.claims(), { literal: 'AAAA' }),
  },
  { kind: 'alg-NONE', make: (c) => c.token(c.header({ alg: 'NONE' }), c.claims(), { literal: '' }) },
  {
    kind: 'alg-hs256-public-key-secret',
    make: (c) =>
      c.token(c.header({ alg: 'HS256', kid: 'rs' }), c.claims(), {
        custom: (input) => hmacSign(c.keys.rsaPublicPem, input),
      }),
  },
  { kind: 'alg-missing', make: (c) => c.token(c.header({ alg: DROP }), c.claims()) },
  { kind: 'alg-number', make: (c) => c.token(c.header({ alg: 256 }), c.claims()) },
  { kind: 'alg-null', make: (c) => c.token(c.header({ alg: null }), c.claims()) },
  {
    kind: 'alg-not-allowed',
    make: (c) => {
      const other = c.alg.startsWith('ES') ? 'ES512' : c.alg === 'EdDSA' ? 'Ed448' : 'RS384'
      const signWith = other === 'RS384' ? { alg: 'RS384' as const, key: c.key.privateKey } : undefined
      return c.token(c.header({ alg: other }), c.claims(), signWith)
    },
  },
  {
    kind: 'embedded-jwk-attacker',
    make: (c) =>
      c.token(c.header({ alg: 'RS256', kid: DROP, jwk: c.keys.attacker.jwk }), c.claims(), {
        alg: 'RS256',
        key: c.keys.attacker.privateKey,
      }),
  },
  {
    kind: 'attacker-signature-real-kid',
    make: (c) =>
      c.token(c.header({ alg: 'RS256', kid: 'rs' }), c.claims(), {
        alg: 'RS256',
        key: c.keys.attacker.privateKey,
      }),
  },
]

const critAndB64: SemanticCase[] = [
  { kind: 'crit-empty', make: (c) => c.token(c.header({ crit: [] }), c.claims()) },
  {
    kind: 'crit-string',
    make: (c) => c.token(c.header({ crit: UNDERSTOOD_CRIT, [UNDERSTOOD_CRIT]: 1 }), c.claims()),
  },
  { kind: 'crit-null', make: (c) => c.token(c.header({ crit: null }), c.claims()) },
  { kind: 'crit-unknown', make: (c) => c.token(c.header({ crit: ['x-other'], 'x-other': 1 }), c.claims()) },
  { kind: 'crit-registered', make: (c) => c.token(c.header({ crit: ['alg'] }), c.claims()) },
  { kind: 'crit-absent-member', make: (c) => c.token(c.header({ crit: [UNDERSTOOD_CRIT] }), c.claims()) },
  {
    kind: 'crit-inherited-name-absent',
    make: (c) => c.token(c.header({ crit: [INHERITED_CRIT] }), c.claims()),
  },
  {
    kind: 'crit-duplicate-name',
    make: (c) =>
      c.token(c.header({ crit: [UNDERSTOOD_CRIT, UNDERSTOOD_CRIT], [UNDERSTOOD_CRIT]: 1 }), c.claims()),
  },
  { kind: 'crit-non-string', make: (c) => c.token(c.header({ crit: [1] }), c.claims()) },
  { kind: 'crit-empty-name', make: (c) => c.token(c.header({ crit: [''] }), c.claims()) },
  { kind: 'crit-b64-true', make: (c) => c.token(c.header({ crit: ['b64'], b64: true }), c.claims()) },
  { kind: 'crit-b64-false', make: (c) => c.token(c.header({ crit: ['b64'], b64: false }), c.claims()) },
  { kind: 'crit-b64-missing', make: (c) => c.token(c.header({ crit: ['b64'] }), c.claims()) },
  { kind: 'b64-false', make: (c) => c.token(c.header({ b64: false }), c.claims()) },
  { kind: 'b64-true', make: (c) => c.token(c.header({ b64: true }), c.claims()) },
  { kind: 'b64-string', make: (c) => c.token(c.header({ b64: 'false' }), c.claims()) },
  { kind: 'typ-number', make: (c) => c.token(c.header({ typ: 1 }), c.claims()) },
  { kind: 'typ-object', make: (c) => c.token(c.header({ typ: { media: 'JWT' } }), c.claims()) },
  { kind: 'typ-null', make: (c) => c.token(c.header({ typ: null }), c.claims()) },
  { kind: 'cty-number', make: (c) => c.token(c.header({ cty: 2 }), c.claims()) },
  { kind: 'cty-jwt', make: (c) => c.token(c.header({ cty: 'JWT' }), c.claims()) },
  { kind: 'cty-application-jwt', make: (c) => c.token(c.header({ cty: 'application/JWT' }), c.claims()) },
]

/** Every re-signed case, for every corpus algorithm. */
export const SEMANTIC_CASES: readonly SemanticCase[] = [
  ...valid,
  ...duplicates,
  ...encoding,
  ...numericDates,
  ...claimValues,
  ...shapes,
  ...kids,
  ...algs,
  ...critAndB64,
]
