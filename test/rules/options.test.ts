// Rule: options are validated eagerly, in createVerifier, with ERR_INVALID_OPTIONS: a mistake in
// configuration is a thrown error at start-up, never a verifier that quietly accepts too much or
// refuses everything later (style guide §5; RFC 8725 §3.1: the caller supplies the allowlist, and
// it can never name `none` or HS*; RFC 7518 §3.3: RSA keys of 2048 bits or more).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { createVerifier, type VerifierOptions } from '../../src/index.ts'
import { resolveVerifierOptions, VERIFIER_DEFAULTS } from '../../src/verifier/options.ts'
import { ISSUER, makeKey, signToken } from '../helpers/tokens.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import { expectAccepted, expectCode, expectThrowsCode, verifierFor } from './support.ts'

const key = makeKey('RS256')
const jwks = { keys: [key.jwk] }

/** createVerifier with `options` must throw ERR_INVALID_OPTIONS, with a message naming `mentions`. */
function refuses(options: unknown, mentions?: RegExp): void {
  const error = expectThrowsCode(() => createVerifier(options as VerifierOptions), 'ERR_INVALID_OPTIONS')
  if (mentions) assert.match(error.message, mentions)
}

describe('createVerifier validates its options eagerly (ERR_INVALID_OPTIONS)', () => {
  it('refuses options that are not an object', () => {
    refuses(undefined)
    refuses(null)
    refuses('https://issuer.example.com')
    refuses([{ issuer: ISSUER, jwks }])
  })

  it('refuses a missing, empty or non-string issuer', () => {
    refuses({ jwks }, /issuer/)
    refuses({ issuer: '', jwks }, /issuer/)
    refuses({ issuer: 42, jwks }, /issuer/)
    refuses({ issuer: [ISSUER], jwks }, /issuer/)
  })

  it('refuses algorithms that are empty, not an array, misspelled or unsupported', () => {
    for (const algorithms of [[], 'RS256', ['rs256'], ['ES256K'], ['RSA1_5'], [256], [undefined]]) {
      refuses({ issuer: ISSUER, jwks, algorithms }, /algorithms/)
    }
  })

  it('refuses HS* and none in any spelling, saying why (RFC 8725 §3.1; CVE-2015-9235)', () => {
    refuses({ issuer: ISSUER, jwks, algorithms: ['HS256'] }, /symmetric/)
    refuses({ issuer: ISSUER, jwks, algorithms: ['RS256', 'hs512'] }, /symmetric/)
    refuses({ issuer: ISSUER, jwks, algorithms: ['none'] }, /unsigned/)
    refuses({ issuer: ISSUER, jwks, algorithms: ['NONE'] }, /unsigned/)
  })

  it('refuses a negative, non-finite or non-number clockToleranceSeconds', () => {
    for (const clockToleranceSeconds of [-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      refuses({ issuer: ISSUER, jwks, clockToleranceSeconds }, /clockToleranceSeconds/)
    }
  })

  it('refuses a negative or non-number maxTokenAgeSeconds', () => {
    refuses({ issuer: ISSUER, jwks, maxTokenAgeSeconds: -1 }, /maxTokenAgeSeconds/)
    refuses({ issuer: ISSUER, jwks, maxTokenAgeSeconds: '60' }, /maxTokenAgeSeconds/)
  })

  it('refuses minRsaModulusBits below 2048 (RFC 7518 §3.3: the floor can be raised, never lowered)', () => {
    refuses({ issuer: ISSUER, jwks, minRsaModulusBits: 1024 }, /minRsaModulusBits/)
    refuses({ issuer: ISSUER, jwks, minRsaModulusBits: 2047 }, /minRsaModulusBits/)
    refuses({ issuer: ISSUER, jwks, minRsaModulusBits: 2048.5 }, /minRsaModulusBits/)
  })

  it('refuses maxRsaModulusBits below minRsaModulusBits', () => {
    refuses({ issuer: ISSUER, jwks, minRsaModulusBits: 4096, maxRsaModulusBits: 3072 }, /maxRsaModulusBits/)
  })

  it('refuses issuer together with issuers, and jwks together with issuers', () => {
    refuses({ issuer: ISSUER, jwks, issuers: [{ issuer: 'https://other.example', jwks }] })
    refuses({ jwks, issuers: [{ issuer: 'https://other.example', jwks }] })
  })

  it('refuses issuers that is empty, not an array, or holds a non-object', () => {
    refuses({ issuers: [] })
    refuses({ issuers: { issuer: ISSUER, jwks } })
    refuses({ issuers: [null] })
    refuses({ issuers: [ISSUER] })
  })

  it('refuses the same issuer listed twice', () => {
    refuses(
      {
        issuers: [
          { issuer: ISSUER, jwks },
          { issuer: ISSUER, jwks },
        ],
      },
      /twice/,
    )
  })

  it('names the issuer entry at fault in the message', () => {
    refuses(
      {
        issuers: [
          { issuer: ISSUER, jwks },
          { issuer: 'https://b.example', jwks, clockToleranceSeconds: -1 },
        ],
      },
      /issuers\[1\]\.clockToleranceSeconds/,
    )
  })

  it('refuses a nowMs, onKeyRejected, fetch or onEvent that is not a function', () => {
    refuses({ issuer: ISSUER, jwks, nowMs: 1_800_000_000_000 }, /nowMs/)
    refuses({ issuer: ISSUER, jwks, nowMs: 'Date.now' }, /nowMs/)
    refuses({ issuer: ISSUER, jwks, onKeyRejected: true }, /onKeyRejected/)
    refuses({ issuer: ISSUER, jwks, fetch: 'fetch' }, /fetch/)
    refuses({ issuer: ISSUER, jwks, onEvent: {} }, /onEvent/)
  })

  it('refuses a maxTokenLength that is not a positive integer', () => {
    for (const maxTokenLength of [0, -1, 1.5, '16384', Number.POSITIVE_INFINITY]) {
      refuses({ issuer: ISSUER, jwks, maxTokenLength }, /maxTokenLength/)
    }
  })

  it('refuses a tokenCache that is not false or { maxEntries: positive integer }', () => {
    refuses({ issuer: ISSUER, jwks, tokenCache: 'on' }, /tokenCache/)
    refuses({ issuer: ISSUER, jwks, tokenCache: { maxEntries: 0 } }, /maxEntries/)
    refuses({ issuer: ISSUER, jwks, tokenCache: { maxEntries: 2.5 } }, /maxEntries/)
  })

  it('refuses an audience that is empty or holds non-strings', () => {
    refuses({ issuer: ISSUER, jwks, audience: '' }, /audience/)
    refuses({ issuer: ISSUER, jwks, audience: [''] }, /audience/)
    refuses({ issuer: ISSUER, jwks, audience: [1] }, /audience/)
    refuses({ issuer: ISSUER, jwks, audience: 7 }, /audience/)
    // An empty list would refuse every token: a configuration mistake, caught at creation.
    refuses({ issuer: ISSUER, jwks, audience: [] }, /audience must not be empty/)
  })

  it('refuses a typ, requiredClaims, requireExp or criticalHeaders of the wrong type', () => {
    refuses({ issuer: ISSUER, jwks, typ: '' }, /typ/)
    refuses({ issuer: ISSUER, jwks, typ: 1 }, /typ/)
    refuses({ issuer: ISSUER, jwks, requiredClaims: [1] }, /requiredClaims/)
    refuses({ issuer: ISSUER, jwks, requireExp: 'no' }, /requireExp/)
    refuses({ issuer: ISSUER, jwks, criticalHeaders: [''] }, /criticalHeaders/)
  })

  it('refuses jwks that is not { keys: [...] }, and jwks given with jwksUri', () => {
    refuses({ issuer: ISSUER, jwks: [key.jwk] }, /jwks/)
    refuses({ issuer: ISSUER, jwks: {} }, /jwks/)
    refuses({ issuer: ISSUER, jwks: { keys: key.jwk } }, /jwks/)
    refuses({ issuer: ISSUER, jwks, jwksUri: `${ISSUER}/jwks.json` }, /jwksUri/)
  })

  it('refuses maxKeys that is not a positive integer, and a key set larger than maxKeys', () => {
    refuses({ issuer: ISSUER, jwks, maxKeys: 0 }, /maxKeys/)
    expectThrowsCode(
      () => createVerifier({ issuer: ISSUER, jwks: { keys: [key.jwk, key.jwk] }, maxKeys: 1 }),
      'ERR_KEYSET_INVALID',
    )
  })
})

describe('createVerifier refuses unknown option names (issue #10 defect 8, issue #13)', () => {
  const create = (options: Record<string, unknown>) => () => createVerifier(options as VerifierOptions)

  it('regression #10 defect 8: a misspelt `audiance` is refused, not a verifier that checks no audience', async () => {
    refusesUnknownOption(
      create({ issuer: ISSUER, jwks, audiance: 'my-api' }),
      'createVerifier',
      'audiance',
      'audience',
    )
    // Spelt right, the check the typo dropped: a token meant for another API is refused.
    const spelt = verifierFor([key], { audience: 'my-api' })
    await expectCode(spelt.verify(signToken(key, { aud: 'other-api' })), 'ERR_AUDIENCE_MISMATCH')
  })

  it('refuses a misspelt name even when its value is undefined', () => {
    refusesUnknownOption(
      create({ issuer: ISSUER, jwks, maxTokenAgeSecond: undefined }),
      'createVerifier',
      'maxTokenAgeSecond',
      'maxTokenAgeSeconds',
    )
  })

  it('refuses an unknown name in an issuers entry, naming the entry', () => {
    refusesUnknownOption(
      create({
        issuers: [
          { issuer: ISSUER, jwks },
          { issuer: 'https://b.example', jwks, typ_: 'at+jwt' },
        ],
      }),
      'createVerifier',
      'issuers[1].typ_',
      'issuers[1].typ',
    )
    // Options that only make sense once for the verifier are not issuer options.
    expectThrowsCode(
      create({ issuers: [{ issuer: ISSUER, jwks, tokenCache: false }] }),
      'ERR_INVALID_OPTIONS',
    )
  })

  it('refuses an unknown name in tokenCache', () => {
    refusesUnknownOption(
      create({ issuer: ISSUER, jwks, tokenCache: { maxEntires: 10 } }),
      'createVerifier',
      'tokenCache.maxEntires',
      'tokenCache.maxEntries',
    )
  })

  it('a name far from every option lists the known ones', () => {
    const error = expectThrowsCode(create({ issuer: ISSUER, jwks, colour: 'blue' }), 'ERR_INVALID_OPTIONS')
    assert.match(
      error.message,
      /^createVerifier: unknown option "colour" \(known options: algorithms, audience, /,
    )
  })
})

describe('defaults', () => {
  it('VERIFIER_DEFAULTS are what createVerifier applies when nothing is given', () => {
    const [config] = resolveVerifierOptions({ issuer: 'https://defaults.invalid' }).issuers
    const d = VERIFIER_DEFAULTS
    assert.deepEqual([...(config?.policy.algorithms ?? [])], d.algorithms)
    assert.deepEqual(config?.policy.requiredClaims, d.requireExp ? ['exp'] : [])
    assert.equal(config?.policy.clockToleranceSeconds, d.clockToleranceSeconds)
    assert.deepEqual(config?.limits, {
      minRsaModulusBits: d.minRsaModulusBits,
      maxRsaModulusBits: d.maxRsaModulusBits,
      maxKeys: d.maxKeys,
    })
    assert.deepEqual(config?.remote, {
      jwksUri: undefined,
      cacheMaxAgeMs: d.cacheMaxAgeSeconds * 1000,
      cacheMinAgeMs: d.cacheMinAgeSeconds * 1000,
      cooldownMs: d.cooldownSeconds * 1000,
      maxStaleMs: d.maxStaleSeconds * 1000,
      timeoutMs: d.timeoutMs,
      maxResponseBytes: d.maxResponseBytes,
      retryBaseMs: d.retryBaseSeconds * 1000,
      retryMaxMs: d.retryMaxSeconds * 1000,
      maxUnknownKids: d.maxUnknownKids,
    })
    const verifier = resolveVerifierOptions({ issuer: ISSUER, jwks })
    assert.equal(verifier.maxTokenLength, d.maxTokenLength)
    assert.equal(verifier.tokenCacheEntries, d.tokenCache.maxEntries)
    assert.equal(verifier.signatureThreadPool, d.signatureThreadPool)
  })

  it("docs/verifier.md's option table states VERIFIER_DEFAULTS", () => {
    const page = readFileSync(new URL('../../docs/verifier.md', import.meta.url), 'utf8')
    const shown = (value: unknown): string =>
      Array.isArray(value)
        ? `[${value.map((item) => `'${item}'`).join(', ')}]`
        : typeof value === 'object' && value !== null
          ? `{ ${Object.entries(value)
              .map(([k, v]) => `${k}: ${shown(v)}`)
              .join(', ')} }`
          : String(value)
    const table = new Map<string, string>()
    for (const [, names, values] of page.matchAll(/^\| (`[^|]+?`) +\| ([^|]+?) +\|/gm)) {
      const nameList = (names as string).split(' / ').map((name) => name.replaceAll('`', ''))
      const valueList = (values as string).split(' / ').map((value) => value.replaceAll('`', ''))
      for (const [index, name] of nameList.entries()) table.set(name, valueList[index] ?? '')
    }
    for (const [name, value] of Object.entries(VERIFIER_DEFAULTS)) {
      assert.equal(table.get(name), shown(value), `docs/verifier.md default of ${name}`)
    }
  })

  it('allows RS256 only when algorithms is not given (RFC 8725 §3.1)', async () => {
    await expectAccepted(verifierFor([key]).verify(signToken(key)))
    const ps = makeKey('PS256')
    await expectCode(verifierFor([ps]).verify(signToken(ps)), 'ERR_ALG_NOT_ALLOWED')
  })

  it('returns a verifier whose issuers list the configured issuers', () => {
    assert.deepEqual(verifierFor([key]).issuers, [ISSUER])
  })
})
