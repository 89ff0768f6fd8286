// The resource server behind Express and Fastify, over real loopback HTTP: the same requests, the
// same answers. Each framework gets its own server on a free port of 127.0.0.1.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import {
  protectedResourceMetadata as expressMetadata,
  requireAccessToken as expressRequire,
} from '../../src/adapters/express.ts'
import {
  protectedResourceMetadata as fastifyMetadata,
  requireAccessToken as fastifyRequire,
} from '../../src/adapters/fastify.ts'
import { freePort } from '../../src/app/free-port.ts'
import type { ResourceServerOptions } from '../../src/resource-server/options.ts'
import { createResourceServer, type ResourceServer } from '../../src/resource-server/resource-server.ts'
import { rawGet } from './http.ts'
import {
  clientKey,
  dpopProof,
  ISSUER,
  issuerKey,
  NOW_SECONDS,
  accessToken as signAccessToken,
} from './support.ts'

interface Served {
  port: number
  base: string
  api: ResourceServer
  close(): Promise<void>
}

function apiFor(port: number, extra: Partial<ResourceServerOptions> = {}): ResourceServer {
  return createResourceServer({
    ...extra,
    resource: `http://127.0.0.1:${port}`,
    issuer: ISSUER,
    jwks: { keys: [issuerKey().jwk] },
    scopes: ['read'],
    maxTokenLength: 4096,
    nowMs: () => NOW_SECONDS * 1000,
  })
}

const who = (auth: { payload: { sub?: string }; scopes: readonly string[]; scheme: string } | undefined) => ({
  sub: auth?.payload.sub,
  scopes: auth?.scopes,
  scheme: auth?.scheme,
})

