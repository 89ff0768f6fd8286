// OpenID Connect Back-Channel Logout 1.0 (§2.4 logout token, §2.6 validation, §2.7 actions, §2.8 response).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BridgeOptions } from '../../src/bridge/options.ts'
import { tokenProfile } from '../../src/bridge/profiles.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createVerifier } from '../../src/verifier/verifier.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import {
  browserRequest,
  Clock,
  cookieHeader,
  failingStore,
  handoffRequest,
  ISSUER,
  logoutToken,
  makeBridge,
  signInToken,
  testKey,
} from './support.ts'

function field(response: { body?: unknown } | undefined, name: 'code' | 'error'): unknown {
  return (response?.body as Record<string, unknown> | undefined)?.[name]
}

const EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const PATH = '/auth/backchannel-logout'

function harness(overrides: Partial<BridgeOptions> = {}) {
  return makeBridge({
    backChannelLogout: true,
    verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1' },
    ...overrides,
  })
}

function logoutRequest(token: string, contentType = 'application/x-www-form-urlencoded', path = PATH) {
  // Server to server: no Origin, no cookie.
  return {
    method: 'POST',
    path,
    secure: true,
    headers: { host: 'app.example.com', 'content-type': contentType },
    body: new URLSearchParams({ logout_token: token }).toString(),
  }
}

async function signIn(h: ReturnType<typeof harness>, claims: Record<string, unknown>) {
  const response = await h.bridge.handle(handoffRequest(signInToken(h.clock, { aud: 'client-1', ...claims })))
  assert.equal(response?.status, 204)
  return cookieHeader(response)
}

async function alive(h: ReturnType<typeof harness>, cookie: string): Promise<boolean> {
  return (await h.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } }))) !== null
}

