// signatureThreadPool moves OpenSSL's work to libuv's thread pool; it must change nothing else. Over
// the differential corpus (valid tokens and every mutation: bad signatures, wrong lengths, R or S out
// of range, DER-encoded ECDSA, PSS salts, wrong keys), the pool and inline verifiers give the same
// answer, token by token: accepted, or refused with the same code and claim.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createVerifier, type Verifier } from '../../src/index.ts'
import { fixedClock, ISSUER } from '../helpers/tokens.ts'
import { buildCorpus } from './corpus.ts'
import {
  ALGORITHMS,
  AUDIENCE,
  buildKeys,
  type ContextName,
  INHERITED_CRIT,
  REQUIRED_TYP,
  UNDERSTOOD_CRIT,
} from './keys.ts'

const SEED = Number(process.env.DIFF_SEED ?? 0x5eed2026)

const outcome = (verifier: Verifier, token: string): Promise<string> =>
  verifier.verify(token).then(
    () => 'accepted',
    (error: unknown) =>
      isJwksBridgeError(error)
        ? `${error.code}${error.claim ? `(${error.claim})` : ''}`
        : 'not a JwksBridgeError',
  )

describe('signatureThreadPool', () => {
  it('decides every token of the differential corpus exactly as inline verification does', async () => {
    const keys = buildKeys()
    const corpus = buildCorpus(keys, SEED)
    const verifiers = new Map<ContextName, { inline: Verifier; pool: Verifier }>()
    for (const name of ['main', 'weak', 'typ'] as const) {
      const make = (signatureThreadPool: boolean) =>
        createVerifier({
          issuer: ISSUER,
          jwks: keys.jwks[name],
          algorithms: [...ALGORITHMS],
          audience: AUDIENCE,
          criticalHeaders: [UNDERSTOOD_CRIT, INHERITED_CRIT],
          ...(name === 'typ' ? { typ: REQUIRED_TYP } : {}),
          nowMs: fixedClock(),
          tokenCache: false,
          signatureThreadPool,
        })
      verifiers.set(name, { inline: make(false), pool: make(true) })
    }
    const differing: string[] = []
    let accepted = 0
    let signatureRefusals = 0
    // In slices, concurrently: the pool's callbacks interleave as they would under load.
    for (let i = 0; i < corpus.length; i += 64) {
      await Promise.all(
        corpus.slice(i, i + 64).map(async (c) => {
          const pair = verifiers.get(c.context)
          assert.ok(pair)
          const [inline, pool] = await Promise.all([
            outcome(pair.inline, c.token),
            outcome(pair.pool, c.token),
          ])
          if (inline === 'accepted') accepted++
          if (inline === 'ERR_SIGNATURE_INVALID') signatureRefusals++
          if (inline !== pool)
            differing.push(`${c.kind}/${c.alg}/${c.context}: inline=${inline} pool=${pool}`)
        }),
      )
    }
    assert.deepEqual(differing.slice(0, 15), [])
    // The corpus exercises both answers of the signature check, or this would prove little.
    assert.ok(accepted > 100, `accepted ${accepted}`)
    assert.ok(signatureRefusals > 100, `signature refusals ${signatureRefusals}`)
  })

  it('is refused unless a boolean', () => {
    const jwks = buildKeys().jwks.main
    assert.doesNotThrow(() => createVerifier({ issuer: ISSUER, jwks, signatureThreadPool: true }).close())
    assert.throws(
      () => createVerifier({ issuer: ISSUER, jwks, signatureThreadPool: 'yes' as unknown as boolean }),
      (error: unknown) =>
        isJwksBridgeError(error, 'ERR_INVALID_OPTIONS') && /signatureThreadPool/.test(error.message),
    )
  })
})
