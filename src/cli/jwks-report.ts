import { isJwksBridgeError } from '../errors.js'
import { type Algorithm, algorithmSpec, SUPPORTED_ALGORITHMS } from '../jose/algorithms.js'
import { isCanonicalBase64url } from '../jose/base64url.js'
import { importPublicJwk, type VerificationKey } from '../jose/jwk.js'
import { fits, importKeySet, type KeySet, type KeySetLimits, type RejectedKey } from '../jose/key-set.js'
import type { FreshnessBounds } from '../keys/cache-policy.js'
import { type CacheReport, cacheProblems, cacheReport, type ResponseHeaders } from './jwks-cache.js'

/**
 * What `jwks-bridge jwks` found in a key set document: plain data, no I/O. Every verdict on a key is
 * the library's own (`importKeySet`, `importPublicJwk`, `fits`), so the command and the verifier
 * cannot disagree. Nothing here carries key material: a row holds public identifiers and sizes only
 * (never n, e, x, y, nor any private member).
 */

/**
 * usable: jwks-bridge imports it and it may verify at least one algorithm;
 * refused: jwks-bridge skips it (the reason is in `problems`);
 * ignored: imported, but its `use` or `key_ops` rule out verifying signatures.
 */
export type KeyStatus = 'usable' | 'refused' | 'ignored'

export interface KeyRow {
  index: number
  status: KeyStatus
  kid: string | null
  kty: string | null
  alg: string | null
  /** RSA modulus bits; null for other key types or when it cannot be read. */
  size: number | null
  crv: string | null
  use: string | null
  key_ops: string[] | null
  /** The algorithms this key may verify (empty unless usable). */
  algorithms: Algorithm[]
}

export type ProblemLevel = 'error' | 'warning' | 'info'

const LEVEL_ORDER: Record<ProblemLevel, number> = { error: 0, warning: 1, info: 2 }

export type ProblemKind =
  | 'document'
  | 'too-many-keys'
  | 'no-usable-key'
  | 'key-refused'
  | 'key-not-for-signatures'
  | 'missing-kid'
  | 'duplicate-kid'
  | 'missing-alg'
  | 'missing-use'
  | 'keys-not-listed'
  | 'cache-max-age'
  | 'cache-validators'

export interface Problem {
  level: ProblemLevel
  kind: ProblemKind
  /** The library error code, when the problem is a refusal. */
  code?: string
  /** The keys concerned, by index in the document. */
  keys?: number[]
  message: string
}

export interface KeySetReport {
  keys: KeyRow[]
  problems: Problem[]
  cache: CacheReport
  /** Keys jwks-bridge would verify with; 0 also when the whole document is refused. */
  usableKeys: number
  /** The library's verdict on the whole document, when it refuses it (no usable key included). */
  refusal: { code: string; message: string } | undefined
}

/** Most keys analysed and listed; past the verifier's own limit the set is refused anyway. */
export const MAX_LISTED_KEYS = 1000

// The longest identifier shown in a message; the JSON rows carry the full value.
const SHOWN_LENGTH = 64

// Characters that change what a terminal shows: C0 and C1 controls, and the bidirectional
// overrides and isolates that can make text read differently from what it is (CVE-2021-42574).
function isInvisibleControl(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}

/**
 * Text for a terminal: controls and bidi characters escaped as \uXXXX, everything else as is.
 * For lines that may carry strings from a fetched document (library reasons quote some of them).
 */
export function printable(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0) as number
    out += isInvisibleControl(code) ? `\\u${code.toString(16).padStart(4, '0')}` : char
  }
  return out
}

