import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import { jwksBridgeFastify } from '../../src/adapters/fastify.ts'
import type { BridgeOptions } from '../../src/bridge/options.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { Clock, failingStore, ISSUER, makeBridge, signInToken, testKey } from '../bridge/support.ts'
import { rejectsUnknownOption } from '../helpers/unknown-option.ts'

async function appWith(
  overrides: Partial<BridgeOptions> = {},
  stores?: Parameters<typeof makeBridge>[1],
  clock?: Clock,
) {
  const harness = makeBridge(overrides, stores, clock)
  const app = Fastify()
  await app.register(jwksBridgeFastify, { bridge: harness.bridge })
  app.get('/me', async (request, reply) => {
    if (request.identity === null) return reply.code(401).send({ error: 'signed out' })
    return {
      subject: request.identity.subject,
      issuer: request.identity.issuer,
      session: request.bridgeSession?.issuer,
    }
  })
  // Opted out: no session lookup, identity stays null.
  app.get('/static', { config: { jwksBridge: { authenticate: false } } }, async (request) => ({
    identity: request.identity,
    session: request.bridgeSession,
  }))
  // The app's own JSON parsing must be untouched by the bridge's raw-body parser.
  app.post('/echo', async (request) => ({ got: request.body }))
  await app.ready()
  return { app, ...harness }
}

