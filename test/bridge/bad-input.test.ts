// Issue 4 item 8: bad input gets a clear answer and changes nothing; a store that is down gives 503
// with nothing half-written; no log line or response ever holds a token or a secret.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BridgeRequest, BridgeResponse } from '../../src/bridge/types.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import type { SessionStore } from '../../src/stores/types.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import {
  browserRequest,
  Clock,
  captureLogger,
  cookieHeader,
  errorCode,
  failingStore,
  handoffRequest,
  ISSUER,
  logoutToken,
  makeBridge,
  signInToken,
} from './support.ts'

/** How many sessions a memory store holds (deleting them all: call it last). */
async function countSessions(sessions: SessionStore): Promise<number> {
  return sessions.deleteExpired(Number.MAX_SAFE_INTEGER, 0)
}

async function assertNothingWritten(
  harness: ReturnType<typeof makeBridge>,
  response: BridgeResponse | undefined,
) {
  assert.deepEqual(response?.cookies, [], 'no cookie is set')
  assert.equal(await harness.identities.findBySubject(ISSUER, 'user-1'), undefined, 'no identity is written')
  assert.equal(await countSessions(harness.sessions), 0, 'no session is written')
}

describe('bad bodies: 400, 413, 415 with a JSON error code, nothing written', () => {
  const cases: { name: string; status: number; code: string; req: (token: string) => BridgeRequest }[] = [
    {
      name: 'no Content-Type',
      status: 415,
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      req: (t) => handoffRequest(t, { headers: { 'content-type': undefined } }),
    },
    {
      name: 'text/plain',
      status: 415,
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      req: (t) => handoffRequest(t, { body: t, headers: { 'content-type': 'text/plain' } }),
    },
    {
      name: 'multipart/form-data',
      status: 415,
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      req: (t) => handoffRequest(t, { headers: { 'content-type': 'multipart/form-data; boundary=x' } }),
    },
    {
      name: 'a charset other than UTF-8',
      status: 415,
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      req: (t) => handoffRequest(t, { headers: { 'content-type': 'application/json; charset=iso-8859-1' } }),
    },
    {
      name: 'a body over maxBodyBytes',
      status: 413,
      code: 'ERR_BODY_TOO_LARGE',
      req: (t) => handoffRequest(t, { body: JSON.stringify({ jwt: t, pad: 'x'.repeat(16 * 1024) }) }),
    },
    {
      name: 'an empty body',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: '' }),
    },
    {
      name: 'no body at all',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => ({ ...handoffRequest(t), body: undefined }),
    },
    {
      name: 'broken JSON',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: `{"jwt":"${t}"` }),
    },
    {
      name: 'a JSON array',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: JSON.stringify([t]) }),
    },
    {
      name: 'JSON without jwt',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: JSON.stringify({ token: t }) }),
    },
    {
      name: 'JSON jwt not a string',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: '{"jwt":42}' }),
    },
    {
      name: 'JSON jwt empty',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: '{"jwt":""}' }),
    },
    {
      name: 'JSON with jwt twice',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { body: `{"jwt":"${t}","jwt":"${t}"}` }),
    },
    {
      name: 'a form without jwt',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { form: true, body: `token=${t}` }),
    },
    {
      name: 'a form with jwt twice',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) => handoffRequest(t, { form: true, body: `jwt=${t}&jwt=${t}` }),
    },
    {
      name: 'invalid UTF-8',
      status: 400,
      code: 'ERR_BODY_INVALID',
      req: (t) =>
        handoffRequest(t, {
          form: true,
          body: Buffer.concat([Buffer.from(`jwt=${t}`), Buffer.from([0xff])]),
        }),
    },
  ]

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const harness = makeBridge()
      const token = signInToken(harness.clock)
      const response = await harness.bridge.handle(c.req(token))
      assert.equal(response?.status, c.status)
      assert.equal(errorCode(response), c.code)
      assert.equal(response?.headers['cache-control'], 'no-store')
      await assertNothingWritten(harness, response)
    })
  }

  it('honours a configured maxBodyBytes', async () => {
    const harness = makeBridge({ maxBodyBytes: 100 })
    const response = await harness.bridge.handle(handoffRequest(signInToken(harness.clock)))
    assert.equal(response?.status, 413)
  })
})