describe('back-channel logout: ends the matching sessions', () => {
  it('by sid: 200, Cache-Control no-store, only that provider session ends', async () => {
    const h = harness()
    const a = await signIn(h, { sid: 'op-a' })
    const b = await signIn(h, { sid: 'op-b' })
    const response = await h.bridge.handle(logoutRequest(logoutToken(h.clock, { sid: 'op-a' })))
    assert.equal(response?.status, 200)
    assert.equal(response?.headers['cache-control'], 'no-store')
    assert.equal(await alive(h, a), false)
    assert.equal(await alive(h, b), true)
  })

  it('by sub alone: every session of that subject at that issuer ends', async () => {
    const h = harness()
    const a = await signIn(h, { sid: 'op-a' })
    const b = await signIn(h, { sid: 'op-b' })
    const other = await signIn(h, { sub: 'other', sid: 'op-c' })
    const response = await h.bridge.handle(
      logoutRequest(logoutToken(h.clock, { sub: 'user-1', sid: undefined })),
    )
    assert.equal(response?.status, 200)
    assert.equal(await alive(h, a), false)
    assert.equal(await alive(h, b), false)
    assert.equal(await alive(h, other), true)
  })

  it('with sid and sub, the sid decides', async () => {
    const h = harness()
    const a = await signIn(h, { sid: 'op-a' })
    const b = await signIn(h, { sid: 'op-b' })
    assert.equal((await h.bridge.handle(logoutRequest(logoutToken(h.clock, { sid: 'op-b' }))))?.status, 200)
    assert.equal(await alive(h, a), true)
    assert.equal(await alive(h, b), false)
  })

  it('an unknown sid or sub is still 200 (nothing to end)', async () => {
    const h = harness()
    assert.equal((await h.bridge.handle(logoutRequest(logoutToken(h.clock, { sid: 'nobody' }))))?.status, 200)
    const bySub = await h.bridge.handle(
      logoutRequest(logoutToken(h.clock, { sub: 'nobody', sid: undefined })),
    )
    assert.equal(bySub?.status, 200)
  })

  it('serves a configured path, and only when enabled', async () => {
    const h = harness({ backChannelLogoutPath: '/oidc/logout' })
    assert.equal(await h.bridge.handle(logoutRequest(logoutToken(h.clock, { sid: 'x' }))), undefined)
    const response = await h.bridge.handle(
      logoutRequest(logoutToken(h.clock, { sid: 'x' }), undefined, '/oidc/logout'),
    )
    assert.equal(response?.status, 200)
    assert.equal(h.bridge.routes.backChannelLogoutPath, '/oidc/logout')
  })

  it('accepts a logoutVerifier given as a Verifier (required when the sign-in verifier is one)', async () => {
    const clock = new Clock()
    const verifier = createVerifier({ issuer: ISSUER, jwks: { keys: [testKey().jwk] }, nowMs: clock.read })
    const logoutVerifier = createVerifier({
      issuer: ISSUER,
      jwks: { keys: [testKey().jwk] },
      typ: 'logout+jwt',
      nowMs: clock.read,
    })
    // The client id comes from the profile: the bridge cannot see a Verifier instance's audience.
    const profile = tokenProfile('generic', { audience: 'client-1' })
    const h = makeBridge({ verifier, profile, backChannelLogout: true, logoutVerifier }, undefined, clock)
    const cookie = cookieHeader(
      await h.bridge.handle(handoffRequest(signInToken(clock, { aud: 'client-1', sid: 's1' }))),
    )
    assert.equal((await h.bridge.handle(logoutRequest(logoutToken(clock, { sid: 's1' }))))?.status, 200)
    assert.equal(await alive(h, cookie), false)
    // The bridge checks typ itself, whatever the verifier it was given.
    const permissive = makeBridge(
      { verifier, profile, backChannelLogout: true, logoutVerifier: verifier },
      undefined,
      clock,
    )
    const untyped = await permissive.bridge.handle(
      logoutRequest(logoutToken(clock, { sid: 's1' }, { typ: 'JWT' })),
    )
    assert.equal(untyped?.status, 400)
    assert.equal(field(untyped, 'code'), 'ERR_TYP_MISMATCH')
  })

  it('derives the logout policy for each of several issuers', async () => {
    const second = makeKey('ES256', 'second-key')
    const h = makeBridge({
      backChannelLogout: true,
      verifier: {
        audience: 'client-1',
        issuers: [
          { issuer: ISSUER, jwks: { keys: [testKey().jwk] } },
          {
            issuer: 'https://second.example.com',
            jwks: { keys: [second.jwk] },
            algorithms: ['ES256'],
            typ: 'JWT',
          },
        ],
      },
    })
    const now = Math.floor(h.clock.seconds)
    const claims = {
      iss: 'https://second.example.com',
      aud: 'client-1',
      iat: now,
      exp: now + 60,
      jti: 'j-2',
      sid: 's',
    }
    const token = signToken(second, { ...claims, events: { [EVENT]: {} } }, { typ: 'logout+jwt' })
    assert.equal((await h.bridge.handle(logoutRequest(token)))?.status, 200)
    // The issuer's own "typ: JWT" (for sign-in tokens) does not carry over to logout tokens.
    const idToken = signToken(second, { ...claims, jti: 'j-3', events: { [EVENT]: {} } })
    assert.equal((await h.bridge.handle(logoutRequest(idToken)))?.status, 400)
  })
})

