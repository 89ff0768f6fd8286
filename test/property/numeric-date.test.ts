// Properties of NumericDate handling (RFC 7519 §2): a non-finite value (`1e400` parses to
// Infinity, a token that never expires: security catalogue E1) or a non-number is never
// accepted in exp, nbf or iat, whatever the policy and the clock; finite values follow the
// RFC 7519 §4.1.4-4.1.6 comparisons exactly.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createVerifier } from '../../src/index.ts'
import { type ClaimsPolicy, checkClaims } from '../../src/jose/claims.ts'
import { parseJsonObject } from '../../src/jose/json.ts'
import { fixedClock, ISSUER, makeKey, NOW_SECONDS, signText } from '../helpers/tokens.ts'
import { params } from './params.ts'

const DATE_CLAIMS = ['exp', 'nbf', 'iat'] as const

const policyArb: fc.Arbitrary<ClaimsPolicy> = fc.record({
  issuer: fc.constant(undefined),
  audience: fc.constant(undefined),
  requiredClaims: fc.constantFrom([], ['exp']),
  clockToleranceSeconds: fc.oneof(fc.nat({ max: 86_400 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
  maxTokenAgeSeconds: fc.option(fc.nat({ max: 10_000_000 }), { nil: undefined }),
})
const nowArb = fc.oneof(
  fc.integer({ min: 0, max: 4_000_000_000 }),
  fc.double({ min: -1e12, max: 1e12, noNaN: true }),
)

/** Throws unless `run` throws ERR_CLAIMS_INVALID naming `claim`. */
function assertRefused(run: () => unknown, claim: string): void {
  assert.throws(
    run,
    (error: unknown) => isJwksBridgeError(error, 'ERR_CLAIMS_INVALID') && error.claim === claim,
  )
}

/** A JSON number literal too large for a double: it parses to Infinity or -Infinity. */
const overflowingLiteral = fc
  .record({
    sign: fc.constantFrom('', '-'),
    lead: fc.integer({ min: 1, max: 9 }),
    digits: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 6 }),
    fraction: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 4 })),
    e: fc.constantFrom('e', 'E', 'e+', 'E+'),
    exponent: fc.integer({ min: 309, max: 100_000 }),
    form: fc.constantFrom('exponent', 'long'),
  })
  .map(({ sign, lead, digits, fraction, e, exponent, form }) =>
    form === 'long'
      ? `${sign}${lead}${'0'.repeat(309 + digits.length)}`
      : `${sign}${lead}${digits}${fraction === null ? '' : `.${fraction}`}${e}${exponent}`,
  )

describe('property: NumericDates are finite numbers', () => {
  it('checkClaims never accepts Infinity, -Infinity or NaN in exp, nbf or iat', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DATE_CLAIMS),
        fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
        policyArb,
        nowArb,
        (claim, bad, policy, now) => {
          // Every other date is valid for this clock, so the non-finite one is the only fault.
          const payload: Record<string, unknown> = {
            exp: now + 1e6,
            nbf: now - 1e6,
            iat: now - 1,
            [claim]: bad,
          }
          assertRefused(() => checkClaims(payload, policy, now), claim)
        },
      ),
      params(2000),
    )
  })

  it('checkClaims never accepts a non-number in exp, nbf or iat', () => {
    const notNumber = fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'number')
    fc.assert(
      fc.property(
        fc.constantFrom(...DATE_CLAIMS),
        notNumber,
        policyArb,
        nowArb,
        (claim, bad, policy, now) => {
          const payload: Record<string, unknown> = { exp: now + 1e6, [claim]: bad }
          assertRefused(() => checkClaims(payload, policy, now), claim)
        },
      ),
      params(1000),
    )
  })

  it('an overflowing JSON literal is refused after parsing (exp: 1e400 never means "never expires")', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DATE_CLAIMS),
        overflowingLiteral,
        policyArb,
        (claim, literal, policy) => {
          const others = claim === 'exp' ? '' : `,"exp":${NOW_SECONDS + 600}`
          const payload = parseJsonObject(Buffer.from(`{"${claim}":${literal}${others}}`), 'claims set')
          assert.equal(Number.isFinite(payload[claim]), false)
          assertRefused(() => checkClaims(payload, policy, NOW_SECONDS), claim)
        },
      ),
      params(1000),
    )
  })

  it('end to end: a signed token with an overflowing date never verifies', async () => {
    const key = makeKey('EdDSA', 'prop-numeric-date')
    const verifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [key.jwk] },
      algorithms: ['EdDSA'],
      nowMs: fixedClock(),
    })
    const header = JSON.stringify({ alg: 'EdDSA', kid: key.kid })
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...DATE_CLAIMS), overflowingLiteral, async (claim, literal) => {
        const exp = claim === 'exp' ? '' : `,"exp":${NOW_SECONDS + 600}`
        const token = signText(key, header, `{"iss":${JSON.stringify(ISSUER)},"${claim}":${literal}${exp}}`)
        const error = await verifier.verify(token).then(
          () => undefined,
          (e: unknown) => e,
        )
        assert.ok(
          isJwksBridgeError(error, 'ERR_CLAIMS_INVALID'),
          'the token was not refused as invalid claims',
        )
        assert.equal(error.claim, claim)
      }),
      params(200),
    )
  })

  it('finite dates follow RFC 7519 exactly: exp after now, nbf and iat not after now, with tolerance', () => {
    const finite = fc.double({ min: -1e15, max: 1e15, noNaN: true })
    fc.assert(
      fc.property(
        fc.constantFrom(...DATE_CLAIMS),
        finite,
        fc.integer({ min: 0, max: 4e9 }),
        fc.nat(3600),
        (claim, date, now, tolerance) => {
          const policy: ClaimsPolicy = {
            issuer: undefined,
            audience: undefined,
            requiredClaims: [],
            clockToleranceSeconds: tolerance,
            maxTokenAgeSeconds: undefined,
          }
          const shouldPass = claim === 'exp' ? now - tolerance < date : now + tolerance >= date
          let validUntil: number | undefined
          try {
            validUntil = checkClaims({ [claim]: date }, policy, now).untilSeconds
          } catch (error) {
            assert.ok(isJwksBridgeError(error))
            assert.notEqual(error.code, 'ERR_CLAIMS_INVALID')
          }
          assert.equal(validUntil !== undefined, shouldPass)
          // A token with exp is never cached past exp (plus tolerance).
          if (claim === 'exp' && validUntil !== undefined) assert.equal(validUntil, date + tolerance)
        },
      ),
      params(2000),
    )
  })
})
