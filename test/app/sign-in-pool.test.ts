// The reference app checks sign-in signatures with signatureThreadPool 'auto' (src/app/server.ts,
// docs/verifier.md): ES256 on libuv's thread pool, RS256 on the event loop. Sign-ins through its real
// routes against a test issuer served on 127.0.0.1, with the process's count of pool verifications
// read around them (the app runs in this process), and the answers a sign-in must give either way.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTestIssuer, type ServedTestIssuer, type TestIssuer } from '../../src/testing/index.ts'
import { signaturePool } from '../../src/verifier/signature-pool.ts'
import { codeOf, cookieFrom, csrfFor, handoff, SESSION_COOKIE } from '../ops/http.ts'
import { startTestApp, type TestApp } from './app-fixture.ts'

interface Setup {
  issuer: TestIssuer
  served: ServedTestIssuer
  app: TestApp
}

async function setUp(alg: 'ES256' | 'RS256'): Promise<Setup> {
  const issuer = createTestIssuer({ alg })
  const served = await issuer.serve()
  try {
    const app = await startTestApp({ ISSUER_URL: served.issuer, JWKS_URI: served.jwksUri, ALGORITHMS: alg })
    return { issuer, served, app }
  } catch (error) {
    await served.close()
    throw error
  }
}

describe('reference app: sign-in signatures and the thread pool', () => {
  const setups: Partial<Record<'ES256' | 'RS256', Setup>> = {}

  before(async () => {
    const started = await Promise.allSettled([setUp('ES256'), setUp('RS256')])
    if (started[0].status === 'fulfilled') setups.ES256 = started[0].value
    if (started[1].status === 'fulfilled') setups.RS256 = started[1].value
    for (const s of started) if (s.status === 'rejected') throw s.reason
  })
  after(async () => {
    for (const setup of Object.values(setups)) {
      await setup.app.close()
      await setup.served.close()
    }
  })

  it('ES256 sign-ins are checked on the pool, with the answers of inline checks: sessions, replays and forgeries refused', async () => {
    const { issuer, served, app } = setups.ES256 as Setup
    const before = signaturePool.handedOff
    const tokens = Array.from({ length: 8 }, (_, i) => issuer.sign({ sub: `user-${i}` }))
    const answers = await Promise.all(
      tokens.map(async (jwt) => handoff(app.url, jwt, await csrfFor(app.url))),
    )
    for (const answer of answers) {
      assert.equal(answer.status, 204, answer.text)
      assert.ok(cookieFrom(answer, SESSION_COOKIE))
    }
    assert.equal(app.rows('sessions'), 8)
    const replay = await handoff(app.url, tokens[0] as string, await csrfFor(app.url))
    assert.equal(replay.status, 401)
    assert.equal(codeOf(replay), 'ERR_TOKEN_REPLAYED')
    // Signed by another key under the issuer's kid: it fails at the signature, and only there.
    const impostor = createTestIssuer({ alg: 'ES256', issuer: served.issuer })
    const forged = impostor.sign({ sub: 'mallory' }, { kid: issuer.kid })
    const refused = await handoff(app.url, forged, await csrfFor(app.url))
    assert.equal(refused.status, 401)
    assert.equal(codeOf(refused), 'ERR_SIGNATURE_INVALID')
    assert.equal(app.rows('sessions'), 8)
    // Ten signatures checked, every one on the pool, and every place given back.
    assert.equal(signaturePool.handedOff - before, 10)
    assert.equal(signaturePool.inFlight, 0)
  })

  it('RS256 sign-ins are checked on the event loop', async () => {
    const { issuer, app } = setups.RS256 as Setup
    const before = signaturePool.handedOff
    const answer = await handoff(app.url, issuer.sign({ sub: 'user-rsa' }), await csrfFor(app.url))
    assert.equal(answer.status, 204, answer.text)
    assert.equal(signaturePool.handedOff, before)
  })
})
