// createBridge({ onEvent }): one BridgeEvent per thing that happened, at the moment it happened, with
// ids, codes and counts only; a subscriber that throws changes no answer.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BridgeEvent } from '../../src/bridge/events.ts'
import { resolveBridgeOptions } from '../../src/bridge/options.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import {
  browserRequest,
  Clock,
  captureLogger,
  cookieHeader,
  failingStore,
  handoffRequest,
  ISSUER,
  logoutToken,
  makeBridge,
  signInToken,
  testKey,
} from './support.ts'

type Of<T extends BridgeEvent['type']> = Extract<BridgeEvent, { type: T }>

function recorder() {
  const events: BridgeEvent[] = []
  return {
    events,
    onEvent: (event: BridgeEvent) => {
      events.push(event)
    },
    /** The events recorded since the last call. */
    take(): BridgeEvent[] {
      return events.splice(0, events.length)
    },
  }
}

function only<T extends BridgeEvent['type']>(events: BridgeEvent[], type: T): Of<T> {
  assert.deepEqual(
    events.map((event) => event.type),
    [type],
  )
  return events[0] as Of<T>
}

const LOGOUT_PATH = '/auth/backchannel-logout'

function logoutRequest(token: string, requestId?: string) {
  return {
    method: 'POST',
    path: LOGOUT_PATH,
    secure: true,
    headers: { host: 'app.example.com', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
    requestId,
  }
}

function withLogout(onEvent: (event: BridgeEvent) => void, extra: Record<string, unknown> = {}) {
  return makeBridge({
    backChannelLogout: true,
    verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1' },
    onEvent,
    ...extra,
  })
}

describe('bridge events: each emitted once, at the moment it happens', () => {
  it('sign-in: identity, issuer, created, replaced, requestId; a second sign-in replaces the session', async () => {
    const rec = recorder()
    const { bridge, clock } = makeBridge({ onEvent: rec.onEvent })
    const first = await bridge.handle({
      ...handoffRequest(signInToken(clock, { sub: 'ev-1' })),
      requestId: 'r1',
    })
    assert.equal(first?.status, 204)
    const signIn = only(rec.take(), 'sign-in')
    assert.equal(signIn.issuer, ISSUER)
    assert.equal(signIn.created, true)
    assert.equal(signIn.replaced, false)
    assert.equal(signIn.requestId, 'r1')
    assert.equal(typeof signIn.identityId, 'string')

    const again = await bridge.handle(
      handoffRequest(signInToken(clock, { sub: 'ev-1' }), { headers: { cookie: cookieHeader(first) } }),
    )
    assert.equal(again?.status, 204)
    const second = only(rec.take(), 'sign-in')
    assert.equal(second.identityId, signIn.identityId)
    assert.equal(second.created, false)
    assert.equal(second.replaced, true)
  })

  it('refusal of a handoff: route, code, status, claim, and whether the verifier had accepted the token', async () => {
    const rec = recorder()
    const { bridge, clock } = makeBridge({ onEvent: rec.onEvent })

    // Refused by the request guard, before any token is verified.
    await bridge.handle(handoffRequest(signInToken(clock), { headers: { origin: 'https://evil.example' } }))
    const crossSite = only(rec.take(), 'refusal')
    assert.equal(crossSite.route, 'handoff')
    assert.equal(crossSite.code, 'ERR_CROSS_SITE_REQUEST')
    assert.equal(crossSite.status, 403)
    assert.equal(crossSite.verified, undefined)

    // Refused by the verifier: a key it does not know.
    const stranger = signToken(makeKey('RS256', 'stranger'), { iat: clock.seconds, exp: clock.seconds + 60 })
    await bridge.handle({ ...handoffRequest(stranger), requestId: 'r2' })
    const unknownKey = only(rec.take(), 'refusal')
    assert.equal(unknownKey.code, 'ERR_KEY_NOT_FOUND')
    assert.equal(unknownKey.status, 401)
    assert.equal(unknownKey.verified, false)
    assert.equal(unknownKey.requestId, 'r2')

    // Refused after verification: the same token twice (single use).
    const token = signInToken(clock)
    assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204)
    rec.take()
    await bridge.handle(handoffRequest(token))
    const replay = only(rec.take(), 'refusal')
    assert.equal(replay.code, 'ERR_TOKEN_REPLAYED')
    assert.equal(replay.status, 401)
    assert.equal(replay.verified, true)
  })

  it('refusal when a store is down (503), and when something throws a non-JwksBridgeError (code "error", the request rejects)', async () => {
    const rec = recorder()
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const down = makeBridge(
      { onEvent: rec.onEvent },
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    const unavailable = await down.bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(unavailable?.status, 503)
    const refusal = only(rec.take(), 'refusal')
    assert.equal(refusal.code, 'ERR_STORE_UNAVAILABLE')
    assert.equal(refusal.status, 503)
    assert.equal(refusal.verified, true)

    const broken = makeBridge(
      { onEvent: rec.onEvent },
      {
        identities: {
          upsert: () => Promise.reject(new RangeError('driver bug')),
          get: (id) => memory.identities.get(id),
          findBySubject: (issuer, subject) => memory.identities.findBySubject(issuer, subject),
        },
        sessions: memory.sessions,
      },
      clock,
    )
    await assert.rejects(broken.bridge.handle(handoffRequest(signInToken(clock))), RangeError)
    const failed = only(rec.take(), 'refusal')
    assert.equal(failed.code, 'error')
    assert.equal(failed.status, 500)
    assert.equal(failed.error, 'RangeError')
  })

  it('sign-out: once, with the identity; a sign-out without a live session emits nothing', async () => {
    const rec = recorder()
    const { bridge, clock } = makeBridge({ onEvent: rec.onEvent })
    const signedIn = await bridge.handle(handoffRequest(signInToken(clock)))
    const identityId = only(rec.take(), 'sign-in').identityId
    const cookie = cookieHeader(signedIn)
    const out = await bridge.handle({
      ...browserRequest({ method: 'DELETE', headers: { cookie } }),
      requestId: 'r3',
    })
    assert.equal(out?.status, 204)
    const signOut = only(rec.take(), 'sign-out')
    assert.equal(signOut.identityId, identityId)
    assert.equal(signOut.requestId, 'r3')
    await bridge.handle(browserRequest({ method: 'DELETE', headers: { cookie } }))
    assert.deepEqual(rec.take(), [])
  })

  it('OIDC Back-Channel Logout 1.0 §2.7: logout with issuer, by and sessionsEnded; §2.6 refusals are events too', async () => {
    const rec = recorder()
    const h = withLogout(rec.onEvent)
    await h.bridge.handle(handoffRequest(signInToken(h.clock, { aud: 'client-1', sid: 'sid-1' })))
    await h.bridge.handle(handoffRequest(signInToken(h.clock, { aud: 'client-1', sid: 'sid-1' })))
    rec.take()

    const token = logoutToken(h.clock, { sid: 'sid-1' })
    const ok = await h.bridge.handle(logoutRequest(token, 'r4'))
    assert.equal(ok?.status, 200)
    const logout = only(rec.take(), 'logout')
    assert.deepEqual(logout, { type: 'logout', issuer: ISSUER, by: 'sid', sessionsEnded: 2, requestId: 'r4' })

    // §2.6 step 3, checked by the logout verifier: not addressed to this client.
    const wrongAudience = await h.bridge.handle(
      logoutRequest(logoutToken(h.clock, { aud: 'other', sid: 's' })),
    )
    assert.equal(wrongAudience?.status, 400)
    const refused = only(rec.take(), 'refusal')
    assert.equal(refused.route, 'back-channel-logout')
    assert.equal(refused.code, 'ERR_AUDIENCE_MISMATCH')
    assert.equal(refused.status, 400)
    assert.equal(refused.claim, 'aud')
    assert.equal(refused.verified, false)

    // §2.6 step 8: a jti seen before, refused after the verifier accepted the token.
    assert.equal((await h.bridge.handle(logoutRequest(token)))?.status, 400)
    const replayed = only(rec.take(), 'refusal')
    assert.equal(replayed.code, 'ERR_TOKEN_REPLAYED')
    assert.equal(replayed.verified, true)

    await h.bridge.handle(logoutRequest('not-a-jwt'))
    const malformed = only(rec.take(), 'refusal')
    assert.equal(malformed.route, 'back-channel-logout')
    assert.equal(malformed.code, 'ERR_TOKEN_MALFORMED')
    assert.equal(malformed.verified, false)
  })

  it('session-validated: valid, invalid, error, with a duration; a request without a cookie emits nothing', async () => {
    const rec = recorder()
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const { bridge } = makeBridge({ onEvent: rec.onEvent }, memory, clock)
    const cookie = cookieHeader(await bridge.handle(handoffRequest(signInToken(clock))))
    rec.take()

    assert.notEqual(
      await bridge.authenticate({
        ...browserRequest({ method: 'GET', headers: { cookie } }),
        requestId: 'r5',
      }),
      null,
    )
    const valid = only(rec.take(), 'session-validated')
    assert.equal(valid.result, 'valid')
    assert.equal(valid.requestId, 'r5')
    assert.ok(valid.durationMs >= 0 && valid.durationMs < 10_000)

    const name = cookie.split('=', 1)[0] as string
    assert.equal(
      await bridge.authenticate(
        browserRequest({ method: 'GET', headers: { cookie: `${name}=forged.value` } }),
      ),
      null,
    )
    assert.equal(only(rec.take(), 'session-validated').result, 'invalid')

    assert.equal(await bridge.hasSession(browserRequest({ method: 'GET', headers: { cookie } })), true)
    assert.equal(only(rec.take(), 'session-validated').result, 'valid')

    assert.equal(await bridge.authenticate(browserRequest({ method: 'GET' })), null)
    assert.deepEqual(rec.take(), [])

    const down = makeBridge(
      { onEvent: rec.onEvent },
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    await assert.rejects(
      down.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })),
      (error) => isJwksBridgeError(error),
    )
    assert.equal(only(rec.take(), 'session-validated').result, 'error')
  })

  it('sessions-ended: sign out everywhere, cleanup, and a session found expired when presented', async () => {
    const rec = recorder()
    const { bridge, clock } = makeBridge({
      onEvent: rec.onEvent,
      idleTimeoutSeconds: 600,
      touchIntervalSeconds: 60,
    })
    const a = cookieHeader(await bridge.handle(handoffRequest(signInToken(clock, { sub: 'many' }))))
    await bridge.handle(handoffRequest(signInToken(clock, { sub: 'many' })))
    const identityId = (rec.take()[0] as Of<'sign-in'>).identityId

    clock.advanceSeconds(601)
    assert.equal(await bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie: a } })), null)
    const [expired, validated] = rec.take()
    assert.deepEqual(expired, {
      type: 'sessions-ended',
      reason: 'expired',
      identityId,
      count: 1,
      requestId: undefined,
    })
    assert.equal((validated as Of<'session-validated'>).result, 'invalid')

    assert.equal(await bridge.cleanupExpired(), 1)
    assert.deepEqual(only(rec.take(), 'sessions-ended'), {
      type: 'sessions-ended',
      reason: 'cleanup',
      count: 1,
    })

    await bridge.handle(handoffRequest(signInToken(clock, { sub: 'many' })))
    await bridge.handle(handoffRequest(signInToken(clock, { sub: 'many' })))
    rec.take()
    assert.equal(await bridge.signOutEverywhere(identityId), 2)
    assert.deepEqual(only(rec.take(), 'sessions-ended'), {
      type: 'sessions-ended',
      reason: 'sign-out-everywhere',
      identityId,
      count: 2,
    })
  })
})