/** The app with a session store whose every call fails, and a well-formed session cookie. */
async function appWithSessionsDown() {
  const clock = new Clock()
  const memory = createMemoryStores({ nowMs: clock.read })
  const { app } = await appWith(
    {},
    { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
    clock,
  )
  return { app, cookie: `jwks-bridge-session=${'a'.repeat(22)}.${'b'.repeat(43)}` }
}

const LOCAL = { host: 'localhost:3000', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' }

function sessionCookie(setCookie: string | string[] | undefined): string {
  const first = (Array.isArray(setCookie) ? setCookie[0] : setCookie) ?? ''
  return first.split(';')[0] ?? ''
}

describe('Fastify plugin', () => {
  it('full flow over localhost http: sign in → cookie → identity on a protected route → sign out → gone', async () => {
    const { app, clock } = await appWith()
    const signIn = await app.inject({
      method: 'PUT',
      url: '/auth',
      headers: { ...LOCAL, 'content-type': 'application/json' },
      payload: JSON.stringify({ jwt: signInToken(clock, { sub: 'fastify-user' }) }),
    })
    assert.equal(signIn.statusCode, 204)
    assert.equal(signIn.headers['cache-control'], 'no-store')
    const cookie = sessionCookie(signIn.headers['set-cookie'])
    assert.match(cookie, /^jwks-bridge-session=/)

    const me = await app.inject({ method: 'GET', url: '/me', headers: { host: LOCAL.host, cookie } })
    assert.equal(me.statusCode, 200)
    assert.deepEqual(me.json(), { subject: 'fastify-user', issuer: ISSUER, session: ISSUER })

    const signOut = await app.inject({ method: 'DELETE', url: '/auth', headers: { ...LOCAL, cookie } })
    assert.equal(signOut.statusCode, 204)
    assert.match(String(signOut.headers['set-cookie']), /Max-Age=0/)
    const after = await app.inject({ method: 'GET', url: '/me', headers: { host: LOCAL.host, cookie } })
    assert.equal(after.statusCode, 401)
    await app.close()
  })

  it('behind a TLS proxy (trustProxy): __Host- cookie, form body, JSON identity when asked', async () => {
    const { app, clock } = await appWith({ trustProxy: true })
    const headers = {
      host: 'app.example.com',
      origin: 'https://app.example.com',
      'x-forwarded-proto': 'https',
    }
    const signIn = await app.inject({
      method: 'POST',
      url: '/auth',
      headers: {
        ...headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      payload: new URLSearchParams({ jwt: signInToken(clock) }).toString(),
    })
    assert.equal(signIn.statusCode, 200)
    assert.equal(signIn.json().subject, 'user-1')
    const cookie = sessionCookie(signIn.headers['set-cookie'])
    assert.match(cookie, /^__Host-jwks-bridge-session=/)
    assert.match(String(signIn.headers['set-cookie']), /; Secure; SameSite=Lax/)
    const me = await app.inject({ method: 'GET', url: '/me', headers: { ...headers, cookie } })
    assert.equal(me.statusCode, 200)
    await app.close()
  })

  it('refusals come back as the bridge’s JSON errors: cross-site 403, bad type 415, too large 413, bad JSON 400', async () => {
    const { app, clock } = await appWith()
    const put = (headers: Record<string, string>, payload: string) =>
      app.inject({ method: 'PUT', url: '/auth', headers: { ...LOCAL, ...headers }, payload })
    const body = JSON.stringify({ jwt: signInToken(clock) })
    const crossSite = await put(
      { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      body,
    )
    assert.equal(crossSite.statusCode, 403)
    assert.equal(crossSite.json().error.code, 'ERR_CROSS_SITE_REQUEST')
    const plain = await put({ 'content-type': 'text/plain' }, body)
    assert.equal(plain.statusCode, 415)
    assert.equal(plain.json().error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    const none = await app.inject({ method: 'PUT', url: '/auth', headers: LOCAL, payload: Buffer.from(body) })
    assert.equal(none.statusCode, 415)
    const large = await put(
      { 'content-type': 'application/json' },
      JSON.stringify({ jwt: 'x'.repeat(20000) }),
    )
    assert.equal(large.statusCode, 413)
    assert.equal(large.json().error.code, 'ERR_BODY_TOO_LARGE')
    const broken = await put({ 'content-type': 'application/json' }, '{"jwt":')
    assert.equal(broken.statusCode, 400)
    assert.equal(broken.json().error.code, 'ERR_BODY_INVALID')
    const bad = await put({ 'content-type': 'application/json' }, JSON.stringify({ jwt: 'a.b.c' }))
    assert.equal(bad.statusCode, 401)
    await app.close()
  })

  it('leaves the app’s other routes and parsers alone', async () => {
    const { app } = await appWith()
    const echo = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })
    assert.equal(echo.statusCode, 200)
    assert.deepEqual(echo.json(), { got: { a: 1 } })
    const anonymous = await app.inject({ method: 'GET', url: '/me' })
    assert.equal(anonymous.statusCode, 401)
    const getAuth = await app.inject({ method: 'GET', url: '/auth' })
    assert.equal(getAuth.statusCode, 404)
    await app.close()
  })

  it('mounts back-channel logout when enabled', async () => {
    // Back-channel logout needs the client id as audience (OIDC Back-Channel Logout 1.0 §2.6).
    const { app } = await appWith({
      backChannelLogout: true,
      verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1' },
    })
    const response = await app.inject({
      method: 'POST',
      url: '/auth/backchannel-logout',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'logout_token=a.b.c',
    })
    assert.equal(response.statusCode, 400)
    assert.equal(response.headers['cache-control'], 'no-store')
    await app.close()
  })

  it('a session store that is down gives 503 on protected routes', async () => {
    const { app, cookie } = await appWithSessionsDown()
    const me = await app.inject({ method: 'GET', url: '/me', headers: { host: LOCAL.host, cookie } })
    assert.equal(me.statusCode, 503)
    assert.equal(me.json().error.code, 'ERR_STORE_UNAVAILABLE')
    await app.close()
  })

  it('a route with config.jwksBridge.authenticate false does no session lookup: it works with the store down', async () => {
    const { app, cookie } = await appWithSessionsDown()
    const asset = await app.inject({ method: 'GET', url: '/static', headers: { host: LOCAL.host, cookie } })
    assert.equal(asset.statusCode, 200)
    assert.deepEqual(asset.json(), { identity: null, session: null })
    const me = await app.inject({ method: 'GET', url: '/me', headers: { host: LOCAL.host, cookie } })
    assert.equal(me.statusCode, 503, 'the other routes still look the session up')
    await app.close()
  })
})

describe('Fastify plugin: options', () => {
  it("issue #13: a misspelt option is refused, naming the nearest known one; Fastify's own are accepted", async () => {
    const { bridge } = makeBridge()
    const app = Fastify()
    app.register(jwksBridgeFastify, { bridge, testSignin: undefined } as never)
    await rejectsUnknownOption(async () => await app.ready(), 'jwksBridgeFastify', 'testSignin', 'testSignIn')
    await app.close()
    const accepted = Fastify()
    await accepted.register(jwksBridgeFastify, { bridge, prefix: '/ignored', logLevel: 'warn' })
    await accepted.close()
    bridge.close()
  })
})
