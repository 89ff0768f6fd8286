// Differential test against jose 6: over a seeded corpus of valid and mutated tokens,
// jwks-bridge never accepts a token that jose rejects, and each token that only jwks-bridge
// rejects falls under a named strictness rule (rules.ts). Output: one summary line, no tokens.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLocalJWKSet, type JWTVerifyOptions, jwtVerify } from 'jose'
import { isJwksBridgeError, type JwksBridgeError } from '../../src/errors.ts'
import { createVerifier, type KeyRejectedEvent } from '../../src/index.ts'
import { fixedClock, ISSUER, NOW_SECONDS } from '../helpers/tokens.ts'
import { buildCorpus, type Case } from './corpus.ts'
import {
  ALGORITHMS,
  AUDIENCE,
  buildKeys,
  type ContextName,
  INHERITED_CRIT,
  REQUIRED_TYP,
  UNDERSTOOD_CRIT,
  WEAK_KIDS,
} from './keys.ts'
import { classify, EXPECTED_DISAGREEMENTS, STRICTNESS_RULES } from './rules.ts'

// Fixed so that CI is reproducible; DIFF_SEED explores other corpora locally.
const SEED = Number(process.env.DIFF_SEED ?? 0x5eed2026)

type Outcome = { accepted: true } | { accepted: false; code: string; claim?: string }

interface Verdict {
  c: Case
  ours: Outcome
  jose: Outcome
  rule?: string
}

/** What a failure may print about a case: never the token. */
const describeCase = (v: Verdict): string =>
  `${v.c.kind}/${v.c.alg}/${v.c.context}${v.c.part ? `/${v.c.part}` : ''}: ours=${
    v.ours.accepted ? 'accept' : `${v.ours.code}${v.ours.claim ? `(${v.ours.claim})` : ''}`
  } jose=${v.jose.accepted ? 'accept' : v.jose.code}`

const listed = (verdicts: Verdict[]): string => verdicts.slice(0, 15).map(describeCase).join('\n  ')