describe('bad tokens: 401 with the verifier’s code, nothing written, token not used up', () => {
  const otherKey = makeKey('RS256', 'bridge-key', 3072)
  const cases: { name: string; code: string; token: (clock: Clock) => string }[] = [
    { name: 'not a JWT', code: 'ERR_TOKEN_MALFORMED', token: () => 'not-a-token' },
    {
      name: 'signed by another key',
      code: 'ERR_SIGNATURE_INVALID',
      token: (clock) => signToken(otherKey, { iat: clock.seconds }),
    },
    {
      name: 'expired',
      code: 'ERR_JWT_EXPIRED',
      token: (clock) => signInToken(clock, { exp: clock.seconds - 1 }),
    },
    {
      name: 'another issuer',
      code: 'ERR_ISSUER_MISMATCH',
      token: (clock) => signInToken(clock, { iss: 'https://evil.example' }),
    },
    {
      name: 'without sub',
      code: 'ERR_PROFILE_MISMATCH',
      token: (clock) => signInToken(clock, { sub: undefined }),
    },
    {
      name: 'alg none',
      code: 'ERR_ALG_NOT_ALLOWED',
      token: (clock) => `${signInToken(clock, {}, { alg: 'none' }).split('.').slice(0, 2).join('.')}.AAAA`,
    },
  ]
  for (const c of cases) {
    it(`${c.name} → 401 ${c.code}`, async () => {
      const harness = makeBridge()
      const response = await harness.bridge.handle(handoffRequest(c.token(harness.clock)))
      assert.equal(response?.status, 401)
      assert.equal(errorCode(response), c.code)
      await assertNothingWritten(harness, response)
    })
  }
})

describe('a store that is down: 503 ERR_STORE_UNAVAILABLE, nothing half-written', () => {
  it('sessions down: the handoff answers 503 and writes no identity', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const harness = makeBridge(
      {},
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    const response = await harness.bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(response?.status, 503)
    assert.equal(errorCode(response), 'ERR_STORE_UNAVAILABLE')
    assert.deepEqual(response?.cookies, [])
    assert.equal(await memory.identities.findBySubject(ISSUER, 'user-1'), undefined)
    // A 5xx body names the code only: the store's reason is for the operator's logs.
    assert.deepEqual(response?.body, { error: { code: 'ERR_STORE_UNAVAILABLE' } })
  })

  it('identities down: 503, and no session is created', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const harness = makeBridge(
      {},
      { identities: failingStore(memory.identities, 'all'), sessions: memory.sessions },
      clock,
    )
    const response = await harness.bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(response?.status, 503)
    assert.deepEqual(response?.cookies, [])
    assert.equal(await countSessions(memory.sessions), 0)
  })

  it('session create failing: 503, no cookie, no session', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const sessions = failingStore(memory.sessions, new Set(['create']))
    const harness = makeBridge({}, { identities: memory.identities, sessions }, clock)
    const response = await harness.bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(response?.status, 503)
    assert.deepEqual(response?.cookies, [])
    assert.equal(await countSessions(memory.sessions), 0)
  })

  it('sign-out with the store down: 503 and the cookie is kept (the session still exists)', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const up = makeBridge({}, memory, clock)
    const cookie = cookieHeader(await up.bridge.handle(handoffRequest(signInToken(clock))))
    const down = makeBridge(
      {},
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    const response = await down.bridge.handle(browserRequest({ method: 'DELETE', headers: { cookie } }))
    assert.equal(response?.status, 503)
    assert.deepEqual(response?.cookies, [])
    assert.ok(await up.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })))
  })

  it('authenticate rejects with ERR_STORE_UNAVAILABLE (adapters answer 503)', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const up = makeBridge({}, memory, clock)
    const cookie = cookieHeader(await up.bridge.handle(handoffRequest(signInToken(clock))))
    const down = makeBridge(
      {},
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    await assert.rejects(
      down.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })),
      (error: unknown) => isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'),
    )
  })

  it('a key set that cannot be fetched: 503', async () => {
    const harness = makeBridge({
      verifier: {
        issuer: ISSUER,
        jwksUri: 'http://127.0.0.1:9/jwks.json',
        timeoutMs: 500,
        retryBaseSeconds: 60,
      },
    })
    const response = await harness.bridge.handle(handoffRequest(signInToken(harness.clock)))
    assert.equal(response?.status, 503)
    assert.match(errorCode(response) ?? '', /^ERR_JWKS_/)
    await assertNothingWritten(harness, response)
    harness.bridge.close()
  })
})

