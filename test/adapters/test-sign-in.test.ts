// The test sign-in route (jwks-bridge/testing enableTestSignIn) mounted by both adapters: an app's own
// tests sign a user in through the real handoff, with no identity provider, and only under
// NODE_ENV=test (a server configured with it refuses to start under NODE_ENV=production).
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, afterEach, describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { bridgeMiddleware } from '../../src/adapters/express.ts'
import { jwksBridgeFastify } from '../../src/adapters/fastify.ts'
import { createBridge } from '../../src/bridge/bridge.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { createTestIssuer } from '../../src/testing/test-issuer.ts'
import { enableTestSignIn } from '../../src/testing/test-sign-in.ts'

const originalEnv = process.env.NODE_ENV
afterEach(() => {
  if (originalEnv === undefined) delete process.env.NODE_ENV
  else process.env.NODE_ENV = originalEnv
})

function setup() {
  const issuer = createTestIssuer({ issuer: 'https://test-idp.example.com' })
  const stores = createMemoryStores()
  const bridge = createBridge({
    verifier: issuer.verifierOptions(),
    identities: stores.identities,
    sessions: stores.sessions,
    // Off, explicitly (the default is on): these tests are about the test sign-in route, and call it
    // without rendering a page for a CSRF token first.
    csrf: false,
  })
  return { issuer, bridge, stores }
}

const LOCAL = { host: 'localhost:3000', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' }

describe('test sign-in route in the adapters (NODE_ENV=test only)', () => {
  it('Fastify: POST /auth/test-sign-in signs the subject in through the handoff; /me sees it', async () => {
    process.env.NODE_ENV = 'test'
    const { issuer, bridge } = setup()
    const app = Fastify()
    await app.register(jwksBridgeFastify, { bridge, testSignIn: enableTestSignIn({ issuer, bridge }) })
    app.get('/me', async (request, reply) => request.identity ?? reply.code(401).send())
    const signIn = await app.inject({
      method: 'POST',
      url: '/auth/test-sign-in',
      headers: { ...LOCAL, 'content-type': 'application/json' },
      payload: JSON.stringify({ subject: 'test-user', claims: { email: 'test@example.com' } }),
    })
    assert.equal(signIn.statusCode, 204)
    const cookie = String(signIn.headers['set-cookie']).split(';')[0] as string
    const me = await app.inject({ method: 'GET', url: '/me', headers: { host: LOCAL.host, cookie } })
    assert.equal(me.statusCode, 200)
    assert.equal(me.json().subject, 'test-user')
    assert.equal(me.json().claims.email, 'test@example.com')
    await app.close()
  })

  it('Fastify: the route does not exist outside NODE_ENV=test (enableTestSignIn returns undefined)', async () => {
    process.env.NODE_ENV = 'development'
    const { issuer, bridge } = setup()
    const app = Fastify()
    await app.register(jwksBridgeFastify, { bridge, testSignIn: enableTestSignIn({ issuer, bridge }) })
    const response = await app.inject({
      method: 'POST',
      url: '/auth/test-sign-in',
      headers: { ...LOCAL, 'content-type': 'application/json' },
      payload: JSON.stringify({ subject: 'test-user' }),
    })
    assert.equal(response.statusCode, 404)
    await app.close()
  })

  it('refuses to start under NODE_ENV=production', () => {
    process.env.NODE_ENV = 'production'
    const { issuer, bridge } = setup()
    assert.throws(
      () => enableTestSignIn({ issuer, bridge }),
      (error: unknown) => (error as { code?: string }).code === 'ERR_INVALID_OPTIONS',
    )
  })

  describe('Express', () => {
    const servers: { close(): void }[] = []
    after(() => {
      for (const server of servers) server.close()
    })

    it('POST /auth/test-sign-in signs the subject in; req.identity sees it; the guard still applies', async () => {
      process.env.NODE_ENV = 'test'
      const { issuer, bridge } = setup()
      const app = express()
      app.use(bridgeMiddleware(bridge, { testSignIn: enableTestSignIn({ issuer, bridge }) }))
      app.get('/me', (req, res) => (req.identity ? res.json(req.identity) : res.sendStatus(401)))
      const server = app.listen(0, '127.0.0.1')
      servers.push(server)
      await new Promise((resolve) => server.once('listening', resolve))
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const signIn = await fetch(`${base}/auth/test-sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: base, 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ subject: 'express-test-user' }),
      })
      assert.equal(signIn.status, 204)
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string
      const me = await fetch(`${base}/me`, { headers: { cookie } })
      assert.equal(me.status, 200)
      assert.equal(((await me.json()) as { subject: string }).subject, 'express-test-user')
      // A cross-site request is refused as on the real handoff.
      const crossSite = await fetch(`${base}/auth/test-sign-in`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
        },
        body: JSON.stringify({ subject: 'attacker' }),
      })
      assert.equal(crossSite.status, 403)
    })
  })
})
