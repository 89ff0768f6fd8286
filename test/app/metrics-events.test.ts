// The reference app's metrics are one subscriber of the bridge's events (createBridge({ onEvent })):
// nothing wraps the verifier, the stores or the bridge, and every route's refusals are counted.
// Real parts: prom-client's registry, the bridge core, the memory stores, real signatures.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAppMetrics } from '../../src/app/metrics.ts'
import {
  cookieHeader,
  handoffRequest,
  ISSUER,
  logoutToken,
  makeBridge,
  signInToken,
  testKey,
} from '../bridge/support.ts'
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
})
