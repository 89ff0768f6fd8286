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
  assertNoDuplicateMembers(text, part)
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

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

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
 * Scans JSON text that JSON.parse has already accepted and throws on a duplicate member name
 * (compared after unescaping, so `"a"` and `"\u0061"` collide) or on nesting past MAX_JSON_DEPTH.
 */
export function assertNoDuplicateMembers(text: string, part: string): void {
  // One entry per open container: a Set of member names for objects, null for arrays.
  const stack: (Set<string> | null)[] = []
  let expectKey = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i + 1
      i = closingQuote(text, start)
      if (expectKey) {
        const raw = text.slice(start, i)
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw
        const members = stack[stack.length - 1] as Set<string>
        if (members.has(name)) {
          throw new JwksBridgeError('ERR_JSON_DUPLICATE_MEMBER', `${part} has a duplicate member name`, {
            reason: part,
          })
        }
        members.add(name)
        expectKey = false
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length >= MAX_JSON_DEPTH) {
        throw new JwksBridgeError('ERR_JSON_INVALID', `${part} is nested too deeply`, { reason: part })
      }
      const isObject = c === OPEN_OBJECT
      stack.push(isObject ? new Set() : null)
      expectKey = isObject
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop()
      expectKey = false
    } else if (c === COMMA) {
      expectKey = stack[stack.length - 1] != null
    }
  }
}
