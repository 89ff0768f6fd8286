// needs: build
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTestIssuer } from '../../src/testing/index.ts'
import { findSample, type Issuer, type OpsApp, sample, scrape, serveIssuer, startOpsApp } from './fixture.ts'
import { codeOf, csrfFor, handoff, request, SESSION_COOKIE, signIn } from './http.ts'

const METRICS_TOKEN = 'scrape-token-0123456789abcdef'

describe('/metrics (Prometheus, prom-client, a registry per app)', () => {
  let issuer: Issuer
  let app: OpsApp
  let other: OpsApp

  before(async () => {
    issuer = await serveIssuer()
    app = await startOpsApp(issuer)
    other = await startOpsApp(issuer, { METRICS_TOKEN })
  })
  after(async () => {
    await app?.close()
    await other?.close()
    await issuer?.served.close()
  })

  it('counts verifications, key set fetches, handoffs, refusals, validations and sessions', async () => {
    const token = issuer.idp.sign({ sub: 'metrics-user' })
    const session = await signIn(app.url, token)

    // The same token again: verified (ok), then refused by the replay guard.
    const replay = await handoff(app.url, token, await csrfFor(app.url))
    assert.equal(replay.status, 401)
    assert.equal(codeOf(replay), 'ERR_TOKEN_REPLAYED')

    // Same issuer name, keys it never published: an unknown kid, one refetch, then refused.
    const impostor = createTestIssuer({ issuer: issuer.served.issuer }).sign({ sub: 'metrics-user' })
    const forged = await handoff(app.url, impostor, await csrfFor(app.url))
    assert.equal(forged.status, 401)
    assert.equal(codeOf(forged), 'ERR_KEY_NOT_FOUND')

    for (let i = 0; i < 3; i++) {
      assert.equal((await request(`${app.url}/me`, { headers: { cookie: session } })).status, 200)
    }
    const bogus = `${SESSION_COOKIE}=not-a-session`
    assert.equal((await request(`${app.url}/me`, { headers: { cookie: bogus } })).status, 401)
    // No cookie: no store round trip, not a validation.
    assert.equal((await request(`${app.url}/me`)).status, 401)

    const csrf = await csrfFor(app.url)
    const signOut = await request(`${app.url}/auth`, {
      method: 'DELETE',
      headers: { origin: app.url, 'x-csrf-token': csrf.token, cookie: `${csrf.cookie}; ${session}` },
    })
    assert.equal(signOut.status, 204)

    const text = await scrape(app.url)
    const iss = { issuer: issuer.served.issuer }

    assert.equal(sample(text, 'jwks_bridge_verifications_total', { result: 'ok' }), 2)
    assert.equal(sample(text, 'jwks_bridge_verifications_total', { result: 'ERR_KEY_NOT_FOUND' }), 1)
    assert.equal(sample(text, 'jwks_bridge_keyset_fetches_total', { ...iss, reason: 'initial' }), 1)
    assert.equal(sample(text, 'jwks_bridge_keyset_fetches_total', { ...iss, reason: 'unknown-kid' }), 1)
    assert.equal(sample(text, 'jwks_bridge_keyset_keys', iss), 1)
    assert.equal(sample(text, 'jwks_bridge_keyset_consecutive_failures', iss), 0)
    const age = sample(text, 'jwks_bridge_keyset_age_seconds', iss)
    assert.ok(age >= 0 && age < 60, 'the key set is seconds old')
    assert.equal(sample(text, 'jwks_bridge_keyset_stale_serves_total', iss), 0)

    assert.equal(sample(text, 'jwks_bridge_handoffs_total', { status: '204' }), 1)
    assert.equal(sample(text, 'jwks_bridge_handoffs_total', { status: '401' }), 2)
    assert.equal(sample(text, 'jwks_bridge_handoff_duration_seconds_count', { status: '204' }), 1)
    assert.equal(
      sample(text, 'jwks_bridge_handoff_duration_seconds_bucket', { status: '204', le: '+Inf' }),
      1,
    )
    assert.ok(sample(text, 'jwks_bridge_handoff_duration_seconds_sum', { status: '204' }) > 0)
    assert.equal(
      sample(text, 'jwks_bridge_refusals_total', { route: 'sign-in', code: 'ERR_TOKEN_REPLAYED' }),
      1,
    )
    assert.equal(
      sample(text, 'jwks_bridge_refusals_total', { route: 'sign-in', code: 'ERR_KEY_NOT_FOUND' }),
      1,
    )
    assert.equal(sample(text, 'jwks_bridge_sign_outs_total', { status: '204' }), 1)
    // Counted from the bridge's events: the sign-in's, the sign-out's.
    assert.equal(findSample(text, 'jwks_bridge_refusals_total', { route: 'sign-out' }), undefined)

    assert.equal(sample(text, 'jwks_bridge_session_validations_total', { result: 'valid' }), 3)
    assert.equal(sample(text, 'jwks_bridge_session_validations_total', { result: 'invalid' }), 1)
    assert.equal(
      sample(text, 'jwks_bridge_session_validation_duration_seconds_count', { result: 'valid' }),
      3,
    )
    assert.equal(sample(text, 'jwks_bridge_sessions_created_total'), 1)
    assert.equal(sample(text, 'jwks_bridge_sessions_ended_total', { reason: 'deleted' }), 1)
    // prom-client's process metrics, for memory over time (the soak reads them).
    assert.ok(sample(text, 'process_resident_memory_bytes') > 0)
  })

  it('keeps each app instance to its own registry', async () => {
    const text = await scrape(other.url, { authorization: `Bearer ${METRICS_TOKEN}` })
    assert.equal(findSample(text, 'jwks_bridge_handoffs_total', { status: '204' }), undefined)
    assert.equal(sample(text, 'jwks_bridge_sessions_created_total'), 0)
  })

  it('asks for the bearer token when METRICS_TOKEN is set', async () => {
    const none = await request(`${other.url}/metrics`)
    assert.equal(none.status, 401)
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="metrics"')
    assert.doesNotMatch(none.text, /jwks_bridge_/)
    const wrong = await request(`${other.url}/metrics`, {
      headers: { authorization: 'Bearer scrape-token-0123456789abcdeX' },
    })
    assert.equal(wrong.status, 401)
    const right = await request(`${other.url}/metrics`, {
      headers: { authorization: `bearer ${METRICS_TOKEN}` },
    })
    assert.equal(right.status, 200)
    assert.match(right.text, /^# HELP jwks_bridge_verifications_total /m)
  })

  it('serves no /metrics with METRICS=false', async () => {
    const off = await startOpsApp(issuer, { METRICS: 'false' })
    try {
      assert.equal(off.app.metrics, undefined)
      assert.equal((await request(`${off.url}/metrics`)).status, 404)
      // Everything else still works.
      const session = await signIn(off.url, issuer.idp.sign({ sub: 'no-metrics' }))
      assert.equal((await request(`${off.url}/me`, { headers: { cookie: session } })).status, 200)
    } finally {
      await off.close()
    }
  })
})