describe('differential: jwks-bridge against jose 6 over a seeded token corpus', () => {
  it('never accepts what jose rejects, and every stricter rejection falls under a named rule', async (t) => {
    const started = performance.now()
    const keys = buildKeys()
    const corpus = buildCorpus(keys, SEED)

    const rejectedKids: string[] = []
    const contexts = new Map<
      ContextName,
      { ours: (token: string) => Promise<unknown>; jose: (token: string) => Promise<unknown> }
    >()
    for (const name of ['main', 'weak', 'typ'] as const) {
      const jwks = keys.jwks[name]
      const typ = name === 'typ' ? REQUIRED_TYP : undefined
      const verifier = createVerifier({
        issuer: ISSUER,
        jwks,
        algorithms: [...ALGORITHMS],
        audience: AUDIENCE,
        criticalHeaders: [UNDERSTOOD_CRIT, INHERITED_CRIT],
        ...(typ ? { typ } : {}),
        nowMs: fixedClock(),
        // Every token goes through the whole pipeline; the cache is tested elsewhere.
        tokenCache: false,
        onKeyRejected: (event: KeyRejectedEvent) => {
          if (name === 'weak') rejectedKids.push(String(event.kid))
        },
      })
      const keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
      const options: JWTVerifyOptions = {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [...ALGORITHMS],
        crit: { [UNDERSTOOD_CRIT]: true, [INHERITED_CRIT]: true },
        currentDate: new Date(NOW_SECONDS * 1000),
        ...(typ ? { typ } : {}),
      }
      contexts.set(name, {
        ours: (token) => verifier.verify(token),
        jose: (token) => jwtVerify(token, keySet, options),
      })
    }
    // The weak-key rule's premise: jwks-bridge refused exactly the two weak keys of that set.
    assert.deepEqual(rejectedKids.sort(), [...WEAK_KIDS].sort())

    const verdicts: Verdict[] = []
    const crashes: string[] = []
    for (const c of corpus) {
      const context = contexts.get(c.context)
      assert.ok(context)
      let ourError: JwksBridgeError | undefined
      const ours: Outcome = await context.ours(c.token).then(
        () => ({ accepted: true }),
        (error: unknown) => {
          if (!isJwksBridgeError(error)) {
            crashes.push(`${c.kind}/${c.alg}: ${(error as Error)?.name}`)
            return { accepted: false, code: 'NOT_A_JWKS_BRIDGE_ERROR' }
          }
          ourError = error
          return { accepted: false, code: error.code, ...(error.claim ? { claim: error.claim } : {}) }
        },
      )
      const jose: Outcome = await context.jose(c.token).then(
        () => ({ accepted: true }),
        (error: unknown) => ({
          accepted: false,
          code: String((error as { code?: unknown })?.code ?? 'UNKNOWN'),
        }),
      )
      const rule = ourError && jose.accepted ? classify(ourError, c)?.id : undefined
      verdicts.push({ c, ours, jose, ...(rule ? { rule } : {}) })
    }

    assert.deepEqual(crashes, [], 'jwks-bridge threw something other than a JwksBridgeError')

    const looser = verdicts.filter((v) => v.ours.accepted && !v.jose.accepted)
    assert.equal(looser.length, 0, `jwks-bridge accepted tokens that jose rejects:\n  ${listed(looser)}`)

    const stricter = verdicts.filter((v) => !v.ours.accepted && v.jose.accepted)
    const unclassified = stricter.filter((v) => v.rule === undefined)
    assert.equal(
      unclassified.length,
      0,
      `stricter rejections under no listed rule:\n  ${listed(unclassified)}`,
    )

    const validFailures = verdicts.filter((v) => v.c.expectValid && !(v.ours.accepted && v.jose.accepted))
    assert.equal(validFailures.length, 0, `valid tokens not accepted by both:\n  ${listed(validFailures)}`)

    // Not vacuous: each rule is exercised, and each designated mutation ends under its rule.
    const perRule = new Map<string, number>(STRICTNESS_RULES.map((r) => [r.id, 0]))
    for (const v of stricter) perRule.set(v.rule as string, (perRule.get(v.rule as string) ?? 0) + 1)
    const unexercised = [...perRule].filter(([, n]) => n === 0).map(([id]) => id)
    assert.deepEqual(unexercised, [], 'strictness rules with no disagreement in the corpus')
    for (const [kind, ruleId] of Object.entries(EXPECTED_DISAGREEMENTS)) {
      const ofKind = verdicts.filter((v) => v.c.kind === kind)
      const underRule = ofKind.filter((v) => v.rule === ruleId)
      assert.ok(underRule.length > 0, `no "${kind}" token ended as a ${ruleId} disagreement`)
      const elsewhere = ofKind.filter((v) => v.rule !== undefined && v.rule !== ruleId)
      assert.equal(elsewhere.length, 0, `"${kind}" disagreements under another rule:\n  ${listed(elsewhere)}`)
    }

    const valid = verdicts.filter((v) => v.c.expectValid).length
    const bothAccept = verdicts.filter((v) => v.ours.accepted && v.jose.accepted).length
    const bothReject = verdicts.filter((v) => !v.ours.accepted && !v.jose.accepted).length
    assert.ok(valid >= 50 && bothAccept >= valid, 'the corpus must hold valid tokens that both accept')
    assert.ok(bothReject > corpus.length / 2, 'most mutations must be rejected by both')

    const rules = [...perRule].map(([id, n]) => `${id} ${n}`).join(', ')
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    t.diagnostic(
      `differential vs jose (seed ${SEED}): ${corpus.length} tokens, ${valid} valid; both accept ${bothAccept}, ` +
        `both reject ${bothReject}, only jwks-bridge rejects ${stricter.length} [${rules}], ` +
        `only jose rejects ${looser.length}, unclassified ${unclassified.length}; ${seconds}s`,
    )
  })
})
