// The differential corpus: valid tokens with varied claims, raw byte mutations of them, re-signed
// spelling mutations, re-signed semantic mutations, signature re-encodings, and two special key
// set contexts. Deterministic for a given seed.
import { b64u } from '../helpers/tokens.ts'
import { assemble, baseClaims, DROP, jsonText } from './builder.ts'
import {
  CORPUS_ALGS,
  type ContextName,
  type CorpusAlg,
  forgeE1Signature,
  type Keys,
  REQUIRED_TYP,
  sign,
} from './keys.ts'
import { type Random, seededRandom } from './random.ts'
import { makeCtx, SEMANTIC_CASES } from './semantic.ts'
import { signatureVariants } from './signatures.ts'
import {
  ALPHABET,
  flipChar,
  insertAt,
  ODD_CHARS,
  PARTS,
  type Part,
  padded,
  partIndex,
  respellUnusedBits,
  splitToken,
  toggleCase,
  withSegment,
  withWhitespace,
} from './spelling.ts'

export interface Case {
  /** Mutation family, e.g. `raw-flip`, `dup-claim-exp`, `valid`. Never the token. */
  kind: string
  /** The corpus algorithm of the token it was derived from. */
  alg: CorpusAlg
  context: ContextName
  /** Segment concerned, for segment-level mutations. */
  part?: Part
  /** Both libraries must accept it. */
  expectValid: boolean
  token: string
}

export interface CorpusSize {
  basesPerAlg: number
  rawPerBase: number
  semanticRounds: number
}

export const DEFAULT_SIZE: CorpusSize = { basesPerAlg: 10, rawPerBase: 10, semanticRounds: 2 }

export function buildCorpus(keys: Keys, seed: number, size: CorpusSize = DEFAULT_SIZE): Case[] {
  const rng = seededRandom(seed)
  const cases: Case[] = []
  for (const alg of CORPUS_ALGS) {
    const ctx = makeCtx(rng, alg, keys)
    const add = (kind: string, token: string, extra: Partial<Case> = {}): void => {
      cases.push({ kind, alg, context: 'main', expectValid: false, token, ...extra })
    }
    let previous: string | undefined
    for (let i = 0; i < size.basesPerAlg; i++) {
      const header = ctx.header()
      const claims = ctx.claims()
      const base = ctx.token(header, claims)
      add('valid', base, { expectValid: true })
      for (let j = 0; j < size.rawPerBase; j++) {
        const mutated = rawMutation(rng, base)
        if (mutated.token !== base) add(mutated.kind, mutated.token, { part: mutated.part })
      }
      for (const [kind, token] of structural(rng, base, previous)) add(kind, token)
      const [h0, p0] = [b64u(jsonText(header)), b64u(jsonText(claims))]
      for (const part of ['header', 'payload'] as const) {
        for (const [kind, respell] of respellings(rng)) {
          const original = part === 'header' ? h0 : p0
          const spelled = respell(original)
          // Only spellings that differ from the canonical one: the signature then covers them.
          if (spelled === original) continue
          const input = part === 'header' ? `${spelled}.${p0}` : `${h0}.${spelled}`
          add(`resigned-${kind}`, `${input}.${sign(alg, ctx.key.privateKey, input)}`, { part })
        }
      }
      const [h, p, s] = splitToken(base)
      for (const variant of signatureVariants(
        alg,
        ctx.key.privateKey,
        `${h}.${p}`,
        Buffer.from(s, 'base64url'),
      )) {
        add(variant.kind, `${h}.${p}.${variant.signature.toString('base64url')}`, {
          expectValid: variant.expectValid === true,
        })
      }
      previous = base
    }
    for (let round = 0; round < size.semanticRounds; round++) {
      for (const semantic of SEMANTIC_CASES) {
        const token = semantic.make(ctx)
        if (token !== undefined) add(semantic.kind, token, { expectValid: semantic.expectValid === true })
      }
    }
    cases.push(...typContext(rng, alg, keys))
  }
  cases.push(...weakContext(rng, keys))
  return cases
}

/** One random edit (or a few) of a valid token, without re-signing. */
function rawMutation(rng: Random, base: string): { kind: string; token: string; part?: Part } {
  const op = rng.pick(['flip', 'case', 'insert', 'delete', 'odd-char', 'truncate', 'multi'] as const)
  if (op === 'truncate') return { kind: 'raw-truncate', token: base.slice(0, rng.int(base.length)) }
  if (op === 'multi') {
    let token = base
    const edits = 2 + rng.int(3)
    for (let k = 0; k < edits; k++) {
      const i = rng.int(token.length)
      token = rng.chance(0.5) ? flipChar(rng, token, i) : insertAt(token, i, rng.pick([...ALPHABET, '.']))
    }
    return { kind: 'raw-multi', token }
  }
  const part = rng.pick(PARTS)
  const segment = splitToken(base)[partIndex(part)]
  const i = rng.int(segment.length)
  let edited: string
  switch (op) {
    case 'flip':
      edited = flipChar(rng, segment, i)
      break
    case 'case':
      edited = toggleCase(rng, segment) ?? flipChar(rng, segment, i)
      break
    case 'insert':
      edited = insertAt(segment, rng.int(segment.length + 1), rng.pick([...ALPHABET]))
      break
    case 'delete':
      edited = segment.slice(0, i) + segment.slice(i + 1)
      break
    case 'odd-char':
      edited = insertAt(segment, rng.int(segment.length + 1), rng.pick(ODD_CHARS))
      break
  }
  return { kind: `raw-${op}`, token: withSegment(base, part, edited), part }
}