describe('back-channel logout: refused tokens get 400 and end nothing', () => {
  const cases: { name: string; code: string; token: (clock: Clock) => string }[] = [
    {
      name: 'no typ',
      code: 'ERR_TYP_MISMATCH',
      token: (c) => logoutToken(c, { sid: 'op-a' }, { typ: undefined }),
    },
    {
      name: 'typ JWT (an ID token)',
      code: 'ERR_TYP_MISMATCH',
      token: (c) => logoutToken(c, { sid: 'op-a' }, { typ: 'JWT' }),
    },
    {
      name: 'no events',
      code: 'ERR_CLAIM_MISSING',
      token: (c) => logoutToken(c, { sid: 'op-a', events: undefined }),
    },
    {
      name: 'events without the logout member',
      code: 'ERR_CLAIMS_INVALID',
      token: (c) => logoutToken(c, { sid: 'op-a', events: { 'https://other/event': {} } }),
    },
    {
      name: 'the logout event not an object',
      code: 'ERR_CLAIMS_INVALID',
      token: (c) => logoutToken(c, { sid: 'op-a', events: { [EVENT]: true } }),
    },
    {
      name: 'events an array',
      code: 'ERR_CLAIMS_INVALID',
      token: (c) => logoutToken(c, { sid: 'op-a', events: [EVENT] }),
    },
    {
      name: 'a nonce',
      code: 'ERR_CLAIMS_INVALID',
      token: (c) => logoutToken(c, { sid: 'op-a', nonce: 'n-1' }),
    },
    {
      name: 'neither sid nor sub',
      code: 'ERR_CLAIM_MISSING',
      token: (c) => logoutToken(c, { sub: undefined }),
    },
    { name: 'sid not a string', code: 'ERR_CLAIMS_INVALID', token: (c) => logoutToken(c, { sid: 7 }) },
    {
      name: 'no jti',
      code: 'ERR_CLAIM_MISSING',
      token: (c) => logoutToken(c, { sid: 'op-a', jti: undefined }),
    },
    {
      name: 'no iat',
      code: 'ERR_CLAIM_MISSING',
      token: (c) => logoutToken(c, { sid: 'op-a', iat: undefined }),
    },
    {
      name: 'no exp',
      code: 'ERR_CLAIM_MISSING',
      token: (c) => logoutToken(c, { sid: 'op-a', exp: undefined }),
    },
    {
      name: 'expired',
      code: 'ERR_JWT_EXPIRED',
      token: (c) => logoutToken(c, { sid: 'op-a', exp: c.seconds - 1 }),
    },
    {
      name: 'another audience',
      code: 'ERR_AUDIENCE_MISMATCH',
      token: (c) => logoutToken(c, { sid: 'op-a', aud: 'other' }),
    },
    {
      name: 'signed by another key',
      code: 'ERR_SIGNATURE_INVALID',
      token: (c) =>
        signToken(
          makeKey('RS256', 'bridge-key', 3072),
          {
            aud: 'client-1',
            iat: c.seconds,
            exp: c.seconds + 60,
            jti: 'x',
            sid: 'op-a',
            events: { [EVENT]: {} },
          },
          { typ: 'logout+jwt' },
        ),
    },
  ]
  for (const c of cases) {
    it(`${c.name} → 400 ${c.code}`, async () => {
      const h = harness()
      const cookie = await signIn(h, { sid: 'op-a' })
      const response = await h.bridge.handle(logoutRequest(c.token(h.clock)))
      assert.equal(response?.status, 400)
      assert.equal(field(response, 'error'), 'invalid_request')
      assert.equal(field(response, 'code'), c.code)
      assert.equal(response?.headers['cache-control'], 'no-store')
      assert.equal(await alive(h, cookie), true)
    })
  }

  it('a sign-in (ID) token posted as a logout token is refused', async () => {
    const h = harness()
    const cookie = await signIn(h, { sid: 'op-a' })
    const response = await h.bridge.handle(
      logoutRequest(signInToken(h.clock, { aud: 'client-1', sid: 'op-a' })),
    )
    assert.equal(response?.status, 400)
    assert.equal(await alive(h, cookie), true)
  })

  it('a replayed logout token (same jti) is refused: 400 ERR_TOKEN_REPLAYED', async () => {
    const h = harness()
    const token = logoutToken(h.clock, { sid: 'op-a' })
    assert.equal((await h.bridge.handle(logoutRequest(token)))?.status, 200)
    const cookie = await signIn(h, { sid: 'op-a' })
    const replay = await h.bridge.handle(logoutRequest(token))
    assert.equal(replay?.status, 400)
    assert.equal(field(replay, 'code'), 'ERR_TOKEN_REPLAYED')
    assert.equal(await alive(h, cookie), true, 'the session opened after the logout survives the replay')
  })

  it('a JSON body is refused (§2.5: form-encoded), as is a missing logout_token', async () => {
    const h = harness()
    const json = await h.bridge.handle({
      ...logoutRequest('x', 'application/json'),
      body: JSON.stringify({ logout_token: logoutToken(h.clock, { sid: 'op-a' }) }),
    })
    assert.equal(json?.status, 400)
    assert.equal(field(json, 'code'), 'ERR_UNSUPPORTED_MEDIA_TYPE')
    const missing = await h.bridge.handle({ ...logoutRequest('x'), body: 'jwt=abc' })
    assert.equal(missing?.status, 400)
  })

  it('a store that is down: 503 (the provider may retry)', async () => {
    const clock = new Clock()
    const h = harness()
    const down = makeBridge(
      {
        backChannelLogout: true,
        verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1' },
      },
      { identities: h.identities, sessions: failingStore(h.sessions, 'all') },
      clock,
    )
    const response = await down.bridge.handle(logoutRequest(logoutToken(clock, { sid: 'op-a' })))
    assert.equal(response?.status, 503)
  })
})

