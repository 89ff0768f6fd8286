// signatureThreadPool moves OpenSSL's work to libuv's thread pool; it must change nothing else. Over
// the differential corpus (valid tokens and every mutation: bad signatures, wrong lengths, R or S out
// of range, DER-encoded ECDSA, PSS salts, wrong keys), the pool (`true`), adaptive (`'auto'`) and
// inline verifiers give the same answer, token by token: accepted, or refused with the same code and
// claim. Then where `'auto'` sends each signature, seen without timing anything: a verification on the
// event loop has settled once the microtasks queued with it have run; one on the pool cannot settle
// before the loop turns, whatever the machine's speed.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createResourceServer, createVerifier, type Verifier } from '../../src/index.ts'
import { SUPPORTED_ALGORITHMS } from '../../src/jose/algorithms.ts'
import { JOBS_PER_POOL_THREAD, libuvPoolThreads, signaturePool } from '../../src/verifier/signature-pool.ts'
import { fixedClock, ISSUER, makeKey, signToken, type TestAlg } from '../helpers/tokens.ts'
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

type Mode = false | true | 'auto'
const MODES: readonly Mode[] = [false, true, 'auto']

describe('signatureThreadPool', () => {
  it('false, true and "auto" decide every token of the differential corpus alike', async () => {
    const keys = buildKeys()
    const corpus = buildCorpus(keys, SEED)
    const verifiers = new Map<ContextName, Map<Mode, Verifier>>()
    for (const name of ['main', 'weak', 'typ'] as const) {
      const make = (signatureThreadPool: Mode) =>
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
      verifiers.set(name, new Map(MODES.map((mode) => [mode, make(mode)])))
    }
    const differing: string[] = []
    let accepted = 0
    let signatureRefusals = 0
    // In slices, concurrently: the pool's callbacks interleave as they would under load, and "auto"
    // meets a full pool (the `true` verifier's work counts too), so it takes both of its paths.
    for (let i = 0; i < corpus.length; i += 64) {
      await Promise.all(
        corpus.slice(i, i + 64).map(async (c) => {
          const byMode = verifiers.get(c.context)
          assert.ok(byMode)
          const [inline, pool, auto] = await Promise.all(
            MODES.map((mode) => outcome(byMode.get(mode) as Verifier, c.token)),
          )
          if (inline === 'accepted') accepted++
          if (inline === 'ERR_SIGNATURE_INVALID') signatureRefusals++
          if (inline !== pool || inline !== auto)
            differing.push(`${c.kind}/${c.alg}/${c.context}: inline=${inline} pool=${pool} auto=${auto}`)
        }),
      )
    }
    assert.deepEqual(differing.slice(0, 15), [])
    // The corpus exercises both answers of the signature check, or this would prove little.
    assert.ok(accepted > 100, `accepted ${accepted}`)
    assert.ok(signatureRefusals > 100, `signature refusals ${signatureRefusals}`)
    assert.equal(signaturePool.inFlight, 0, 'every pool verification released its place')
  })

  it('is refused unless false, true or "auto", naming the accepted values', () => {
    const jwks = buildKeys().jwks.main
    for (const mode of MODES)
      assert.doesNotThrow(() => createVerifier({ issuer: ISSUER, jwks, signatureThreadPool: mode }).close())
    for (const bad of ['yes', 'Auto', 'true', 1, 0, null]) {
      assert.throws(
        () => createVerifier({ issuer: ISSUER, jwks, signatureThreadPool: bad as unknown as Mode }),
        (error: unknown) =>
          isJwksBridgeError(error, 'ERR_INVALID_OPTIONS') &&
          error.message === 'createVerifier: signatureThreadPool must be one of false, true, "auto"',
        JSON.stringify(bad),
      )
    }
    // The resource server passes it through to its verifier, checks and all.
    const resource = { resource: 'https://api.example.com', issuer: ISSUER, jwks }
    assert.doesNotThrow(() => createResourceServer({ ...resource, signatureThreadPool: 'auto' }).close())
    assert.throws(
      () => createResourceServer({ ...resource, signatureThreadPool: 'always' as unknown as Mode }),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )
  })
})

// Every algorithm the verifier supports, so that one added later is checked here too.
const ALL_ALGS = SUPPORTED_ALGORITHMS as readonly TestAlg[]
/** Where "auto" checks each algorithm: RSA inline (cheap there), ECDSA and EdDSA on the pool. */
const AUTO_OFFLOADS = (alg: TestAlg) => !alg.startsWith('RS') && !alg.startsWith('PS')

