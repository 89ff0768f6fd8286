import { isUtf8 } from 'node:buffer'
import { JwksBridgeError } from '../errors.js'

export type JsonObject = { [member: string]: unknown }

/** Nesting deeper than this is refused: no JOSE header or claims set needs it (RFC 7518 §8.6 spirit). */
export const MAX_JSON_DEPTH = 64

/**
 * Parses the decoded bytes of a header or claims set: strict UTF-8 (no BOM, no invalid sequences),
 * a JSON object at the top, no duplicate member names at any depth.
 *
 * Why duplicates are refused: JSON.parse keeps the last one, other parsers the first; a token read
 * differently by a gateway and by us is a verification bypass (RFC 7515 §4, RFC 8725 §3.7).
 */
export function parseJsonObject(bytes: Uint8Array, part: string): JsonObject {
  const text = decodeUtf8(bytes, part)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new JwksBridgeError('ERR_JSON_INVALID', `${part} is not valid JSON`, { reason: part })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwksBridgeError('ERR_JSON_INVALID', `${part} is not a JSON object`, { reason: part })
  }
  assertNoDuplicateMembers(text, value, part)
  return value as JsonObject
}

function decodeUtf8(bytes: Uint8Array, part: string): string {
  // A BOM is not part of JSON text in a JOSE object (RFC 8259 §8.1: MUST NOT add one).
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new JwksBridgeError('ERR_UTF8_INVALID', `${part} starts with a byte order mark`, { reason: part })
  }
  // isUtf8 is strict: overlong forms, surrogates and truncated sequences are all refused (RFC 8725 §3.7).
  if (!isUtf8(bytes))
    throw new JwksBridgeError('ERR_UTF8_INVALID', `${part} is not valid UTF-8`, { reason: part })
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

const BACKSLASH = 0x5c
const COLON = 0x3a

/** Index of the quote that closes a string starting at `start`, in text JSON.parse accepted. */
function closingQuote(text: string, start: number): number {
  let i = text.indexOf('"', start)
  for (;;) {
    let backslashes = 0
    while (text.charCodeAt(i - 1 - backslashes) === BACKSLASH) backslashes++
    if ((backslashes & 1) === 0) return i
    i = text.indexOf('"', i + 1)
  }
}

/**
 * Throws on a duplicate member name anywhere in `text` (compared after unescaping, so `"a"` and
 * `"\u0061"` collide), or on nesting past MAX_JSON_DEPTH. `value` is what JSON.parse made of `text`.
 *
 * How: JSON.parse merges duplicate names (the last one wins), so the parsed value has fewer members
 * than the text has member names exactly when some object repeats a name. Counting both is cheaper
 * than collecting names into sets, and it compares names exactly as JSON.parse does.
 */
export function assertNoDuplicateMembers(text: string, value: unknown, part: string): void {
  if (countMembers(value, 0, part) !== countMemberNames(text)) {
    throw new JwksBridgeError('ERR_JSON_DUPLICATE_MEMBER', `${part} has a duplicate member name`, {
      reason: part,
    })
  }
}

/** Members of every object in a parsed JSON value, at any depth. */
function countMembers(value: unknown, depth: number, part: string): number {
  if (typeof value !== 'object' || value === null) return 0
  if (depth >= MAX_JSON_DEPTH) {
    throw new JwksBridgeError('ERR_JSON_INVALID', `${part} is nested too deeply`, { reason: part })
  }
  let count = 0
  if (Array.isArray(value)) {
    for (const item of value) count += countMembers(item, depth + 1, part)
    return count
  }
  const record = value as Record<string, unknown>
  // JSON.parse makes own, enumerable data properties only (`__proto__` included), so for-in sees
  // exactly the members it kept.
  for (const name in record) count += 1 + countMembers(record[name], depth + 1, part)
  return count
}

/** Member names written in JSON text that JSON.parse accepted: strings followed by a colon. */
function countMemberNames(text: string): number {
  let count = 0
  let i = text.indexOf('"')
  while (i !== -1) {
    let j = closingQuote(text, i + 1) + 1
    let c = text.charCodeAt(j)
    // JSON whitespace: space, tab, line feed, carriage return.
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = text.charCodeAt(++j)
    if (c === COLON) count++
    i = text.indexOf('"', j)
  }
  return count
}
