// Pure string edits on base64url segments and compact tokens, used to build the mutated corpus.
import type { Random } from './random.ts'

export const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Characters that are not base64url but that lenient decoders skip or translate. */
export const ODD_CHARS = ['=', ' ', '\n', '\t', '\r', '+', '/', '%', '.', '*', 'é', '\u0000'] as const

export type Part = 'header' | 'payload' | 'signature'
export const PARTS: readonly Part[] = ['header', 'payload', 'signature']

export function splitToken(token: string): [string, string, string] {
  const [h = '', p = '', s = ''] = token.split('.')
  return [h, p, s]
}

export function partIndex(part: Part): 0 | 1 | 2 {
  return part === 'header' ? 0 : part === 'payload' ? 1 : 2
}

/** Replaces one segment of a three-segment token. */
export function withSegment(token: string, part: Part, segment: string): string {
  const segments = splitToken(token)
  segments[partIndex(part)] = segment
  return segments.join('.')
}

export function replaceAt(text: string, index: number, replacement: string): string {
  return text.slice(0, index) + replacement + text.slice(index + 1)
}

export function insertAt(text: string, index: number, insertion: string): string {
  return text.slice(0, index) + insertion + text.slice(index)
}

/** A different base64url character for position `index`. */
export function flipChar(rng: Random, segment: string, index: number): string {
  const current = segment[index]
  let next = rng.pick([...ALPHABET])
  while (next === current) next = rng.pick([...ALPHABET])
  return replaceAt(segment, index, next)
}

/** Number of unused low bits in the last character of a canonical segment (0, 2 or 4). */
export function unusedBits(segment: string): 0 | 2 | 4 {
  const rest = segment.length % 4
  return rest === 2 ? 4 : rest === 3 ? 2 : 0
}

/**
 * The same bytes spelled with non-zero unused bits in the last character, or undefined when the
 * segment has no unused bits. Lenient decoders drop those bits, so they read the same bytes.
 */
export function respellUnusedBits(rng: Random, segment: string): string | undefined {
  const bits = unusedBits(segment)
  if (bits === 0) return undefined
  const mask = (1 << bits) - 1
  const value = ALPHABET.indexOf(segment[segment.length - 1] as string)
  const spelled = (value & ~mask) | (1 + rng.int(mask))
  return segment.slice(0, -1) + ALPHABET[spelled]
}

/** `=` padding up to a multiple of four characters (the base64 spelling, not base64url's). */
export function padded(segment: string): string {
  return segment + '='.repeat((4 - (segment.length % 4)) % 4 || 2)
}

/** The segment with a whitespace character inside or at one end. */
export function withWhitespace(rng: Random, segment: string): string {
  const space = rng.pick([' ', '\n', '\t', '\r\n'])
  const where = rng.pick(['start', 'middle', 'end'] as const)
  if (where === 'start') return space + segment
  if (where === 'end') return segment + space
  return insertAt(segment, 1 + rng.int(segment.length - 1), space)
}

/** Toggles the case of one letter of the segment, or undefined when it has none. */
export function toggleCase(rng: Random, segment: string): string | undefined {
  const letters = [...segment].flatMap((c, i) => (/[A-Za-z]/.test(c) ? [i] : []))
  if (letters.length === 0) return undefined
  const i = rng.pick(letters)
  const c = segment[i] as string
  return replaceAt(segment, i, c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())
}