describe('OIDC Back-Channel Logout 1.0 §2.6 step 3: a logout token must be addressed to this client', () => {
  const refusedAtStart = (options: Partial<BridgeOptions>, where: RegExp) =>
    assert.throws(
      () => makeBridge({ backChannelLogout: true, ...options }),
      (error: unknown) =>
        isJwksBridgeError(error, 'ERR_INVALID_OPTIONS') &&
        /audience/.test(error.message) &&
        where.test(error.message),
    )

  it('createBridge refuses back-channel logout without an audience (the default generic profile)', () => {
    const jwks = { keys: [testKey().jwk] }
    refusedAtStart({ verifier: { issuer: ISSUER, jwks } }, /verifier\.audience/)
    refusedAtStart(
      { verifier: { issuer: ISSUER, jwks, audience: 'client-1' }, logoutVerifier: { issuer: ISSUER, jwks } },
      /logoutVerifier\.audience/,
    )
    // Several issuers: each needs one.
    refusedAtStart(
      {
        verifier: {
          issuers: [
            { issuer: ISSUER, jwks, audience: 'client-1' },
            { issuer: 'https://second.example.com', jwks },
          ],
        },
      },
      /issuers\[1\]\.audience/,
    )
    // A Verifier instance: its audience cannot be seen, so the profile must name the client.
    const verifier = createVerifier({ issuer: ISSUER, jwks })
    refusedAtStart({ verifier, logoutVerifier: verifier }, /profile/)
    // With the audience from the profile, the default generic profile included, it starts.
    assert.doesNotThrow(() =>
      makeBridge({
        backChannelLogout: true,
        verifier: { issuer: ISSUER, jwks },
        profile: tokenProfile('generic', { audience: 'client-1' }),
      }),
    )
  })

  it('a logout token of another client is refused even by a logoutVerifier instance that does not check aud', async () => {
    const clock = new Clock()
    const jwks = { keys: [testKey().jwk] }
    const verifier = createVerifier({ issuer: ISSUER, jwks, nowMs: clock.read })
    const h = makeBridge(
      {
        verifier,
        profile: tokenProfile('generic', { audience: 'client-1' }),
        backChannelLogout: true,
        logoutVerifier: verifier,
      },
      undefined,
      clock,
    )
    const cookie = await signIn(h, { sid: 'op-a' })
    for (const aud of ['client-2', ['client-2', 'client-3'], undefined]) {
      const response = await h.bridge.handle(logoutRequest(logoutToken(clock, { sid: 'op-a', aud })))
      assert.equal(response?.status, 400)
      assert.equal(field(response, 'code'), aud === undefined ? 'ERR_CLAIM_MISSING' : 'ERR_AUDIENCE_MISMATCH')
    }
    assert.equal(await alive(h, cookie), true)
    const ours = await h.bridge.handle(
      logoutRequest(logoutToken(clock, { sid: 'op-a', aud: ['client-2', 'client-1'] })),
    )
    assert.equal(ours?.status, 200)
    assert.equal(await alive(h, cookie), false)
  })
})

