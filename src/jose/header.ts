import { JwksBridgeError } from '../errors.js'
import { type Algorithm, type AlgorithmSpec, algorithmSpec } from './algorithms.js'
import type { JsonObject } from './json.js'
import { MAX_KID_LENGTH } from './jwk.js'

/** A JWS protected header after validation. Unknown members are kept as they came. */
export interface ProtectedHeader {
  alg: Algorithm
  kid?: string
  typ?: string
  cty?: string
  crit?: string[]
  [member: string]: unknown
}

export interface HeaderPolicy {
  /** Algorithms this verifier accepts; exact, case-sensitive names. */
  algorithms: ReadonlySet<string>
  /** Extension header names the application understands and handles itself (for `crit`). */
  criticalHeaders: ReadonlySet<string>
}

// Header parameter names registered by RFC 7515 and RFC 7516/7518. RFC 7515 §4.1.11: `crit` MUST NOT
// list them.
const REGISTERED = new Set([
  'alg',
  'jku',
  'jwk',
  'kid',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'typ',
  'cty',
  'crit',
  'enc',
  'zip',
  'epk',
  'apu',
  'apv',
  'iv',
  'tag',
  'p2s',
  'p2c',
])

function headerError(code: 'ERR_HEADER_INVALID' | 'ERR_CRIT_INVALID', claim: string, reason: string) {
  return new JwksBridgeError(code, `protected header: ${reason}`, { claim, reason })
}

/**
 * Checks a decoded protected header against the policy and returns the algorithm to verify with.
 * Runs before any key lookup or signature check, so it only relies on cheap, local facts.
 */
export function checkHeader(header: JsonObject, policy: HeaderPolicy): AlgorithmSpec {
  const alg = header.alg
  if (typeof alg !== 'string')
    throw headerError('ERR_HEADER_INVALID', 'alg', '"alg" is missing or not a string')
  // Exact comparison with the allowlist (RFC 8725 §3.1): `none`, `NONE`, `rs256` and every HS* never
  // match, and `none`/HS* cannot even be configured.
  const spec = policy.algorithms.has(alg) ? algorithmSpec(alg) : undefined
  if (!spec) {
    throw new JwksBridgeError('ERR_ALG_NOT_ALLOWED', 'the token\'s "alg" is not allowed', { claim: 'alg' })
  }
  const kid = header.kid
  // kid is only ever an exact-match lookup key; a number or object could index something else
  // (ruby-jwt #440, jose "a non-string kid must not bypass key selection").
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) {
    throw headerError('ERR_HEADER_INVALID', 'kid', '"kid" is not a string of at most 1024 characters')
  }
  for (const member of ['typ', 'cty'] as const) {
    if (header[member] !== undefined && typeof header[member] !== 'string') {
      throw headerError('ERR_HEADER_INVALID', member, `"${member}" is not a string`)
    }
  }
  // Nested JWTs are not supported: a `cty` of JWT would ask us to verify an inner token too. A media
  // type may carry or omit `application/` (RFC 7515 §4.1.10), so `application/jwt` is the same thing.
  if (typeof header.cty === 'string' && normalizeTyp(header.cty) === 'jwt') {
    throw headerError('ERR_HEADER_INVALID', 'cty', 'nested JWTs ("cty": "JWT") are not supported')
  }
  // RFC 7797 §7: a JWT MUST NOT use the unencoded payload option, so `b64` has no place here at all.
  if ('b64' in header) throw headerError('ERR_HEADER_INVALID', 'b64', '"b64" is not allowed in a JWT')
  if ('crit' in header) checkCrit(header, policy.criticalHeaders)
  return spec
}

/**
 * RFC 7515 §4.1.11: when present, `crit` is a non-empty array of unique strings, none of them a
 * registered name, each present in the header, and each understood by the recipient. In a compact
 * JWS every member is protected. Bypasses of this rule: PyJWT CVE-2026-32597, fast-jwt CVE-2026-35042.
 */
function checkCrit(header: JsonObject, understood: ReadonlySet<string>): void {
  const crit = header.crit
  if (!Array.isArray(crit) || crit.length === 0) {
    throw headerError('ERR_CRIT_INVALID', 'crit', '"crit" is not a non-empty array')
  }
  const seen = new Set<string>()
  for (const name of crit) {
    if (typeof name !== 'string' || name.length === 0) {
      throw headerError('ERR_CRIT_INVALID', 'crit', '"crit" holds something other than a name')
    }
    if (seen.has(name)) throw headerError('ERR_CRIT_INVALID', 'crit', '"crit" lists a name twice')
    seen.add(name)
    if (REGISTERED.has(name)) throw headerError('ERR_CRIT_INVALID', 'crit', '"crit" lists a registered name')
    // An own member only: `toString` or `constructor` inherited from Object.prototype is not present.
    if (!Object.hasOwn(header, name))
      throw headerError('ERR_CRIT_INVALID', 'crit', '"crit" lists a name absent from the header')
    if (!understood.has(name)) {
      throw new JwksBridgeError(
        'ERR_CRIT_UNSUPPORTED',
        'the header has a critical extension this verifier does not understand',
        {
          claim: 'crit',
          reason: 'unsupported critical extension',
        },
      )
    }
  }
}

/**
 * Media type comparison for `typ` (RFC 7515 §4.1.9): case-insensitive, and `application/` may be
 * left out on either side. Explicit typing keeps one kind of token from passing for another
 * (RFC 8725 §3.11).
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}
