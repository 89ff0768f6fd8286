import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { prefersJson } from '../../src/bridge/handoff.ts'
import type { TokenProfile } from '../../src/bridge/types.ts'
import { JwksBridgeError } from '../../src/errors.ts'
import {
  browserRequest,
  cookieHeader,
  errorCode,
  HOST,
  handoffRequest,
  ISSUER,
  makeBridge,
  setCookieNamed,
  signInToken,
  testKey,
} from './support.ts'

const SESSION_COOKIE = '__Host-jwks-bridge-session'

describe('handoff: a verified token becomes an identity and a new session', () => {
  it('answers 204 with a __Host- session cookie, and the cookie authenticates later requests', async () => {
    const { bridge, clock, identities } = makeBridge()
    const response = await bridge.handle(handoffRequest(signInToken(clock, { email: 'a@example.com' })))
    assert.equal(response?.status, 204)
    assert.equal(response?.body, undefined)
    assert.equal(response?.headers['cache-control'], 'no-store')
    const cookie = setCookieNamed(response, SESSION_COOKIE)
    assert.ok(cookie, 'a session cookie is set')
    assert.match(cookie, /; Path=\/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax$/)
    assert.doesNotMatch(cookie, /Domain=/i)

    const auth = await bridge.authenticate(
      browserRequest({ method: 'GET', path: '/me', headers: { cookie: cookieHeader(response) } }),
    )
    assert.ok(auth)
    assert.equal(auth.identity.subject, 'user-1')
    assert.equal(auth.identity.issuer, ISSUER)
    assert.deepEqual(auth.identity.claims, { email: 'a@example.com' })
    assert.equal('secretHash' in auth.session, false, 'the session view never carries the secret hash')
    const stored = await identities.findBySubject(ISSUER, 'user-1')
    assert.equal(stored?.id, auth.identity.id)
  })

  it('accepts the token as a form field too', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(handoffRequest(signInToken(clock), { form: true }))
    assert.equal(response?.status, 204)
    assert.ok(setCookieNamed(response, SESSION_COOKIE))
  })

  it('answers POST like PUT, with a query string ignored', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), { method: 'POST', path: '/auth?next=/' }),
    )
    assert.equal(response?.status, 204)
  })

  it('answers 200 with the identity when the client asks for JSON', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock, { name: 'Ada', email_verified: true, role: 'admin' }), {
        headers: { accept: 'application/json' },
      }),
    )
    assert.equal(response?.status, 200)
    const body = response?.body as {
      subject: string
      issuer: string
      claims: Record<string, unknown>
      id: string
    }
    assert.equal(body.subject, 'user-1')
    assert.equal(body.issuer, ISSUER)
    // Only the configured snapshot (email, name, email_verified by default) is kept.
    assert.deepEqual(body.claims, { name: 'Ada', email_verified: true })
    assert.equal(typeof body.id, 'string')
  })

  it('keeps the configured claims snapshot only', async () => {
    const { bridge, clock } = makeBridge({ claimsSnapshot: ['role'] })
    const response = await bridge.handle(
      handoffRequest(signInToken(clock, { role: 'admin', email: 'x@example.com' }), {
        headers: { accept: 'application/json' },
      }),
    )
    assert.deepEqual((response?.body as { claims?: unknown } | undefined)?.claims, { role: 'admin' })
  })

  it('creates a new session on every sign-in, never reusing the old id', async () => {
    const { bridge, clock } = makeBridge()
    const first = await bridge.handle(handoffRequest(signInToken(clock, { sub: 'alice' })))
    const second = await bridge.handle(
      handoffRequest(signInToken(clock, { sub: 'bob' }), { headers: { cookie: cookieHeader(first) } }),
    )
    assert.equal(second?.status, 204)
    const firstId = cookieHeader(first).split('=')[1]?.split('.')[0]
    const secondId = cookieHeader(second).split('=')[1]?.split('.')[0]
    assert.ok(firstId && secondId)
    assert.notEqual(firstId, secondId)
    // Signing in as another identity replaces the session: the old cookie no longer works.
    const old = await bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: cookieHeader(first) } }),
    )
    assert.equal(old, null)
    const now = await bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: cookieHeader(second) } }),
    )
    assert.equal(now?.identity.subject, 'bob')
  })

  it('OWASP session management: signing in again as the same identity renews the session id and ends the old session', async () => {
    const { bridge, clock, sessions } = makeBridge()
    const first = await bridge.handle(handoffRequest(signInToken(clock)))
    const cookie = cookieHeader(first)
    const again = await bridge.handle(handoffRequest(signInToken(clock), { headers: { cookie } }))
    assert.equal(again?.status, 204)
    const renewed = setCookieNamed(again, SESSION_COOKIE)
    assert.ok(renewed, 'a new session cookie is set')
    const oldId = cookie.split('=')[1]?.split('.')[0] as string
    const newId = cookieHeader(again).split('=')[1]?.split('.')[0] as string
    assert.notEqual(newId, oldId)
    assert.equal(await sessions.get(oldId), undefined, 'the old session has ended')
    assert.equal(await bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })), null)
    const auth = await bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: cookieHeader(again) } }),
    )
    assert.equal(auth?.identity.subject, 'user-1')
  })

  it('OWASP session management: a cookie with a session id but the wrong secret ends nothing at sign-in', async () => {
    // Only a cookie whose secret matches proves the session: a session id alone (they are not
    // secrets) must not let anyone end another browser's session by signing in with it.
    const { bridge, clock, sessions } = makeBridge()
    const victim = cookieHeader(await bridge.handle(handoffRequest(signInToken(clock))))
    const [name, value] = victim.split('=') as [string, string]
    const [id, secret] = value.split('.') as [string, string]
    const wrongSecret = `${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`
    const forged = `${name}=${id}.${wrongSecret}`
    const attacker = await bridge.handle(
      handoffRequest(signInToken(clock, { sub: 'attacker' }), { headers: { cookie: forged } }),
    )
    assert.equal(attacker?.status, 204)
    assert.ok(await sessions.get(id), "the victim's session still exists")
    const auth = await bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie: victim } }))
    assert.equal(auth?.identity.subject, 'user-1')
  })

  it('OWASP CSRF Prevention (login CSRF): signing in again clears the pre-session CSRF cookie too', async () => {
    const { bridge, clock } = makeBridge({ csrf: true })
    const page = (cookie?: string) =>
      bridge.csrfTokenFor(browserRequest({ method: 'GET', path: '/', headers: { cookie } }))
    const signIn = async (session: string | undefined) => {
      const csrf = page()
      const cookie = [cookieHeader(csrf.cookies), session].filter(Boolean).join('; ')
      return bridge.handle(
        handoffRequest(signInToken(clock), { headers: { cookie, 'x-csrf-token': csrf.token } }),
      )
    }
    const first = await signIn(undefined)
    const again = await signIn(cookieHeader(first))
    assert.equal(again?.status, 204)
    assert.ok(setCookieNamed(again, SESSION_COOKIE))
    assert.match(
      setCookieNamed(again, `${SESSION_COOKIE}-csrf`) ?? '',
      /^__Host-jwks-bridge-session-csrf=;.*Max-Age=0/,
    )
  })

  it('a replayed token ends nothing: the presented session survives', async () => {
    const { bridge, clock } = makeBridge()
    const token = signInToken(clock)
    const first = await bridge.handle(handoffRequest(token))
    const cookie = cookieHeader(first)
    const replay = await bridge.handle(handoffRequest(token, { headers: { cookie } }))
    assert.equal(errorCode(replay), 'ERR_TOKEN_REPLAYED')
    assert.deepEqual(replay?.cookies, [])
    assert.ok(await bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })))
  })

  it('keeps one identity for one (issuer, subject) across sign-ins, updating the last sign-in time', async () => {
    const { bridge, clock, identities } = makeBridge()
    await bridge.handle(handoffRequest(signInToken(clock, { email: 'old@example.com' })))
    const before = await identities.findBySubject(ISSUER, 'user-1')
    clock.advanceSeconds(60)
    await bridge.handle(handoffRequest(signInToken(clock, { email: 'new@example.com' })))
    const after = await identities.findBySubject(ISSUER, 'user-1')
    assert.equal(after?.id, before?.id)
    assert.equal(after?.createdAtMs, before?.createdAtMs)
    assert.equal(after?.lastSignInAtMs, clock.nowMs)
    assert.deepEqual(after?.claims, { email: 'new@example.com' })
  })

  it('stores the provider session id (sid) with the session', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(handoffRequest(signInToken(clock, { sid: 'op-session-7' })))
    const auth = await bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: cookieHeader(response) } }),
    )
    assert.equal(auth?.session.providerSessionId, 'op-session-7')
    assert.equal(auth?.session.issuer, ISSUER)
  })

  it('returns undefined for routes that are not the bridge’s', async () => {
    const { bridge } = makeBridge()
    assert.equal(await bridge.handle(browserRequest({ method: 'GET', path: '/auth' })), undefined)
    assert.equal(await bridge.handle(browserRequest({ method: 'PUT', path: '/other' })), undefined)
    assert.equal(await bridge.handle(browserRequest({ method: 'PUT', path: '/auth/' })), undefined)
    // Back-channel logout is off unless enabled.
    assert.equal(
      await bridge.handle(browserRequest({ method: 'POST', path: '/auth/backchannel-logout' })),
      undefined,
    )
  })

  it('uses a configured authPath and cookie name', async () => {
    const { bridge, clock } = makeBridge({ authPath: '/session', cookie: { name: 'sid' } })
    assert.equal(await bridge.handle(handoffRequest(signInToken(clock))), undefined)
    const response = await bridge.handle(handoffRequest(signInToken(clock), { path: '/session' }))
    assert.equal(response?.status, 204)
    assert.ok(setCookieNamed(response, '__Host-sid'))
  })

  it('with a cookie domain, uses the __Secure- prefix and sets Domain', async () => {
    const { bridge, clock } = makeBridge({ cookie: { domain: 'example.com' } })
    const response = await bridge.handle(handoffRequest(signInToken(clock)))
    const cookie = setCookieNamed(response, '__Secure-jwks-bridge-session')
    assert.ok(cookie)
    assert.match(cookie, /; Domain=example\.com;/)
    const auth = await bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: cookieHeader(response) } }),
    )
    assert.ok(auth)
  })
})