async function serveExpress(extra: Partial<ResourceServerOptions> = {}): Promise<Served> {
  const port = await freePort('127.0.0.1')
  const api = apiFor(port, extra)
  const app = express()
  app.use(expressMetadata(api))
  app.use(express.urlencoded({ extended: false }))
  app.get('/api/me', expressRequire(api), (req, res) => {
    res.json(who(req.accessToken))
  })
  app.get('/api/admin', expressRequire(api, { scopes: ['admin'] }), (_req, res) => {
    res.json({ ok: true })
  })
  app.post('/api/me', expressRequire(api), (req, res) => {
    res.json(who(req.accessToken))
  })
  const server = app.listen(port, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    api,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function serveFastify(extra: Partial<ResourceServerOptions> = {}): Promise<Served> {
  const port = await freePort('127.0.0.1')
  const api = apiFor(port, extra)
  const app = Fastify()
  await app.register(fastifyMetadata, { api })
  app.get('/api/me', { onRequest: fastifyRequire(api) }, async (request) => who(request.accessToken))
  app.get('/api/admin', { onRequest: fastifyRequire(api, { scopes: ['admin'] }) }, async () => ({ ok: true }))
  // As preHandler, the hook sees the parsed body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  app.post('/api/me', { preHandler: fastifyRequire(api) }, async (request) => who(request.accessToken))
  await app.listen({ port, host: '127.0.0.1' })
  return { port, base: `http://127.0.0.1:${port}`, api, close: () => app.close() }
}

for (const [name, serve] of [
  ['Express', serveExpress],
  ['Fastify', serveFastify],
] as const) {
  describe(`requireAccessToken behind ${name} (real HTTP on 127.0.0.1)`, () => {
    let served: Served
    before(async () => {
      served = await serve()
    })
    after(async () => {
      await served.close()
    })
    const url = (path = '/api/me') => `${served.base}${path}`
    // RFC 8707: tokens issued for this server's resource identifier.
    const accessToken = (
      claims: Record<string, unknown> = {},
      header: Record<string, unknown> = {},
      key?: ReturnType<typeof clientKey>,
    ) => signAccessToken({ aud: served.api.resource, ...claims }, header, key)

    it('RFC 6750 §2.1: a Bearer access token reaches the route with payload and scopes on the request', async () => {
      const response = await fetch(url(), { headers: { authorization: `Bearer ${accessToken()}` } })
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { sub: 'user-1', scopes: ['read', 'write'], scheme: 'Bearer' })
    })

    it('RFC 9110 §11.1: the scheme matches case-insensitively', async () => {
      const response = await fetch(url(), { headers: { authorization: `bEARER ${accessToken()}` } })
      assert.equal(response.status, 200)
    })

    it('RFC 6750 §3.1: no token → 401 with the challenges and resource_metadata, and a JSON error', async () => {
      const response = await fetch(url())
      assert.equal(response.status, 401)
      const meta = `${served.base}/.well-known/oauth-protected-resource`
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer resource_metadata="${meta}", DPoP algs="${served.api.metadata().dpop_signing_alg_values_supported?.join(' ')}", resource_metadata="${meta}"`,
      )
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'ERR_TOKEN_MISSING')
    })

    it('RFC 9449 §7.1: a DPoP-bound token with its proof passes; the same proof again is refused (§11.1)', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      const proof = dpopProof(key, token, { url: url() })
      const headers = { authorization: `DPoP ${token}`, dpop: proof }
      const first = await fetch(url(), { headers })
      assert.equal(first.status, 200)
      assert.equal(((await first.json()) as { scheme: string }).scheme, 'DPoP')
      const again = await fetch(url(), { headers })
      assert.equal(again.status, 401)
      assert.match(again.headers.get('www-authenticate') ?? '', /DPoP error="invalid_dpop_proof"/)
    })

    it('RFC 9449 §4.3 check 9: a proof made for another path of this API is refused', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      const proof = dpopProof(key, token, { url: url('/api/admin') })
      const response = await fetch(url(), { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      assert.equal(response.status, 401)
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'ERR_DPOP_PROOF_INVALID',
      )
    })

    it('RFC 9449 §4.3 check 9: htu is compared with the API’s own origin, not a forged Host header', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      // A proof made for another server, replayed here with that server's name in Host.
      const forged = dpopProof(key, token, { url: 'http://other.example:8080/api/me' })
      const refused = await rawGet(
        served.port,
        '/api/me',
        [`Authorization: DPoP ${token}`, `DPoP: ${forged}`],
        'other.example:8080',
      )
      assert.equal(refused.status, 401)
      assert.match(refused.body, /ERR_DPOP_PROOF_INVALID/)
      // A proof for this API passes whatever Host says.
      const proof = dpopProof(key, token, { url: url() })
      const passed = await rawGet(
        served.port,
        '/api/me',
        [`Authorization: DPoP ${token}`, `DPoP: ${proof}`],
        'other.example:8080',
      )
      assert.equal(passed.status, 200)
    })

    it('RFC 9449 §7.2: a DPoP-bound token sent as Bearer → 401 invalid_token', async () => {
      const response = await fetch(url(), {
        headers: { authorization: `Bearer ${accessToken({}, {}, clientKey())}` },
      })
      assert.equal(response.status, 401)
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/)
    })

    it('RFC 6750 §3.1: a route’s missing scope → 403 insufficient_scope naming every scope needed', async () => {
      const response = await fetch(url('/api/admin'), {
        headers: { authorization: `Bearer ${accessToken()}` },
      })
      assert.equal(response.status, 403)
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /error="insufficient_scope".*scope="read admin"/,
      )
    })

    it('RFC 6750 §3.1 invalid_request: two Authorization headers → 400', async () => {
      const token = accessToken()
      const response = await rawGet(served.port, '/api/me', [
        `Authorization: Bearer ${token}`,
        `Authorization: Bearer ${token}`,
      ])
      assert.equal(response.status, 400)
      assert.match(response.headers['www-authenticate'] ?? '', /^Bearer error="invalid_request"/)
      assert.ok(!response.body.includes(token.slice(0, 30)), 'the token is never echoed')
    })

    it('RFC 6750 §3.1 invalid_request: a list of credentials, or two DPoP headers → 400', async () => {
      const token = accessToken()
      const list = await rawGet(served.port, '/api/me', [`Authorization: Bearer ${token}, Bearer ${token}`])
      assert.equal(list.status, 400)
      const dpops = await rawGet(served.port, '/api/me', [
        `Authorization: DPoP ${token}`,
        'DPoP: a.b.c',
        'DPoP: d.e.f',
      ])
      assert.equal(dpops.status, 400)
      assert.match(dpops.body, /2 DPoP headers/)
    })

    it('a huge Authorization header → 400 without the value in the answer', async () => {
      const huge = 'a'.repeat(12_000)
      const response = await rawGet(served.port, '/api/me', [`Authorization: Bearer ${huge}`])
      assert.equal(response.status, 400)
      assert.ok(response.body.length < 300)
    })

    it('RFC 6750 §2: a token in both the header and the form body → 400; in the query → 400', async () => {
      const token = accessToken()
      const both = await fetch(url(), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      })
      assert.equal(both.status, 400)
      assert.equal(((await both.json()) as { error: { code: string } }).error.code, 'ERR_REQUEST_INVALID')
      const query = await fetch(`${url()}?access_token=${token}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      assert.equal(query.status, 400)
    })

    it('RFC 9728 §3: the metadata document is served at /.well-known/oauth-protected-resource', async () => {
      const response = await fetch(url('/.well-known/oauth-protected-resource'))
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), served.api.metadata())
      assert.equal(response.headers.get('access-control-allow-origin'), '*')
    })
  })
}

for (const [name, serve] of [
  ['Express', serveExpress],
  ['Fastify', serveFastify],
] as const) {
  describe(`server DPoP nonces behind ${name}`, () => {
    let served: Served
    before(async () => {
      served = await serve({ dpopNonce: { secret: 'n'.repeat(32) } })
    })
    after(async () => {
      await served.close()
    })

    it('RFC 9449 §9: a proof without the nonce → 401 use_dpop_nonce with DPoP-Nonce; with it → 200', async () => {
      const key = clientKey()
      const token = signAccessToken({ aud: served.api.resource }, {}, key)
      const url = `${served.base}/api/me`
      const first = await fetch(url, {
        headers: { authorization: `DPoP ${token}`, dpop: dpopProof(key, token, { url }) },
      })
      assert.equal(first.status, 401)
      assert.match(first.headers.get('www-authenticate') ?? '', /DPoP error="use_dpop_nonce"/)
      const nonce = first.headers.get('dpop-nonce') as string
      assert.ok(nonce.length > 0)
      const proof = dpopProof(key, token, { url, claims: { nonce } })
      const second = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      assert.equal(second.status, 200)
    })
  })
}