/** Structural and spelling mutations of a valid token that keep its signature as is. */
function structural(rng: Random, base: string, previous: string | undefined): [string, string][] {
  const [h, p, s] = splitToken(base)
  const out: [string, string][] = [
    ['extra-segment-empty', `${base}.`],
    ['extra-segment', `${base}.${h}`],
    ['leading-dot', `.${base}`],
    ['jwe-shape', `${h}.${p}.${s}.${s}.${s}`],
    ['token-twice', `${base}.${base}`],
    ['segments-swapped', `${p}.${h}.${s}`],
    ['signature-first', `${s}.${h}.${p}`],
    ['signature-missing', `${h}.${p}`],
    ['signature-empty', `${h}.${p}.`],
    ['signature-padded', `${h}.${p}.${padded(s)}`],
    ['signature-whitespace', `${h}.${p}.${withWhitespace(rng, s)}`],
    ['token-trailing-newline', `${base}\n`],
    ['token-leading-space', ` ${base}`],
  ]
  const plusSlash = s.replaceAll('-', '+').replaceAll('_', '/')
  if (plusSlash !== s) out.push(['signature-plus-slash', `${h}.${p}.${plusSlash}`])
  const respelled = respellUnusedBits(rng, s)
  if (respelled !== undefined) out.push(['signature-unused-bits', `${h}.${p}.${respelled}`])
  if (previous !== undefined) out.push(['signature-from-other-token', `${h}.${p}.${splitToken(previous)[2]}`])
  return out
}

/** Spelling changes applied to a header or payload segment before it is signed. */
function respellings(rng: Random): [string, (segment: string) => string][] {
  return [
    ['padding', padded],
    ['whitespace', (segment) => withWhitespace(rng, segment)],
    ['unused-bits', (segment) => respellUnusedBits(rng, segment) ?? segment],
    ['plus-slash', (segment) => segment.replaceAll('-', '+').replaceAll('_', '/')],
  ]
}

/** The "typ" context requires `typ: at+jwt` (case-insensitive, `application/` optional) in both. */
function typContext(rng: Random, alg: CorpusAlg, keys: Keys): Case[] {
  const ctx = makeCtx(rng, alg, keys)
  const variants: [string, unknown, boolean][] = [
    ['typ-ctx-exact', REQUIRED_TYP, true],
    ['typ-ctx-application-prefix', `application/${REQUIRED_TYP}`, true],
    ['typ-ctx-upper-case', REQUIRED_TYP.toUpperCase(), true],
    ['typ-ctx-mixed-prefix', 'Application/At+JWT', true],
    ['typ-ctx-plain-jwt', 'JWT', false],
    ['typ-ctx-missing', undefined, false],
    ['typ-ctx-other-prefix', `text/${REQUIRED_TYP}`, false],
    ['typ-ctx-double-prefix', `application/application/${REQUIRED_TYP}`, false],
    ['typ-ctx-trailing-space', `${REQUIRED_TYP} `, false],
    ['typ-ctx-number', 1, false],
  ]
  return variants.map(([kind, typ, expectValid]) => {
    const header = ctx.header({ typ: typ === undefined ? DROP : typ })
    return { kind, alg, context: 'typ' as const, expectValid, token: ctx.token(header, ctx.claims()) }
  })
}

/**
 * The "weak" context: the set also holds an RSA key with e=1 and a 1024-bit RSA key, both of
 * which jwks-bridge skips at import and jose keeps. Every token here names its key by `kid`: a
 * kid-less RS256 token would find one candidate in jwks-bridge and three in jose (which then
 * refuses it as ambiguous), a difference in set handling rather than in token checks.
 */
function weakContext(rng: Random, keys: Keys): Case[] {
  const out: Case[] = []
  const header = (kid: string): string =>
    jsonText([
      ['alg', 'RS256'],
      ['typ', 'JWT'],
      ['kid', kid],
    ])
  for (let i = 0; i < 4; i++) {
    const claims = jsonText(baseClaims(rng))
    const e1 = assemble({
      header: header('rs-e1'),
      payload: claims,
      signing: { custom: (input) => forgeE1Signature(keys.e1ModulusBytes, input) },
    })
    const small = assemble({
      header: header('rs-1024'),
      payload: claims,
      signing: { alg: 'RS256', key: keys.rsa1024.privateKey },
    })
    const good = assemble({
      header: header('rs'),
      payload: claims,
      signing: { alg: 'RS256', key: keys.signer.RS256.privateKey },
    })
    out.push(
      { kind: 'weak-e1-forged', alg: 'RS256', context: 'weak', expectValid: false, token: e1 },
      { kind: 'weak-1024-signed', alg: 'RS256', context: 'weak', expectValid: false, token: small },
      { kind: 'weak-ctx-valid', alg: 'RS256', context: 'weak', expectValid: true, token: good },
    )
  }
  return out
}