describe('RFC 7519 §4.1.4 / OIDC Back-Channel Logout 1.0 §2.4: a logout token always needs exp', () => {
  it('requireExp: false for sign-in tokens does not reach the derived logout verifier', async () => {
    const h = harness({
      verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1', requireExp: false },
    })
    const cookie = await signIn(h, { sid: 'op-a' })
    const response = await h.bridge.handle(
      logoutRequest(logoutToken(h.clock, { sid: 'op-a', exp: undefined })),
    )
    assert.equal(response?.status, 400)
    assert.equal(field(response, 'code'), 'ERR_CLAIM_MISSING')
    assert.equal(await alive(h, cookie), true)
  })

  it('nor does a logoutVerifier (options or instance) built with requireExp: false', async () => {
    const clock = new Clock()
    const jwks = { keys: [testKey().jwk] }
    const loose = { issuer: ISSUER, jwks, audience: 'client-1', requireExp: false, nowMs: clock.read }
    for (const logoutVerifier of [loose, createVerifier({ ...loose, typ: 'logout+jwt' })]) {
      const h = makeBridge(
        {
          backChannelLogout: true,
          verifier: { issuer: ISSUER, jwks, audience: 'client-1' },
          logoutVerifier,
        },
        undefined,
        clock,
      )
      const cookie = await signIn(h, { sid: 'op-a' })
      const response = await h.bridge.handle(
        logoutRequest(logoutToken(clock, { sid: 'op-a', exp: undefined })),
      )
      assert.equal(response?.status, 400)
      assert.equal(field(response, 'code'), 'ERR_CLAIM_MISSING')
      assert.equal(await alive(h, cookie), true)
    }
  })
})

describe('OIDC Back-Channel Logout 1.0 §2.6 step 8 (jti replay): single use for as long as a logout token could be accepted', () => {
  it('with clockToleranceSeconds 120, a used logout token is still refused at exp + 65 s', async () => {
    const h = harness({
      verifier: {
        issuer: ISSUER,
        jwks: { keys: [testKey().jwk] },
        audience: 'client-1',
        clockToleranceSeconds: 120,
      },
    })
    const token = logoutToken(h.clock, { sid: 'op-a', exp: Math.floor(h.clock.seconds) + 10 })
    assert.equal((await h.bridge.handle(logoutRequest(token)))?.status, 200)
    const cookie = await signIn(h, { sid: 'op-a' })
    h.clock.advanceSeconds(10 + 65)
    const replay = await h.bridge.handle(logoutRequest(token))
    assert.equal(replay?.status, 400)
    assert.equal(field(replay, 'code'), 'ERR_TOKEN_REPLAYED')
    assert.equal(await alive(h, cookie), true, 'the session opened after the logout survives the replay')
    // Past exp + tolerance the verifier refuses it on its own; the record was kept until then.
    h.clock.advanceSeconds(60)
    assert.equal(field(await h.bridge.handle(logoutRequest(token)), 'code'), 'ERR_JWT_EXPIRED')
  })

  it('a logoutVerifier instance with a tolerance the bridge cannot see: refused past exp, never replayed', async () => {
    const clock = new Clock()
    const jwks = { keys: [testKey().jwk] }
    const logoutVerifier = createVerifier({
      issuer: ISSUER,
      jwks,
      audience: 'client-1',
      typ: 'logout+jwt',
      clockToleranceSeconds: 120,
      nowMs: clock.read,
    })
    const h = makeBridge(
      { verifier: { issuer: ISSUER, jwks, audience: 'client-1' }, backChannelLogout: true, logoutVerifier },
      undefined,
      clock,
    )
    const token = logoutToken(clock, { sid: 'op-a', exp: Math.floor(clock.seconds) + 10 })
    assert.equal((await h.bridge.handle(logoutRequest(token)))?.status, 200)
    const cookie = await signIn(h, { sid: 'op-a' })
    clock.advanceSeconds(10 + 65)
    const replay = await h.bridge.handle(logoutRequest(token))
    assert.equal(replay?.status, 400)
    assert.equal(await alive(h, cookie), true)
  })
})
