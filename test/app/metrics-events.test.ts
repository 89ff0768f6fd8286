// The reference app's metrics are one subscriber of the bridge's events (createBridge({ onEvent })):
// nothing wraps the verifier, the stores or the bridge, and every route's refusals are counted.
// Real parts: prom-client's registry, the bridge core, the memory stores, real signatures.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAppMetrics } from '../../src/app/metrics.ts'
import {
  browserRequest,
  cookieHeader,
  handoffRequest,
  ISSUER,
  logoutToken,
  makeBridge,
  signInToken,
  testKey,
} from '../bridge/support.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import { findSample, sample } from '../ops/fixture.ts'

describe('bridge metrics from BridgeEvents (no wrapped verifier, store or bridge)', () => {
  it('OIDC Back-Channel Logout 1.0 §2.6: a refused logout token is counted in jwks_bridge_refusals_total{route="back-channel-logout"}', async () => {
    const metrics = await createAppMetrics('on')
    assert.ok(metrics !== undefined)
    const h = makeBridge({
      backChannelLogout: true,
      verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1' },
      onEvent: metrics.onBridgeEvent,
    })
    const signedIn = await h.bridge.handle(
      handoffRequest(signInToken(h.clock, { aud: 'client-1', sid: 'sid-9' })),
    )
    assert.equal(signedIn?.status, 204)
    assert.ok(cookieHeader(signedIn).length > 0)
    const logout = (token: string) =>
      h.bridge.handle({
        method: 'POST',
        path: '/auth/backchannel-logout',
        secure: true,
        headers: { host: 'app.example.com', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      })
    // §2.6 step 3: addressed to another client of the same provider.
    const foreign = await logout(logoutToken(h.clock, { aud: 'other-client', sid: 'sid-9' }))
    assert.equal(foreign?.status, 400)
    const accepted = await logout(logoutToken(h.clock, { sid: 'sid-9' }))
    assert.equal(accepted?.status, 200)

    const text = await metrics.render()
    assert.equal(
      sample(text, 'jwks_bridge_refusals_total', {
        route: 'back-channel-logout',
        code: 'ERR_AUDIENCE_MISMATCH',
      }),
      1,
    )
    assert.equal(sample(text, 'jwks_bridge_sessions_ended_total', { reason: 'provider-session' }), 1)
    assert.equal(sample(text, 'jwks_bridge_sessions_created_total'), 1)
    // Logout tokens are not sign-in verifications.
    assert.equal(sample(text, 'jwks_bridge_verifications_total', { result: 'ok' }), 1)
    assert.equal(
      findSample(text, 'jwks_bridge_verifications_total', { result: 'ERR_AUDIENCE_MISMATCH' }),
      undefined,
    )
    h.bridge.close()
  })

  it('verifications, refusals, validations and sessions ended, each counted from its event', async () => {
    const metrics = await createAppMetrics('on')
    assert.ok(metrics !== undefined)
    const h = makeBridge({
      onEvent: metrics.onBridgeEvent,
      idleTimeoutSeconds: 600,
      touchIntervalSeconds: 60,
    })
    const token = signInToken(h.clock, { sub: 'counted' })
    const first = await h.bridge.handle(handoffRequest(token))
    assert.equal(first?.status, 204)
    const cookie = cookieHeader(first)
    // Verified, then refused by the replay guard: a verification `ok` and a refusal.
    assert.equal((await h.bridge.handle(handoffRequest(token)))?.status, 401)
    // Refused by the verifier: a verification with the code, and a refusal.
    const stranger = signToken(makeKey('RS256', 'stranger'), {
      iat: h.clock.seconds,
      exp: h.clock.seconds + 60,
    })
    assert.equal((await h.bridge.handle(handoffRequest(stranger)))?.status, 401)
    // Refused before any verification (cross-site): a refusal only.
    const crossSite = handoffRequest(signInToken(h.clock), { headers: { origin: 'https://evil.example' } })
    assert.equal((await h.bridge.handle(crossSite))?.status, 403)

    const get = (cookieValue: string) => browserRequest({ method: 'GET', headers: { cookie: cookieValue } })
    assert.notEqual(await h.bridge.authenticate(get(cookie)), null)
    assert.notEqual(await h.bridge.authenticate(get(cookie)), null)
    assert.equal(await h.bridge.authenticate(get(`${cookie.split('=', 1)[0]}=forged.value`)), null)
    // A second session of the same identity, left to expire, found expired when presented.
    const second = cookieHeader(
      await h.bridge.handle(handoffRequest(signInToken(h.clock, { sub: 'counted' }))),
    )
    h.clock.advanceSeconds(601)
    assert.equal(await h.bridge.authenticate(get(second)), null)
    // The first one too, removed by the cleanup; then a third, ended everywhere.
    assert.equal(await h.bridge.cleanupExpired(), 1)
    const third = await h.bridge.handle(handoffRequest(signInToken(h.clock, { sub: 'counted' })))
    const identityId = (await h.bridge.authenticate(get(cookieHeader(third))))?.identity.id as string
    assert.equal(await h.bridge.signOutEverywhere(identityId), 1)

    const text = await metrics.render()
    assert.equal(sample(text, 'jwks_bridge_verifications_total', { result: 'ok' }), 4)
    assert.equal(sample(text, 'jwks_bridge_verifications_total', { result: 'ERR_KEY_NOT_FOUND' }), 1)
    assert.equal(
      findSample(text, 'jwks_bridge_verifications_total', { result: 'ERR_CROSS_SITE_REQUEST' }),
      undefined,
    )
    assert.equal(
      sample(text, 'jwks_bridge_refusals_total', { route: 'sign-in', code: 'ERR_TOKEN_REPLAYED' }),
      1,
    )
    assert.equal(
      sample(text, 'jwks_bridge_refusals_total', { route: 'sign-in', code: 'ERR_KEY_NOT_FOUND' }),
      1,
    )
    assert.equal(
      sample(text, 'jwks_bridge_refusals_total', { route: 'sign-in', code: 'ERR_CROSS_SITE_REQUEST' }),
      1,
    )
    assert.equal(sample(text, 'jwks_bridge_session_validations_total', { result: 'valid' }), 3)
    assert.equal(sample(text, 'jwks_bridge_session_validations_total', { result: 'invalid' }), 2)
    assert.equal(
      sample(text, 'jwks_bridge_session_validation_duration_seconds_count', { result: 'valid' }),
      3,
    )
    assert.equal(sample(text, 'jwks_bridge_sessions_created_total'), 3)
    assert.equal(sample(text, 'jwks_bridge_sessions_ended_total', { reason: 'deleted' }), 1)
    assert.equal(sample(text, 'jwks_bridge_sessions_ended_total', { reason: 'expired' }), 1)
    assert.equal(sample(text, 'jwks_bridge_sessions_ended_total', { reason: 'identity' }), 1)
  })
})
