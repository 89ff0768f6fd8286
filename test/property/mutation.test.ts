// Property: no mutation of a valid token's characters verifies. Substitutions, insertions,
// deletions, truncations, segment swaps and transplants, in header, payload and signature, for
// RS256, ES256 and EdDSA; through a verifier with the token cache on (originals already cached)
// and one with it off. Counterexamples are edit lists, never tokens.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createVerifier } from '../../src/index.ts'
import { fixedClock, ISSUER, makeKey, signToken, type TestAlg } from '../helpers/tokens.ts'
import { params } from './params.ts'

const ALGS = ['RS256', 'ES256', 'EdDSA'] as const satisfies readonly TestAlg[]
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const TOKENS_PER_ALG = 3

const keys = ALGS.map((alg) => makeKey(alg, `prop-${alg}`))
const tokens = keys.flatMap((key) =>
  Array.from({ length: TOKENS_PER_ALG }, (_, i) =>
    signToken(key, { aud: 'api', n: i, name: ['plain', 'ünïcødé', 'emoji 😀'][i] }),
  ),
)
const common = {
  issuer: ISSUER,
  jwks: { keys: keys.map((k) => k.jwk) },
  algorithms: [...ALGS],
  audience: 'api',
  nowMs: fixedClock(),
}
const cached = createVerifier(common)
const uncached = createVerifier({ ...common, tokenCache: false })

type Edit = { op: 'substitute' | 'insert' | 'delete'; at: number; ch: string }
type Mutation =
  | { kind: 'edits'; target: 0 | 1 | 2 | 'anywhere'; edits: Edit[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'reorder'; order: readonly [number, number, number] }
  | { kind: 'transplant'; segment: 0 | 1 | 2; donor: number }
  | { kind: 'append'; text: string }

const charArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ALPHABET) },
  { weight: 2, arbitrary: fc.constantFrom('.', '=', ' ', '\n', '+', '/', '\t', '%') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)
const editArb: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('substitute', 'insert', 'delete'),
  at: fc.nat(),
  ch: charArb,
})
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('edits' as const),
      target: fc.constantFrom(0 as const, 1 as const, 2 as const, 'anywhere' as const),
      edits: fc.array(editArb, { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reorder' as const),
      order: fc.constantFrom(
        [1, 0, 2] as const,
        [0, 2, 1] as const,
        [2, 1, 0] as const,
        [1, 2, 0] as const,
        [2, 0, 1] as const,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('transplant' as const),
      segment: fc.constantFrom(0 as const, 1 as const, 2 as const),
      donor: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      text: fc.string({ unit: charArb, minLength: 1, maxLength: 8 }),
    }),
  },
)

function applyEdit(text: string, edit: Edit): string {
  if (edit.op === 'insert') {
    const i = edit.at % (text.length + 1)
    return text.slice(0, i) + edit.ch + text.slice(i)
  }
  if (text.length === 0) return text
  const i = edit.at % text.length
  return text.slice(0, i) + (edit.op === 'substitute' ? edit.ch : '') + text.slice(i + 1)
}

function mutate(original: string, m: Mutation): string {
  const segments = original.split('.')
  switch (m.kind) {
    case 'edits': {
      if (m.target === 'anywhere') return m.edits.reduce(applyEdit, original)
      segments[m.target] = m.edits.reduce(applyEdit, segments[m.target] as string)
      return segments.join('.')
    }
    case 'truncate':
      return original.slice(0, m.at % original.length)
    case 'reorder':
      return m.order.map((i) => segments[i]).join('.')
    case 'transplant': {
      // A segment of another valid token (same key or not): genuine, but not signed together.
      segments[m.segment] = (tokens[m.donor % tokens.length] as string).split('.')[m.segment] as string
      return segments.join('.')
    }
    case 'append':
      return original + m.text
  }
}

/** The error code when the verifier rejects, undefined when it accepts. Throws on a crash. */
async function verdict(verifier: typeof cached, token: string): Promise<string | undefined> {
  try {
    await verifier.verify(token)
    return undefined
  } catch (error) {
    // Anything else (a TypeError from deep inside) would be a crash, not a verdict.
    assert.ok(isJwksBridgeError(error), 'rejection is not a JwksBridgeError')
    return error.code
  }
}

describe('property: no mutation of a valid token verifies', () => {
  before(async () => {
    // The originals verify (and now sit in the cached verifier's token cache).
    for (const token of tokens) {
      assert.equal(await verdict(cached, token), undefined, 'an unmutated token must verify')
      assert.equal(await verdict(uncached, token), undefined, 'an unmutated token must verify')
    }
  })

  for (const [index, alg] of ALGS.entries()) {
    it(`${alg}: edits, truncations, reorders, transplants and appends are all rejected`, async () => {
      const own = fc.integer({ min: index * TOKENS_PER_ALG, max: (index + 1) * TOKENS_PER_ALG - 1 })
      const codes = new Set<string>()
      await fc.assert(
        fc.asyncProperty(own, mutationArb, fc.boolean(), async (which, mutation, useCache) => {
          const original = tokens[which] as string
          const mutated = mutate(original, mutation)
          if (mutated === original) return
          const code = await verdict(useCache ? cached : uncached, mutated)
          assert.notEqual(code, undefined, 'a mutated token verified')
          codes.add(code as string)
        }),
        params(5000),
      )
      // Not vacuous: some mutations got past every encoding check and failed only on the signature.
      assert.ok(codes.has('ERR_SIGNATURE_INVALID'), 'no mutation reached the signature check')
      assert.ok(codes.has('ERR_BASE64URL_INVALID'), 'no mutation broke the base64url spelling')
    })
  }

  it('still accepts the originals afterwards (the rejections were not a broken verifier)', async () => {
    for (const token of tokens) assert.equal(await verdict(uncached, token), undefined)
  })
})
