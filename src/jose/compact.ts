import { JwksBridgeError } from '../errors.js'
import { hasCanonicalEnd, isCanonicalBase64url } from './base64url.js'
import { type JsonObject, parseJsonObject } from './json.js'

/** Positions of the two dots in a compact JWS that passed the structural checks. */
export interface CompactToken {
  readonly token: string
  readonly firstDot: number
  readonly secondDot: number
}

/** Default cap on a token's length, in characters, checked before any decoding (RFC 8725bis D6). */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024

/**
 * Structural checks, cheapest first and before any decoding: a string no longer than the cap,
 * exactly three non-empty segments (a JWE has five, JSON serialization has none: RFC 8725bis
 * "Check JWT Format Type"), and each segment canonical base64url.
 *
 * `allowEmptyPayload` is for plain JWS only: RFC 7515 lets the payload be any octet sequence,
 * including the empty one (`header..signature`). A JWT never has an empty payload (its claims set
 * is a JSON object), so the JWT path leaves it off.
 */
export function splitCompact(
  token: unknown,
  maxTokenLength: number,
  allowEmptyPayload = false,
): CompactToken {
  if (typeof token !== 'string') throw new JwksBridgeError('ERR_TOKEN_TYPE', 'the token is not a string')
  if (token.length > maxTokenLength) {
    throw new JwksBridgeError('ERR_TOKEN_TOO_LONG', `the token is longer than ${maxTokenLength} characters`)
  }
  // Fast path: one native regex pass settles the shape and alphabet of a well-formed token.
  if (COMPACT_SHAPE.test(token)) {
    const firstDot = token.indexOf('.')
    const secondDot = token.indexOf('.', firstDot + 1)
    if (
      hasCanonicalEnd(token, 0, firstDot) &&
      hasCanonicalEnd(token, firstDot + 1, secondDot) &&
      hasCanonicalEnd(token, secondDot + 1, token.length)
    ) {
      return { token, firstDot, secondDot }
    }
  }
  return diagnose(token, allowEmptyPayload)
}

const COMPACT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * The two commonest ways an app hands over a good token badly: the whole Authorization header value,
 * or a line read from a file or `echo`. Said in words, never by quoting the token.
 */
function handlingHint(token: string): string {
  if (/^\s*bearer\s/i.test(token)) {
    return ' (the token starts with "Bearer ": pass the token alone, without the Authorization scheme)'
  }
  if (/^\s|\s$/.test(token)) {
    return ' (the token has leading or trailing whitespace, such as a newline from a file or echo: trim it)'
  }
  return ''
}

/** Slow path for a token that failed the fast check: finds which rule it breaks. */
function diagnose(token: string, allowEmptyPayload: boolean): CompactToken {
  const hint = handlingHint(token)
  const firstDot = token.indexOf('.')
  const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1)
  if (secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) {
    throw new JwksBridgeError('ERR_TOKEN_MALFORMED', `the token does not have exactly three segments${hint}`)
  }
  const refusedEmptyPayload = secondDot === firstDot + 1 && !allowEmptyPayload
  if (firstDot === 0 || refusedEmptyPayload || secondDot === token.length - 1) {
    throw new JwksBridgeError('ERR_TOKEN_MALFORMED', `the token has an empty segment${hint}`)
  }
  checkSegment(token, 0, firstDot, 'header', hint)
  checkSegment(token, firstDot + 1, secondDot, 'payload', hint)
  checkSegment(token, secondDot + 1, token.length, 'signature', hint)
  return { token, firstDot, secondDot }
}

function checkSegment(token: string, start: number, end: number, part: string, hint: string): void {
  if (!isCanonicalBase64url(token, start, end)) {
    throw new JwksBridgeError(
      'ERR_BASE64URL_INVALID',
      `the ${part} segment is not canonical base64url${hint}`,
      {
        reason: part,
      },
    )
  }
}

// Scratch space for the bytes of one verification. Verification is synchronous from the moment
// these are written until crypto.verify and JSON parsing return, and JavaScript runs one thing at a
// time, so reusing them is safe and spares the allocator and the GC on the hot path. Nothing read
// from them outlives the call (strings are copies).
let inputScratch: Buffer = Buffer.allocUnsafeSlow(DEFAULT_MAX_TOKEN_LENGTH)
let bytesScratch: Buffer = Buffer.allocUnsafeSlow(DEFAULT_MAX_TOKEN_LENGTH)

function scratchFor(current: Buffer, length: number): Buffer {
  return current.length >= length ? current : Buffer.allocUnsafeSlow(length)
}

/** Decodes one segment into scratch space; valid until the next call. */
function decodeSegment(token: string, start: number, end: number): Buffer {
  bytesScratch = scratchFor(bytesScratch, end - start)
  const written = bytesScratch.write(token.slice(start, end), 'base64url')
  return bytesScratch.subarray(0, written)
}

export function decodeHeader(compact: CompactToken): JsonObject {
  return parseJsonObject(decodeSegment(compact.token, 0, compact.firstDot), 'header')
}

export function decodePayload(compact: CompactToken): JsonObject {
  return parseJsonObject(decodeSegment(compact.token, compact.firstDot + 1, compact.secondDot), 'claims set')
}

/** The JWS signing input (ASCII header.payload) in scratch space; valid until the next call. */
export function signingInput(compact: CompactToken): Buffer {
  inputScratch = scratchFor(inputScratch, compact.secondDot)
  const written = inputScratch.write(compact.token, 0, compact.secondDot, 'latin1')
  return inputScratch.subarray(0, written)
}

/** The signature bytes in scratch space; valid until the next call. */
export function signatureBytes(compact: CompactToken): Buffer {
  return decodeSegment(compact.token, compact.secondDot + 1, compact.token.length)
}