function verifierFor(alg: TestAlg, signatureThreadPool: Mode): { verifier: Verifier; token: () => string } {
  const key = makeKey(alg)
  const verifier = createVerifier({
    issuer: ISSUER,
    jwks: { keys: [key.jwk] },
    algorithms: [alg],
    nowMs: fixedClock(),
    // Every call verifies: a cached result would settle at once whatever the mode.
    tokenCache: false,
    signatureThreadPool,
  })
  let n = 0
  return { verifier, token: () => signToken(key, { jti: `t${n++}` }) }
}

/** Starts a verification and tells whether it settled before the event loop could turn. */
async function settlesWithoutTheLoop(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  // A chain of microtasks: the loop cannot run a thread pool callback until it ends.
  for (let i = 0; i < 50; i++) await Promise.resolve()
  return settled
}

/** A token whose signature has one bit flipped (same length: it reaches OpenSSL). */
function flipped(token: string): string {
  const dot = token.lastIndexOf('.')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  signature[signature.length - 1] = (signature[signature.length - 1] as number) ^ 1
  return `${token.slice(0, dot + 1)}${signature.toString('base64url')}`
}

describe('signatureThreadPool: "auto"', () => {
  it('sizes itself as libuv sizes its pool from UV_THREADPOOL_SIZE', () => {
    assert.equal(libuvPoolThreads(undefined), 4)
    assert.equal(libuvPoolThreads('8'), 8)
    assert.equal(libuvPoolThreads(' 16 threads'), 16)
    assert.equal(libuvPoolThreads('0'), 1)
    assert.equal(libuvPoolThreads(''), 1)
    assert.equal(libuvPoolThreads('many'), 1)
    assert.equal(libuvPoolThreads('5000'), 1024)
    assert.equal(libuvPoolThreads('-2'), 1024)
    assert.equal(
      signaturePool.capacity,
      libuvPoolThreads(process.env.UV_THREADPOOL_SIZE) * JOBS_PER_POOL_THREAD,
    )
  })

  for (const alg of ALL_ALGS) {
    const where = AUTO_OFFLOADS(alg) ? 'on the thread pool' : 'on the event loop'
    it(`checks ${alg} signatures ${where}, with the answers of inline verification`, async () => {
      const auto = verifierFor(alg, 'auto')
      const inline = verifierFor(alg, false)
      const good = auto.token()
      const bad = flipped(good)
      assert.equal(signaturePool.inFlight, 0)
      const verifying = auto.verifier.verify(good)
      assert.equal(signaturePool.inFlight, AUTO_OFFLOADS(alg) ? 1 : 0)
      assert.equal(await settlesWithoutTheLoop(verifying), !AUTO_OFFLOADS(alg))
      assert.deepEqual(await verifying, await inline.verifier.verify(good))
      assert.equal(await outcome(auto.verifier, bad), 'ERR_SIGNATURE_INVALID')
      assert.equal(await outcome(inline.verifier, bad), 'ERR_SIGNATURE_INVALID')
      // A refusal gives its place back too.
      assert.equal(signaturePool.inFlight, 0)
    })
  }

  it('checks inline once the pool holds its capacity of verifications', async () => {
    const { verifier, token } = verifierFor('ES256', 'auto')
    const onPool = Array.from({ length: signaturePool.capacity }, () => verifier.verify(token()))
    assert.equal(signaturePool.inFlight, signaturePool.capacity)
    // The pool is full: this one is checked on the loop rather than queued behind the others.
    assert.equal(await settlesWithoutTheLoop(verifier.verify(token())), true)
    for (const pending of onPool) assert.equal(await settlesWithoutTheLoop(pending), false)
    await Promise.all(onPool)
    assert.equal(signaturePool.inFlight, 0)
    // Room again: the next one goes to the pool.
    const next = verifier.verify(token())
    assert.equal(signaturePool.inFlight, 1)
    assert.equal(await settlesWithoutTheLoop(next), false)
    await next
    assert.equal(signaturePool.inFlight, 0)
  })

  it('counts every verifier\'s pool work: true fills the pool and "auto" stays inline', async () => {
    const always = verifierFor('RS256', true)
    const auto = verifierFor('EdDSA', 'auto')
    const onPool = Array.from({ length: signaturePool.capacity }, () =>
      always.verifier.verify(always.token()),
    )
    assert.equal(signaturePool.inFlight, signaturePool.capacity)
    assert.equal(await settlesWithoutTheLoop(auto.verifier.verify(auto.token())), true)
    // true keeps its meaning: RSA on the pool even when it is full.
    const extra = always.verifier.verify(always.token())
    assert.equal(await settlesWithoutTheLoop(extra), false)
    await Promise.all([...onPool, extra])
    assert.equal(signaturePool.inFlight, 0)
  })

  it('false keeps even ECDSA and EdDSA on the event loop', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const { verifier, token } = verifierFor(alg, false)
      assert.equal(await settlesWithoutTheLoop(verifier.verify(token())), true)
      assert.equal(signaturePool.inFlight, 0)
    }
  })
})
