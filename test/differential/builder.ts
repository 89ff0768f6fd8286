// Builds signed compact tokens from raw JSON member lists, so that the corpus can write what
// JSON.stringify never would: duplicate members, escaped names, `1e400`, odd bytes.
import type { KeyObject } from 'node:crypto'
import { b64u, ISSUER, NOW_SECONDS, type TestAlg } from '../helpers/tokens.ts'
import { AUDIENCE, type CorpusAlg, sign } from './keys.ts'
import type { Random } from './random.ts'

/** JSON text written verbatim (a number like `1e400`, or a name spelled with escapes). */
export class Raw {
  constructor(readonly text: string) {}
}

export type Member = [name: string | Raw, value: unknown]

export function jsonText(members: readonly Member[]): string {
  const body = members.map(([name, value]) => {
    const key = name instanceof Raw ? name.text : JSON.stringify(name)
    return `${key}:${value instanceof Raw ? value.text : JSON.stringify(value)}`
  })
  return `{${body.join(',')}}`
}

export const DROP = Symbol('drop')

/**
 * A copy of `base` with values replaced in place (or dropped with DROP); names not in `base` are
 * appended in the order given.
 */
export function edit(base: readonly Member[], changes: Record<string, unknown> = {}): Member[] {
  const out: Member[] = []
  const seen = new Set<string>()
  for (const [name, value] of base) {
    const key = name instanceof Raw ? name.text : name
    if (Object.hasOwn(changes, key)) {
      seen.add(key)
      if (changes[key] !== DROP) out.push([name, changes[key]])
    } else out.push([name, value])
  }
  for (const [key, value] of Object.entries(changes))
    if (!seen.has(key) && value !== DROP) out.push([key, value])
  return out
}

export function shuffle<T>(rng: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

const SUBJECTS = [
  'user-1',
  'ünïcødé-ßubject',
  '用户-42',
  'emoji 😀',
  'quote " and backslash \\',
  'line\u2028separator',
  'control\u0001char',
  '</script>',
]

/** A valid header for `alg`: kid most of the time, varied `typ`, member order shuffled. */
export function baseHeader(rng: Random, alg: string, kid: string): Member[] {
  const members: Member[] = [['alg', alg]]
  if (rng.chance(0.9)) members.push(['kid', kid])
  const typ = rng.pick(['JWT', 'at+jwt', 'application/jwt', 'jwt', undefined])
  if (typ !== undefined) members.push(['typ', typ])
  if (rng.chance(0.2)) members.push(['x-note', rng.pick(['a', 'ß', 42, { nested: [1, 2] }])])
  return shuffle(rng, members)
}

/** A valid claims set with varied shapes of every registered claim the policy checks. */
export function baseClaims(rng: Random): Member[] {
  const members: Member[] = [
    ['iss', ISSUER],
    ['sub', rng.pick(SUBJECTS)],
    ['aud', rng.pick([AUDIENCE, [AUDIENCE], ['other', AUDIENCE], [AUDIENCE, 'x', 'y']])],
    ['exp', rng.pick([NOW_SECONDS + 1 + rng.int(1_000_000), NOW_SECONDS + 0.5, NOW_SECONDS + 3600])],
  ]
  if (rng.chance(0.7))
    members.push(['iat', rng.pick([NOW_SECONDS - rng.int(100_000), NOW_SECONDS, NOW_SECONDS - 0.25])])
  if (rng.chance(0.3)) members.push(['nbf', rng.pick([NOW_SECONDS - rng.int(100_000), NOW_SECONDS])])
  if (rng.chance(0.4)) members.push(['jti', `id-${rng.int(1_000_000_000)}`])
  if (rng.chance(0.4)) members.push(['roles', ['admin', 'user']])
  if (rng.chance(0.3)) members.push(['ctx', { a: 1, b: [true, null, 1.5e-3], 'c d': { e: 'f' } }])
  if (rng.chance(0.2)) members.push(['big', new Raw('12345678901234567890')])
  if (rng.chance(0.2)) members.push(['email_verified', false])
  return shuffle(rng, members)
}

/** How the signature segment is produced. */
export type Signing =
  | { alg: TestAlg; key: KeyObject }
  | { custom: (signingInput: string) => string }
  | { literal: string }

export interface Assembly {
  header: string | Uint8Array
  payload: string | Uint8Array
  signing: Signing
  /** Re-spells an encoded segment before signing (the signature then covers the odd spelling). */
  respellHeader?: (segment: string) => string
  respellPayload?: (segment: string) => string
}

export function assemble(a: Assembly): string {
  let h = b64u(a.header)
  let p = b64u(a.payload)
  if (a.respellHeader) h = a.respellHeader(h)
  if (a.respellPayload) p = a.respellPayload(p)
  const input = `${h}.${p}`
  const s = a.signing
  const signature = 'literal' in s ? s.literal : 'custom' in s ? s.custom(input) : sign(s.alg, s.key, input)
  return `${input}.${signature}`
}

/** Text with `@@` replaced by raw bytes (for invalid UTF-8). */
export function withBytes(text: string, bytes: readonly number[]): Buffer {
  const [before = '', after = ''] = text.split('@@')
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)])
}

export const BOM = [0xef, 0xbb, 0xbf] as const

export function algKind(alg: CorpusAlg): 'rsa' | 'ecdsa' | 'eddsa' {
  return alg.startsWith('ES') ? 'ecdsa' : alg === 'EdDSA' ? 'eddsa' : 'rsa'
}
