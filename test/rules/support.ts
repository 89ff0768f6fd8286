// Support for the specification tests in test/rules/: build verifiers and odd tokens, and assert
// the exact error code of a rejection. Failure messages name codes, never tokens or keys.
import assert from 'node:assert/strict'
import {
  createVerifier,
  type ErrorCode,
  isJwksBridgeError,
  type JwksBridgeError,
  type Verifier,
  type VerifierOptions,
} from '../../src/index.ts'
import { b64u, fixedClock, ISSUER, NOW_SECONDS, type TestKey } from '../helpers/tokens.ts'

/** Every code a verifier may reject with: the stable contract (src/errors.ts). */
export const STABLE_CODES: readonly ErrorCode[] = [
  'ERR_INVALID_OPTIONS',
  'ERR_TOKEN_TYPE',
  'ERR_TOKEN_TOO_LONG',
  'ERR_TOKEN_MALFORMED',
  'ERR_BASE64URL_INVALID',
  'ERR_UTF8_INVALID',
  'ERR_JSON_INVALID',
  'ERR_JSON_DUPLICATE_MEMBER',
  'ERR_HEADER_INVALID',
  'ERR_ALG_NOT_ALLOWED',
  'ERR_CRIT_INVALID',
  'ERR_CRIT_UNSUPPORTED',
  'ERR_TYP_MISMATCH',
  'ERR_KEY_INVALID',
  'ERR_KEY_NOT_FOUND',
  'ERR_KEY_UNUSABLE',
  'ERR_KEY_AMBIGUOUS',
  'ERR_KEYSET_INVALID',
  'ERR_SIGNATURE_INVALID',
  'ERR_CLAIMS_INVALID',
  'ERR_CLAIM_MISSING',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
  'ERR_JWT_ISSUED_IN_FUTURE',
  'ERR_JWT_TOO_OLD',
  'ERR_ISSUER_MISMATCH',
  'ERR_ISSUER_UNKNOWN',
  'ERR_AUDIENCE_MISMATCH',
]

function describeOutcome(outcome: unknown): string {
  if (isJwksBridgeError(outcome)) return `JwksBridgeError ${outcome.code}`
  if (outcome instanceof Error) return `${outcome.name} (not a JwksBridgeError)`
  return typeof outcome
}

/** Awaits a verification that must fail with exactly `code`; returns the error for further checks. */
export async function expectCode(pending: Promise<unknown>, code: ErrorCode): Promise<JwksBridgeError> {
  let outcome: unknown
  try {
    await pending
  } catch (error) {
    outcome = error
  }
  if (outcome === undefined) assert.fail(`expected rejection with ${code}, but it was accepted`)
  if (!isJwksBridgeError(outcome)) assert.fail(`expected ${code}, got ${describeOutcome(outcome)}`)
  assert.equal(outcome.code, code, `expected ${code}, got ${outcome.code}`)
  return outcome
}

/** Runs a synchronous call that must throw exactly `code`. */
export function expectThrowsCode(run: () => unknown, code: ErrorCode): JwksBridgeError {
  let outcome: unknown
  try {
    run()
  } catch (error) {
    outcome = error
  }
  if (outcome === undefined) assert.fail(`expected a throw with ${code}, but nothing was thrown`)
  if (!isJwksBridgeError(outcome)) assert.fail(`expected ${code}, got ${describeOutcome(outcome)}`)
  assert.equal(outcome.code, code, `expected ${code}, got ${outcome.code}`)
  return outcome
}

/** Awaits a verification that must succeed, without printing the token if it does not. */
export async function expectAccepted(pending: Promise<unknown>): Promise<void> {
  try {
    await pending
  } catch (error) {
    assert.fail(`expected the token to verify, got ${describeOutcome(error)}`)
  }
}

/** A verifier for ISSUER over the given keys, with the clock frozen at NOW_SECONDS unless overridden. */
export function verifierFor(keys: readonly TestKey[], options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    jwks: { keys: keys.map((key) => key.jwk) },
    nowMs: fixedClock(),
    ...options,
  } as VerifierOptions)
}

/** A clock tests can move: `clock.now` is in seconds. */
export function movableClock(seconds = NOW_SECONDS): { now: number; nowMs: () => number } {
  const clock = { now: seconds, nowMs: () => clock.now * 1000 }
  return clock
}

/** A JWK copy without the given members (e.g. `alg`, to test kty/crv fitting alone). */
export function jwkWithout(key: TestKey, ...members: string[]): Record<string, unknown> {
  const copy = { ...key.jwk }
  for (const member of members) delete copy[member]
  return copy
}

/** The three segments of a compact token. */
export function segments(token: string): [string, string, string] {
  const parts = token.split('.')
  assert.equal(parts.length, 3, 'fixture token must have three segments')
  return parts as [string, string, string]
}

/** The token with its segment `index` replaced. */
export function withSegment(token: string, index: 0 | 1 | 2, segment: string): string {
  const parts = segments(token)
  parts[index] = segment
  return parts.join('.')
}

/** The token with its signature replaced by `bytes`. */
export function withSignatureBytes(token: string, bytes: Uint8Array): string {
  return withSegment(token, 2, b64u(bytes))
}

/** The decoded signature of a token. */
export function signatureOf(token: string): Buffer {
  return Buffer.from(segments(token)[2], 'base64url')
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Re-spells a canonical base64url segment with non-zero unused bits in its last character: the
 * same bytes for a lenient decoder, a different string. Throws if the segment has no unused bits.
 */
export function withUnusedBitsSet(segment: string): string {
  const unusedBits = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0
  assert.ok(unusedBits > 0, 'segment length leaves no unused bits')
  const last = ALPHABET.indexOf(segment.charAt(segment.length - 1))
  return segment.slice(0, -1) + ALPHABET.charAt(last | 1)
}

/** Big-endian unsigned bytes <-> BigInt, for ECDSA and RSA arithmetic in tests. */
export function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  return value
}

export function fromBigInt(value: bigint, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn)
    value >>= 8n
  }
  assert.equal(value, 0n, 'value does not fit in the requested length')
  return out
}