describe('bridge events: subscribers cannot break a request', () => {
  it('a subscriber that throws: every answer is the same, the failure is logged by class name', async () => {
    const logger = captureLogger()
    const h = withLogout(
      () => {
        throw new Error('subscriber bug with a secret in its message')
      },
      { logger },
    )
    const signedIn = await h.bridge.handle(
      handoffRequest(signInToken(h.clock, { aud: 'client-1', sid: 's' })),
    )
    assert.equal(signedIn?.status, 204)
    assert.equal(signedIn?.cookies.length, 1)
    const cookie = cookieHeader(signedIn)
    assert.notEqual(await h.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })), null)
    assert.equal((await h.bridge.handle(handoffRequest('not.a.token')))?.status, 401)
    assert.equal((await h.bridge.handle(logoutRequest(logoutToken(h.clock, { sid: 's' }))))?.status, 200)
    assert.equal(
      (await h.bridge.handle(browserRequest({ method: 'DELETE', headers: { cookie } })))?.status,
      204,
    )

    const failures = logger.lines.filter((line) => line.fields.event === 'bridge.event-subscriber-failed')
    assert.deepEqual(
      failures.map((line) => line.fields.type),
      ['sign-in', 'session-validated', 'refusal', 'logout'],
    )
    assert.ok(failures.every((line) => line.fields.error === 'Error'))
    assert.doesNotMatch(JSON.stringify(logger.lines), /secret in its message/)
    // The logger still got its own records.
    assert.ok(logger.lines.some((line) => line.fields.event === 'bridge.sign-in'))
  })

  it('an async subscriber that rejects: no unhandled rejection, the request answers', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const { bridge, clock } = makeBridge({ onEvent: async () => Promise.reject(new Error('later')) })
      assert.equal((await bridge.handle(handoffRequest(signInToken(clock))))?.status, 204)
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(unhandled, [])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('bridge events: what they never carry', () => {
  it('no sign-in token, logout token, session cookie or CSRF value in any event', async () => {
    const rec = recorder()
    const h = withLogout(rec.onEvent, { csrf: true })
    const secrets: string[] = []
    const csrf = h.bridge.csrfTokenFor(browserRequest({ method: 'GET' }))
    secrets.push(csrf.token)
    const csrfCookie = cookieHeader(csrf.cookies)
    const headers = { 'x-csrf-token': csrf.token, cookie: csrfCookie }
    const token = signInToken(h.clock, { aud: 'client-1', sid: 'sid-x', email: 'someone@example.com' })
    secrets.push(...token.split('.'))
    const signedIn = await h.bridge.handle(handoffRequest(token, { headers }))
    assert.equal(signedIn?.status, 204)
    const session = cookieHeader(signedIn)
    secrets.push(session.slice(session.indexOf('=') + 1))
    await h.bridge.handle(handoffRequest(token, { headers })) // a replay
    await h.bridge.handle(handoffRequest(token)) // no CSRF token
    await h.bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie: session } }))
    const logout = logoutToken(h.clock, { sid: 'sid-x' })
    secrets.push(...logout.split('.'))
    await h.bridge.handle(logoutRequest(logout))
    await h.bridge.handle(logoutRequest(logout)) // a replay

    assert.deepEqual([...new Set(rec.events.map((event) => event.type))].sort(), [
      'logout',
      'refusal',
      'session-validated',
      'sign-in',
    ])
    const text = JSON.stringify(rec.events)
    for (const secret of secrets) assert.equal(text.includes(secret), false, 'a secret appears in an event')
    assert.doesNotMatch(text, /someone@example\.com/, 'no claim value')
  })
})

describe('onEvent option', () => {
  it('must be a function; a misspelt name is refused; without logger and onEvent nothing is emitted', () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const base = {
      verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] } },
      identities: memory.identities,
      sessions: memory.sessions,
    }
    assert.throws(
      () => resolveBridgeOptions({ ...base, onEvent: 'metrics' as unknown as () => void }),
      (error) =>
        isJwksBridgeError(error) && error.code === 'ERR_INVALID_OPTIONS' && /onEvent/.test(error.message),
    )
    assert.throws(
      () => resolveBridgeOptions({ ...base, onEvents: () => {} } as never),
      (error) => isJwksBridgeError(error) && /onEvent/.test(error.message),
    )
    const quiet = resolveBridgeOptions(base)
    assert.equal(quiet.emit, undefined)
    assert.equal(quiet.emitValidations, false)
    const logged = resolveBridgeOptions({ ...base, logger: captureLogger() })
    assert.equal(typeof logged.emit, 'function')
    assert.equal(logged.emitValidations, false, 'a logger alone does not time session validations')
    assert.equal(resolveBridgeOptions({ ...base, onEvent: () => {} }).emitValidations, true)
  })
})
