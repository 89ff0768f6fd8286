import { JwksBridgeError } from '../errors.js'

// Value of each base64url character, or -1. Only the URL-safe alphabet, no padding.
const VALUES = new Int8Array(128).fill(-1)
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i

/**
 * True when `input[start, end)` is the canonical base64url spelling of some bytes: alphabet only,
 * no padding or whitespace, a length that is not 1 mod 4, and zero unused bits in the last character.
 *
 * Why canonical only: otherwise one signed token has many spellings (`==`, a space, flipped unused
 * bits), which defeats any revocation or replay list keyed on the token (PyJWT GHSA-hxm8-2xgr-2p9m,
 * Wycheproof base64 group 357-377).
 */
export function isCanonicalBase64url(input: string, start = 0, end = input.length): boolean {
  const segment = start === 0 && end === input.length ? input : input.slice(start, end)
  return ALPHABET_ONLY.test(segment) && hasCanonicalEnd(input, start, end)
}

const ALPHABET_ONLY = /^[A-Za-z0-9_-]*$/

/**
 * The length and last-character rules of canonical base64url, for a range already known to hold
 * only alphabet characters: the length is not 1 mod 4, and the unused low bits of the last
 * character are zero.
 */
export function hasCanonicalEnd(input: string, start: number, end: number): boolean {
  const rest = (end - start) & 3
  if (rest === 0) return true
  if (rest === 1) return false
  const last = VALUES[input.charCodeAt(end - 1)] as number
  // 2 chars carry 8 bits (4 unused), 3 chars carry 16 bits (2 unused).
  return rest === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0
}

/** Decodes canonical base64url or throws ERR_BASE64URL_INVALID naming `part`. */
export function decodeBase64url(input: string, part: string): Buffer {
  if (!isCanonicalBase64url(input)) {
    throw new JwksBridgeError('ERR_BASE64URL_INVALID', `${part} is not canonical base64url`, { reason: part })
  }
  return Buffer.from(input, 'base64url')
}

export function encodeBase64url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64url')
}
