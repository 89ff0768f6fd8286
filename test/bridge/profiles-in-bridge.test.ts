// The token profiles (src/bridge/profiles.ts) as the bridge uses them: their verifier options reach the
// verifiers the bridge builds, and their check decides who signs in.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { tokenProfile } from '../../src/bridge/profiles.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import {
  browserRequest,
  type Clock,
  cookieHeader,
  errorCode,
  handoffRequest,
  logoutToken,
  makeBridge,
  signInToken,
  testKey,
} from './support.ts'

const ST_ISSUER = 'https://api.example.com/auth'

function supertokensToken(
  clock: Clock,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) {
  const now = Math.floor(clock.seconds)
  // The shape of a SuperTokens v5 access token (identity-providers.md §1.2-1.3), values synthetic.
  return signToken(
    makeKey('RS256', 'd-1795932848013'),
    {
      iss: ST_ISSUER,
      iat: now - 2,
      exp: now + 3600,
      sub: 'fa7a0841-b533-4478-9553-0fde890c3483',
      tId: 'public',
      rsub: 'fa7a0841-b533-4478-9553-0fde890c3483',
      sessionHandle: '43d9ad0e-6e1a-4d0a-a1c3-1b6fbc2f9c0e',
      refreshTokenHash1: 'cdffd5dd8ca8126c0482ba994814b9014cc9e973435d399f1cf1f69479e6b907',
      parentRefreshTokenHash1: null,
      antiCsrfToken: null,
      'st-ev': { v: true, t: now * 1000 },
      ...claims,
    },
    { version: '5', ...header },
  )
}

describe('profiles in the bridge', () => {
  it('supertokens: a session access token signs in, keyed on sub, with sessionHandle as the provider session', async () => {
    const key = makeKey('RS256', 'd-1795932848013')
    const h = makeBridge({
      profile: tokenProfile('supertokens'),
      verifier: { issuer: ST_ISSUER, jwks: { keys: [key.jwk] } },
    })
    const response = await h.bridge.handle(handoffRequest(supertokensToken(h.clock)))
    assert.equal(response?.status, 204)
    const auth = await h.bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: cookieHeader(response) } }),
    )
    assert.equal(auth?.identity.subject, 'fa7a0841-b533-4478-9553-0fde890c3483')
    assert.equal(auth?.session.providerSessionId, '43d9ad0e-6e1a-4d0a-a1c3-1b6fbc2f9c0e')
  })

  it('supertokens: an OAuth token (stt 1) or a createJWT token signed by the same keys signs nobody in', async () => {
    const key = makeKey('RS256', 'd-1795932848013')
    const h = makeBridge({
      profile: tokenProfile('supertokens'),
      verifier: { issuer: ST_ISSUER, jwks: { keys: [key.jwk] } },
    })
    const oauth = await h.bridge.handle(handoffRequest(supertokensToken(h.clock, { stt: 1 })))
    assert.equal(oauth?.status, 401)
    assert.equal(errorCode(oauth), 'ERR_PROFILE_MISMATCH')
    const created = await h.bridge.handle(
      handoffRequest(supertokensToken(h.clock, { sessionHandle: undefined })),
    )
    assert.equal(created?.status, 401)
    // The profile's typ "JWT" reaches the verifier the bridge builds.
    const untyped = await h.bridge.handle(handoffRequest(supertokensToken(h.clock, {}, { typ: 'at+jwt' })))
    assert.equal(errorCode(untyped), 'ERR_TYP_MISMATCH')
  })

  it('oidc-id-token: the profile’s audience reaches the sign-in and the derived logout verifier', async () => {
    const h = makeBridge({
      profile: tokenProfile('oidc-id-token', { audience: 'client-1' }),
      backChannelLogout: true,
      verifier: { issuer: 'https://issuer.example.com', jwks: { keys: [testKey().jwk] } },
    })
    const wrongAudience = await h.bridge.handle(handoffRequest(signInToken(h.clock, { aud: 'client-2' })))
    assert.equal(errorCode(wrongAudience), 'ERR_AUDIENCE_MISMATCH')
    const response = await h.bridge.handle(
      handoffRequest(signInToken(h.clock, { aud: 'client-1', sid: 'op-1' })),
    )
    assert.equal(response?.status, 204)
    const cookie = cookieHeader(response)
    const logout = (token: string) =>
      h.bridge.handle({
        method: 'POST',
        path: '/auth/backchannel-logout',
        secure: true,
        headers: { host: 'app.example.com', 'content-type': 'application/x-www-form-urlencoded' },
        body: `logout_token=${token}`,
      })
    // A logout token addressed to another client of the same provider ends nothing (§2.6 step 3).
    const other = await logout(logoutToken(h.clock, { aud: 'client-2', sid: 'op-1' }))
    assert.equal(other?.status, 400)
    assert.ok(await h.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })))
    const ours = await logout(logoutToken(h.clock, { aud: 'client-1', sid: 'op-1' }))
    assert.equal(ours?.status, 200)
    assert.equal(await h.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })), null)
  })

  it('RFC 8725 §3.11 / security catalogue E3: every profile refuses a logout token at the handoff (events claim or typ logout+jwt)', async () => {
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} }
    const stKey = makeKey('RS256', 'd-1795932848013')
    const cases = [
      {
        profile: tokenProfile('generic'),
        verifier: { issuer: 'https://issuer.example.com', jwks: { keys: [testKey().jwk] } },
        token: (clock: Clock, header: Record<string, unknown>) =>
          signInToken(clock, { aud: 'client-1', sid: 'op-1', events }, header),
      },
      {
        profile: tokenProfile('oidc-id-token', { audience: 'client-1' }),
        verifier: { issuer: 'https://issuer.example.com', jwks: { keys: [testKey().jwk] } },
        token: (clock: Clock, header: Record<string, unknown>) =>
          signInToken(clock, { aud: 'client-1', sid: 'op-1', events }, header),
      },
      {
        profile: tokenProfile('supertokens'),
        verifier: { issuer: ST_ISSUER, jwks: { keys: [stKey.jwk] } },
        token: (clock: Clock, header: Record<string, unknown>) => supertokensToken(clock, { events }, header),
      },
    ]
    for (const c of cases) {
      for (const header of [{ typ: 'JWT' }, { typ: 'logout+jwt' }]) {
        const h = makeBridge({ profile: c.profile, verifier: c.verifier })
        const response = await h.bridge.handle(handoffRequest(c.token(h.clock, header)))
        const why = `${c.profile.name}, typ ${header.typ}`
        assert.equal(response?.status, 401, why)
        assert.ok(['ERR_PROFILE_MISMATCH', 'ERR_TYP_MISMATCH'].includes(errorCode(response) ?? ''), why)
        assert.deepEqual(response?.cookies, [], why)
      }
    }
  })
})