/** A document string as safe, one-line text: quoted, escaped, cut at SHOWN_LENGTH. */
export function quote(value: string): string {
  const cut = value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}...` : value
  return JSON.stringify(cut).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function stringMember(jwk: unknown, name: string): string | null {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return null
  const value = (jwk as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : null
}

function keyOpsMember(jwk: unknown): string[] | null {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return null
  const value = (jwk as Record<string, unknown>).key_ops
  return Array.isArray(value) && value.every((op) => typeof op === 'string') ? [...value] : null
}

// Bits of an RSA modulus as published (also for a refused key: "1024" says why at a glance).
function modulusBits(jwk: unknown): number | null {
  const n = stringMember(jwk, 'n')
  if (stringMember(jwk, 'kty') !== 'RSA' || n === null || !isCanonicalBase64url(n)) return null
  const bytes = Buffer.from(n, 'base64url')
  let start = 0
  while (start < bytes.length && bytes[start] === 0) start++
  if (start === bytes.length) return 0
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start] as number))
}

function algorithmsFor(key: VerificationKey): Algorithm[] {
  return SUPPORTED_ALGORITHMS.filter((name) => {
    const spec = algorithmSpec(name)
    return spec !== undefined && fits(key, spec)
  })
}

function rowOf(jwk: unknown, index: number, key: VerificationKey | undefined): KeyRow {
  const algorithms = key === undefined ? [] : algorithmsFor(key)
  const status: KeyStatus = key === undefined ? 'refused' : algorithms.length > 0 ? 'usable' : 'ignored'
  return {
    index,
    status,
    kid: stringMember(jwk, 'kid'),
    kty: stringMember(jwk, 'kty'),
    alg: stringMember(jwk, 'alg'),
    size: modulusBits(jwk),
    crv: stringMember(jwk, 'crv'),
    use: stringMember(jwk, 'use'),
    key_ops: keyOpsMember(jwk),
    algorithms,
  }
}

function describeKey(row: KeyRow): string {
  return row.kid === null ? `key ${row.index} (no kid)` : `key ${row.index} (kid ${quote(row.kid)})`
}

/** Pairs each listed JWK with its imported key (undefined when refused), from an imported set. */
function zipImported(count: number, keySet: KeySet): (VerificationKey | undefined)[] {
  const refused = new Set(keySet.rejected.map((r) => r.index))
  let next = 0
  return Array.from({ length: count }, (_, index) => (refused.has(index) ? undefined : keySet.keys[next++]))
}

/**
 * Each key's verdict when the library refused the document whole (more keys than it takes): the
 * same import rules, key by key, so the listing still says which keys are good.
 */
function importEach(
  keys: readonly unknown[],
  limits: KeySetLimits,
): { imported: (VerificationKey | undefined)[]; rejected: RejectedKey[] } {
  const rejected: RejectedKey[] = []
  const imported = keys.map((jwk, index) => {
    try {
      return importPublicJwk(jwk, limits)
    } catch (error) {
      if (!isJwksBridgeError(error)) throw error
      const kid = stringMember(jwk, 'kid') ?? undefined
      rejected.push({ index, kid, code: error.code, reason: error.reason ?? error.message })
      return undefined
    }
  })
  return { imported, rejected }
}

function keyProblems(rows: readonly KeyRow[], rejected: readonly RejectedKey[]): Problem[] {
  const problems: Problem[] = []
  const reasons = new Map(rejected.map((r) => [r.index, r]))
  for (const row of rows) {
    const refusal = reasons.get(row.index)
    if (refusal !== undefined) {
      problems.push({
        level: 'error',
        kind: 'key-refused',
        code: refusal.code,
        keys: [row.index],
        message: `${describeKey(row)} refused: ${refusal.reason}`,
      })
    } else if (row.status === 'ignored') {
      const why =
        row.use !== null && row.use !== 'sig'
          ? `its "use" is ${quote(row.use)}, not "sig"`
          : `its "key_ops" lack "verify"`
      problems.push({
        level: 'warning',
        kind: 'key-not-for-signatures',
        keys: [row.index],
        message: `${describeKey(row)} is never used to verify: ${why} (RFC 7517 §4.2-4.3)`,
      })
    }
  }
  const usable = rows.filter((row) => row.status === 'usable')
  for (const row of usable) {
    if (row.kid === null) {
      problems.push({
        level: 'warning',
        kind: 'missing-kid',
        keys: [row.index],
        message: `${describeKey(row)} has no "kid": it verifies only tokens without a "kid", and only while no other key fits their algorithm`,
      })
    }
  }
  problems.push(...duplicateKids(rows))
  for (const row of usable) {
    if (row.alg === null) {
      problems.push({
        level: 'info',
        kind: 'missing-alg',
        keys: [row.index],
        message: `${describeKey(row)} has no "alg": it may verify any of ${row.algorithms.join(', ')} that the verifier allows (RFC 8725 §3.1: one key, one algorithm)`,
      })
    }
    if (row.use === null) {
      problems.push({
        level: 'info',
        kind: 'missing-use',
        keys: [row.index],
        message: `${describeKey(row)} has no "use": it is accepted for signatures; "use": "sig" would say so (RFC 7517 §4.2)`,
      })
    }
  }
  return problems
}

/**
 * Keys sharing a kid. Among usable keys that both fit one algorithm, a token naming the kid is
 * refused as ambiguous (the verifier never tries several keys: RFC 7517 §4.5); otherwise the
 * duplicate is untidy but harmless.
 */
function duplicateKids(rows: readonly KeyRow[]): Problem[] {
  const byKid = new Map<string, KeyRow[]>()
  for (const row of rows) {
    if (row.kid === null) continue
    const list = byKid.get(row.kid)
    if (list) list.push(row)
    else byKid.set(row.kid, [row])
  }
  const problems: Problem[] = []
  for (const [kid, list] of byKid) {
    if (list.length < 2) continue
    const indexes = list.map((row) => row.index)
    const counts = new Map<Algorithm, number>()
    for (const row of list) for (const alg of row.algorithms) counts.set(alg, (counts.get(alg) ?? 0) + 1)
    const clashing = [...counts].filter(([, count]) => count > 1).map(([alg]) => alg)
    const shared = `kid ${quote(kid)} is shared by keys ${indexes.join(', ')}`
    problems.push(
      clashing.length > 0
        ? {
            level: 'warning',
            kind: 'duplicate-kid',
            keys: indexes,
            message: `${shared}: a token naming it is refused as ambiguous (ERR_KEY_AMBIGUOUS) for ${clashing.join(', ')}`,
          }
        : {
            level: 'info',
            kind: 'duplicate-kid',
            keys: indexes,
            message: `${shared}, but no algorithm fits two of them that jwks-bridge would use`,
          },
    )
  }
  return problems
}

/**
 * Analyses a fetched key set document. `document` is what `fetchJsonDocument` returned (a strict
 * JSON object); `limits` and `bounds` are the verifier's defaults.
 */
export function analyzeKeySet(
  document: Record<string, unknown>,
  headers: ResponseHeaders,
  limits: KeySetLimits,
  bounds: FreshnessBounds,
): KeySetReport {
  const cache = cacheReport(headers, bounds)
  const problems: Problem[] = []
  let refusal: KeySetReport['refusal']
  let rows: KeyRow[] = []
  const keys = document.keys
  let keySet: KeySet | undefined
  try {
    // The library's verdict on the document as a whole: its shape and its key count.
    keySet = importKeySet(document, limits)
  } catch (error) {
    if (!isJwksBridgeError(error, 'ERR_KEYSET_INVALID')) throw error
    refusal = { code: error.code, message: error.message }
    const tooMany = Array.isArray(keys)
    problems.push({
      level: 'error',
      kind: tooMany ? 'too-many-keys' : 'document',
      code: error.code,
      message: tooMany ? `${error.message}: jwks-bridge refuses the whole set` : error.message,
    })
  }
  if (Array.isArray(keys)) {
    const listed = keys.slice(0, MAX_LISTED_KEYS)
    const { imported, rejected } =
      keySet === undefined
        ? importEach(listed, limits)
        : { imported: zipImported(listed.length, keySet), rejected: keySet.rejected }
    rows = imported.map((key, index) => rowOf(listed[index], index, key))
    problems.push(...keyProblems(rows, rejected))
    if (keys.length > listed.length) {
      problems.push({
        level: 'info',
        kind: 'keys-not-listed',
        message: `only the first ${listed.length} of ${keys.length} keys are listed`,
      })
    }
  }
  const usableKeys = refusal === undefined ? rows.filter((row) => row.status === 'usable').length : 0
  if (refusal === undefined && usableKeys === 0) {
    refusal = { code: 'ERR_KEYSET_INVALID', message: 'the key set has no usable key' }
    problems.push({
      level: 'error',
      kind: 'no-usable-key',
      code: 'ERR_KEYSET_INVALID',
      message: 'the key set has no usable key: jwks-bridge would refuse it',
    })
  }
  problems.push(...cacheProblems(cache))
  // Errors first, then warnings, then notes; within a level, in document order (sort is stable).
  problems.sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level])
  return { keys: rows, problems, cache, usableKeys, refusal }
}
