import { invalidOptions } from '../errors.js'
import { type Algorithm, algorithmSpec } from './algorithms.js'
import { DEFAULT_MAX_TOKEN_LENGTH, decodeHeader, splitCompact } from './compact.js'
import { checkHeader, type HeaderPolicy, type ProtectedHeader } from './header.js'
import { KeySet } from './key-set.js'
import { assertCompactSignature } from './signature.js'

export interface JwsVerifyOptions {
  /** Accepted algorithms, exact names. Required: at this level there is no default to fall back on. */
  algorithms: readonly Algorithm[]
  /** Extension header names the caller understands and handles itself (RFC 7515 §4.1.11). */
  criticalHeaders?: readonly string[]
  /** Longest token accepted, in characters, checked before any decoding. Default 16 KiB. */
  maxTokenLength?: number
}

export interface VerifiedJws {
  header: ProtectedHeader
  /** The payload octets, exactly as signed. Not parsed: a JWS payload need not be JSON. */
  payload: Buffer
}

/**
 * Verifies a compact JWS (RFC 7515 §7.1) against a key set and returns its protected header and
 * payload octets. Every rule of the JWT path that concerns the JWS itself applies: canonical
 * base64url segments, a strict header (allowlisted `alg`, `crit`, no `b64`), one key chosen only
 * from `keySet` by `kid`, type, curve, `alg`, `use` and `key_ops`, and the signature encoding checks.
 *
 * What it does not do is read the payload as a JWT claims set, so it checks no `exp`, `iss` or
 * `aud`: use `createVerifier` for JWTs. The payload may be empty (RFC 7515 allows any octet
 * sequence); a detached payload (RFC 7515 Appendix F) is not re-attached, so its signature fails.
 * Throws a `JwksBridgeError` whose message never contains the token.
 */
export function verifyCompactJws(token: string, keySet: KeySet, options: JwsVerifyOptions): VerifiedJws {
  if (!(keySet instanceof KeySet)) throw invalidOptions('keySet must be a KeySet (see importKeySet)')
  const { policy, maxTokenLength } = resolveOptions(options)
  const compact = splitCompact(token, maxTokenLength, true)
  const header = decodeHeader(compact)
  const spec = checkHeader(header, policy)
  // checkHeader has made sure that kid, when present, is a string.
  const key = keySet.select(spec, header.kid as string | undefined)
  assertCompactSignature(compact, spec, key)
  // A copy, not the shared scratch buffer: the caller keeps it.
  const payload = Buffer.from(compact.token.slice(compact.firstDot + 1, compact.secondDot), 'base64url')
  return { header: header as ProtectedHeader, payload }
}

function resolveOptions(options: JwsVerifyOptions): { policy: HeaderPolicy; maxTokenLength: number } {
  if (typeof options !== 'object' || options === null) throw invalidOptions('options must be an object')
  const { algorithms, criticalHeaders = [], maxTokenLength = DEFAULT_MAX_TOKEN_LENGTH } = options
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw invalidOptions('algorithms must be a non-empty array')
  }
  for (const name of algorithms as unknown[]) {
    // HS* and none have no entry in the table, so they cannot be configured (RFC 8725 §3.1).
    if (typeof name !== 'string' || algorithmSpec(name) === undefined) {
      throw invalidOptions(`algorithms: ${JSON.stringify(String(name).slice(0, 32))} is not supported`)
    }
  }
  if (!Array.isArray(criticalHeaders) || criticalHeaders.some((name) => typeof name !== 'string')) {
    throw invalidOptions('criticalHeaders must be an array of strings')
  }
  if (!Number.isSafeInteger(maxTokenLength) || maxTokenLength <= 0) {
    throw invalidOptions('maxTokenLength must be a positive integer')
  }
  return {
    policy: { algorithms: new Set<string>(algorithms), criticalHeaders: new Set(criticalHeaders) },
    maxTokenLength,
  }
}