describe('no token, session token or secret in any log line or response', () => {
  it('holds across every error path and the successful ones', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const logger = captureLogger()
    const options = {
      logger,
      csrf: true,
      backChannelLogout: true,
      verifier: {
        issuer: ISSUER,
        jwks: { keys: [makeKey('RS256', 'bridge-key').jwk] },
        audience: ['client-1', ISSUER],
      },
    }
    const harness = makeBridge(options, memory, clock)
    const down = makeBridge(
      options,
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    const secrets: string[] = []
    const responses: (BridgeResponse | undefined)[] = []
    const remember = (token: string) => {
      secrets.push(token, ...token.split('.').filter((part) => part.length > 8))
      return token
    }
    const csrf = harness.bridge.csrfTokenFor(browserRequest({ method: 'GET' }))
    secrets.push(csrf.token)
    const good = { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': csrf.token }
    const tok = (claims: Record<string, unknown> = {}) =>
      remember(signInToken(clock, { aud: 'client-1', ...claims }))

    // Successful sign-in, then every refusal.
    const signedIn = await harness.bridge.handle(handoffRequest(tok(), { headers: good }))
    assert.equal(signedIn?.status, 204)
    const sessionCookie = cookieHeader(signedIn)
    secrets.push(...(sessionCookie.split('=')[1]?.split('.') ?? []), sessionCookie.split('=')[1] as string)
    responses.push(signedIn)
    const replayed = tok()
    responses.push(await harness.bridge.handle(handoffRequest(replayed, { headers: good })))
    const attempts: BridgeRequest[] = [
      handoffRequest(replayed, { headers: good }),
      handoffRequest(tok(), { headers: { ...good, 'x-csrf-token': 'wrong' } }),
      handoffRequest(tok(), {
        headers: { ...good, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
      handoffRequest(tok(), { headers: { ...good, 'content-type': 'text/plain' } }),
      handoffRequest(tok(), {
        headers: good,
        body: JSON.stringify({ jwt: replayed, pad: 'x'.repeat(20000) }),
      }),
      handoffRequest(tok(), { headers: good, body: `{"jwt":"${replayed}"` }),
      handoffRequest(tok({ exp: clock.seconds - 1 }), { headers: good }),
      handoffRequest(tok({ iat: clock.seconds - 500 }), { headers: good }),
      handoffRequest(tok({ iss: 'https://evil.example' }), { headers: good }),
      handoffRequest(`${tok().slice(0, -4)}AAAA`, { headers: good }),
      handoffRequest(tok(), { headers: good, secure: false }),
      browserRequest({
        method: 'DELETE',
        headers: { ...good, cookie: `${good.cookie}; ${sessionCookie}`, 'x-csrf-token': 'x' },
      }),
    ]
    for (const req of attempts) responses.push(await harness.bridge.handle(req))
    responses.push(await down.bridge.handle(handoffRequest(tok(), { headers: good })))
    await assert.rejects(
      down.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie: sessionCookie } })),
    )
    // Back-channel logout: refused and accepted.
    const logoutForm = (token: string) =>
      browserRequest({
        method: 'POST',
        path: '/auth/backchannel-logout',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `logout_token=${token}`,
      })
    responses.push(await harness.bridge.handle(logoutForm(remember(logoutToken(clock, { nonce: 'n' })))))
    responses.push(await harness.bridge.handle(logoutForm(remember(logoutToken(clock)))))
    responses.push(await down.bridge.handle(logoutForm(remember(logoutToken(clock)))))
    responses.push(
      await harness.bridge.handle(
        browserRequest({
          method: 'DELETE',
          headers: { ...good, cookie: `${good.cookie}; ${sessionCookie}` },
        }),
      ),
    )

    assert.ok(logger.lines.length >= attempts.length, 'every path logged something')
    assert.ok(
      logger.lines.some((line) => line.level === 'error'),
      'store failures are logged as errors',
    )
    const logged = JSON.stringify(logger.lines)
    const answered = JSON.stringify(responses.map((r) => r?.body ?? null))
    const unique = [...new Set(secrets.filter((s) => s.length > 8))]
    assert.ok(unique.length > 20)
    let leaksInLogs = 0
    let leaksInResponses = 0
    for (const secret of unique) {
      if (logged.includes(secret)) leaksInLogs++
      if (answered.includes(secret)) leaksInResponses++
    }
    assert.equal(leaksInLogs, 0, 'no token, token segment, session token or CSRF token in the logs')
    assert.equal(leaksInResponses, 0, 'none in response bodies either')
  })
})