describe('handoff: token profile and replay guard', () => {
  it('runs the profile: a token it refuses signs nobody in (401 ERR_PROFILE_MISMATCH)', async () => {
    const loginOnly: TokenProfile = {
      name: 'login-only',
      check(result) {
        if (result.payload.kind !== 'login') {
          throw new JwksBridgeError('ERR_PROFILE_MISMATCH', 'not a login token', { claim: 'kind' })
        }
        return { subject: String(result.payload.sub), providerSessionId: null }
      },
    }
    const { bridge, clock, identities } = makeBridge({ profile: loginOnly })
    const refused = await bridge.handle(handoffRequest(signInToken(clock, { kind: 'api' })))
    assert.equal(refused?.status, 401)
    assert.equal(errorCode(refused), 'ERR_PROFILE_MISMATCH')
    assert.deepEqual(refused?.cookies, [])
    assert.equal(await identities.findBySubject(ISSUER, 'user-1'), undefined)
    const accepted = await bridge.handle(handoffRequest(signInToken(clock, { kind: 'login' })))
    assert.equal(accepted?.status, 204)
  })

  it('the default generic profile refuses a logout token presented for sign-in', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(
        signInToken(clock, { events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }),
      ),
    )
    assert.equal(response?.status, 401)
    assert.equal(errorCode(response), 'ERR_PROFILE_MISMATCH')
  })

  it('a profile’s verifier options are applied when the bridge builds the verifier', async () => {
    const needsTyp: TokenProfile = {
      name: 'typed',
      verifierOptions: { typ: 'at+jwt', requiredClaims: ['client_id'] },
      check: (result) => ({ subject: String(result.payload.sub), providerSessionId: null }),
    }
    const { bridge, clock } = makeBridge({ profile: needsTyp })
    const untyped = await bridge.handle(handoffRequest(signInToken(clock, { client_id: 'c' })))
    assert.equal(errorCode(untyped), 'ERR_TYP_MISMATCH')
    const noClient = await bridge.handle(handoffRequest(signInToken(clock, {}, { typ: 'at+jwt' })))
    assert.equal(errorCode(noClient), 'ERR_CLAIM_MISSING')
    const ok = await bridge.handle(handoffRequest(signInToken(clock, { client_id: 'c' }, { typ: 'at+jwt' })))
    assert.equal(ok?.status, 204)
  })

  it('refuses a second use of the same token (jti) with 401 ERR_TOKEN_REPLAYED', async () => {
    const { bridge, clock } = makeBridge()
    const token = signInToken(clock)
    assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204)
    const replay = await bridge.handle(handoffRequest(token))
    assert.equal(replay?.status, 401)
    assert.equal(errorCode(replay), 'ERR_TOKEN_REPLAYED')
    assert.deepEqual(replay?.cookies, [])
  })

  it('refuses a replay of a token without jti (remembered by its hash)', async () => {
    const { bridge, clock } = makeBridge()
    const token = signInToken(clock, { jti: undefined })
    assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204)
    assert.equal(errorCode(await bridge.handle(handoffRequest(token, { form: true }))), 'ERR_TOKEN_REPLAYED')
  })

  it('refuses a token older than maxTokenAgeSeconds (401 ERR_JWT_TOO_OLD), default 120 s', async () => {
    const { bridge, clock } = makeBridge()
    const now = Math.floor(clock.seconds)
    const old = await bridge.handle(handoffRequest(signInToken(clock, { iat: now - 121 })))
    assert.equal(old?.status, 401)
    assert.equal(errorCode(old), 'ERR_JWT_TOO_OLD')
    const fresh = await bridge.handle(handoffRequest(signInToken(clock, { iat: now - 119 })))
    assert.equal(fresh?.status, 204)
  })

  it('refuses a token without iat (its age cannot be known)', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(handoffRequest(signInToken(clock, { iat: undefined })))
    assert.equal(response?.status, 401)
    assert.equal(errorCode(response), 'ERR_CLAIM_MISSING')
  })

  it('honours a configured maxTokenAgeSeconds', async () => {
    const { bridge, clock } = makeBridge({ maxTokenAgeSeconds: 10 })
    const response = await bridge.handle(
      handoffRequest(signInToken(clock, { iat: Math.floor(clock.seconds) - 11 })),
    )
    assert.equal(errorCode(response), 'ERR_JWT_TOO_OLD')
  })

  it('a replayed token is still refused when presented after the first one expired from the age window', async () => {
    const { bridge, clock } = makeBridge({ maxTokenAgeSeconds: 600 })
    const token = signInToken(clock)
    assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204)
    clock.advanceSeconds(300)
    assert.equal(errorCode(await bridge.handle(handoffRequest(token))), 'ERR_TOKEN_REPLAYED')
  })
})

