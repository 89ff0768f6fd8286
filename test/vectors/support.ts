// Shared plumbing for the third-party vector tests: loading the copied files, turning a vector's key
// into what a caller would hand to jwks-bridge, and deciding a token through jwks-bridge's own code.
// Nothing here prints a token; outcomes are error codes or 'accepted'.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ErrorCode, isJwksBridgeError } from '../../src/errors.ts'
import { type Algorithm, algorithmSpec, SUPPORTED_ALGORITHMS } from '../../src/jose/algorithms.ts'
import type { KeySet } from '../../src/jose/key-set.ts'
import { verifyCompactJws } from '../../src/jose/verify-jws.ts'

/** What jwks-bridge did with a vector: accepted it, or the code of the error it threw. */
export type Outcome = 'accepted' | ErrorCode | 'unexpected-exception'

const VECTORS = import.meta.dirname

/** Parses a JSON file under test/vectors/ (the copies: a clone needs nothing outside the repo). */
export function loadVectors<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(join(VECTORS, relativePath), 'utf8')) as T
}

// Private and symmetric members of a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4). A group that only has a
// `private` key is used the way the Wycheproof harnesses use it: its public half.
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'])

/** The JWK without its private members. `k` stays: an oct key has no public half to publish. */
export function publicHalf(jwk: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.has(name)))
}

/** The `alg` of a token's header, read without any checks (test-side only), or undefined. */
export function peekAlg(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'))
    const alg = (header as { alg?: unknown } | null)?.alg
    return typeof alg === 'string' ? alg : undefined
  } catch {
    return undefined
  }
}

/**
 * The allowlist a caller would configure for this vector.
 *
 * We take the token's own `alg` when jwks-bridge supports it. That is the widest allowlist that
 * could let the token through, so every rejection has to come from jwks-bridge's own rules (key
 * import, key selection by kid/kty/crv/alg/use/key_ops, signature encoding, the signature itself)
 * and never from an allowlist that happens to leave the token's algorithm out. In particular the
 * WrongPrimitive vectors (a PS512 key, an RS256 token) are refused by key selection, not by the
 * allowlist. When the token's alg is not supported (HS*, none, NONE, unreadable header) no
 * allowlist could admit it; we then configure the keys' own `alg`s, as a caller reading its key
 * set would, or every supported algorithm when the keys carry none.
 */
export function algorithmsFor(token: unknown, keySet: KeySet): Algorithm[] {
  const alg = peekAlg(token)
  const spec = alg === undefined ? undefined : algorithmSpec(alg)
  if (spec) return [spec.name]
  const fromKeys = [...new Set(keySet.keys.flatMap((key) => (key.alg === undefined ? [] : [key.alg])))]
  return fromKeys.length > 0 ? fromKeys : [...SUPPORTED_ALGORITHMS]
}

/** Runs a token through `verifyCompactJws` and reports the outcome. */
export function decideJws(token: unknown, keySet: KeySet): Outcome {
  try {
    verifyCompactJws(token as string, keySet, { algorithms: algorithmsFor(token, keySet) })
    return 'accepted'
  } catch (error) {
    return isJwksBridgeError(error) ? error.code : 'unexpected-exception'
  }
}

/** Runs `fn` and reports the code of the JwksBridgeError it throws, or 'accepted'. */
export function outcomeOf(fn: () => unknown): Outcome {
  try {
    fn()
    return 'accepted'
  } catch (error) {
    return isJwksBridgeError(error) ? error.code : 'unexpected-exception'
  }
}

/** A short, token-free list for an assertion message: "tcId 12 (ERR_X, expected Y)". */
export function describeFailures(failures: readonly string[]): string {
  return failures.length === 0 ? 'none' : failures.join('; ')
}