describe('replay guard (single use, RFC 7519 §4.1.7 jti): remembered for as long as the handoff could accept the token', () => {
  it('with clockToleranceSeconds 120, a used token still refuses to sign in again at exp + 65 s', async () => {
    const { bridge, clock } = makeBridge({
      verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, clockToleranceSeconds: 120 },
    })
    const now = Math.floor(clock.seconds)
    // A short-lived token: exp comes before the age limit (iat + 120 s).
    const token = signInToken(clock, { iat: now, exp: now + 30 })
    assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204)
    clock.advanceSeconds(30 + 65)
    const replay = await bridge.handle(handoffRequest(token))
    assert.equal(replay?.status, 401)
    assert.equal(errorCode(replay), 'ERR_TOKEN_REPLAYED')
    assert.deepEqual(replay?.cookies, [])
    // Until the age limit, at every point the verifier would still accept the token.
    clock.advanceSeconds(25)
    assert.equal(errorCode(await bridge.handle(handoffRequest(token))), 'ERR_TOKEN_REPLAYED')
    clock.advanceSeconds(1)
    assert.equal(errorCode(await bridge.handle(handoffRequest(token))), 'ERR_JWT_TOO_OLD')
  })
})

describe('prefersJson', () => {
  it('reads Accept the way the handoff needs', () => {
    assert.equal(prefersJson(undefined), false)
    assert.equal(prefersJson('*/*'), false)
    assert.equal(prefersJson('application/json'), true)
    assert.equal(prefersJson('application/json, */*;q=0.1'), true)
    assert.equal(prefersJson('text/html,application/xhtml+xml,*/*;q=0.8'), false)
    assert.equal(prefersJson('text/html;q=0.9, application/json;q=0.5'), false)
    assert.equal(prefersJson('application/json;q=0'), false)
  })
})

describe('handoff: host names', () => {
  it('works for the host named in the Host header, whatever it is', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { host: `${HOST}:8443`, origin: `https://${HOST}:8443` },
      }),
    )
    assert.equal(response?.status, 204)
  })
})
