// One small API per resource server adapter, the same routes for each, served on 127.0.0.1 over real
// HTTP, for adapters.test.ts to send the same requests to:
//   GET  /api/me      200 { sub, scopes, scheme } with any valid access token
//   POST /api/me      the same, plus `note`: the form body's `note` as the route read it
//   GET  /api/admin   200 { ok: true } with the extra scope `admin`
//   GET, HEAD /.well-known/oauth-protected-resource   the RFC 9728 document
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import {
  protectedResourceMetadata as expressMetadata,
  requireAccessToken as expressRequire,
} from '../../src/adapters/express.ts'
import {
  protectedResourceMetadata as fastifyMetadata,
  requireAccessToken as fastifyRequire,
} from '../../src/adapters/fastify.ts'
import {
  protectedResourceMetadata as fetchMetadata,
  requireAccessToken as fetchRequire,
} from '../../src/adapters/fetch.ts'
import {
  protectedResourceMetadata as honoMetadata,
  requireAccessToken as honoRequire,
} from '../../src/adapters/hono.ts'
import { freePort } from '../../src/app/free-port.ts'
import type { ResourceServerOptions } from '../../src/resource-server/options.ts'
import type { AccessTokenAuth } from '../../src/resource-server/resource-server.ts'
import { createResourceServer, type ResourceServer } from '../../src/resource-server/resource-server.ts'
import { onNode } from '../adapters/apps.ts'
import { ISSUER, issuerKey, NOW_SECONDS } from './support.ts'

export interface Served {
  port: number
  base: string
  api: ResourceServer
  /** Moves the resource server's clock on (it starts at NOW_SECONDS). */
  advanceSeconds(seconds: number): void
  close(): Promise<void>
}

export interface ResourceApp {
  name: string
  /**
   * Whether the router sees the request path normalized (a Web `Request`'s URL is parsed: dot segments
   * resolved) rather than as sent (Node's routers dispatch on the raw target).
   */
  normalizesTarget: boolean
  serve(extra?: Partial<ResourceServerOptions>): Promise<Served>
}

interface Api {
  api: ResourceServer
  advanceSeconds(seconds: number): void
}

function apiFor(port: number, extra: Partial<ResourceServerOptions>): Api {
  let nowMs = NOW_SECONDS * 1000
  const api = createResourceServer({
    ...extra,
    resource: `http://127.0.0.1:${port}`,
    issuer: ISSUER,
    jwks: { keys: [issuerKey().jwk] },
    scopes: ['read'],
    maxTokenLength: 4096,
    nowMs: () => nowMs,
  })
  return {
    api,
    advanceSeconds: (seconds) => {
      nowMs += seconds * 1000
    },
  }
}

/** What the routes answer: who the token is for, and the form body's `note` as the route read it. */
const who = (auth: AccessTokenAuth | undefined, note?: unknown) => ({
  sub: auth?.payload.sub,
  scopes: auth?.scopes,
  scheme: auth?.scheme,
  ...(note === undefined ? {} : { note }),
})

function nodeServed(port: number, api: Api, close: () => Promise<void>): Served {
  return { port, base: `http://127.0.0.1:${port}`, ...api, close }
}

async function serveExpress(extra: Partial<ResourceServerOptions> = {}): Promise<Served> {
  const port = await freePort('127.0.0.1')
  const served = apiFor(port, extra)
  const { api } = served
  const app = express()
  app.use(expressMetadata(api))
  app.use(express.urlencoded({ extended: false }))
  app.get('/api/me', expressRequire(api), (req, res) => {
    res.json(who(req.accessToken))
  })
  // Another route whose raw path can normalize to /api/me (/x/../api/me): the dot-segment test's target.
  app.get('/x/:y/api/me', expressRequire(api), (req, res) => {
    res.json(who(req.accessToken, 'another route'))
  })
  app.get('/api/admin', expressRequire(api, { scopes: ['admin'] }), (_req, res) => {
    res.json({ ok: true })
  })
  app.post('/api/me', expressRequire(api), (req, res) => {
    res.json(who(req.accessToken, (req.body as Record<string, unknown>).note))
  })
  const server = app.listen(port, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return nodeServed(
    port,
    served,
    () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
}

async function serveFastify(extra: Partial<ResourceServerOptions> = {}): Promise<Served> {
  const port = await freePort('127.0.0.1')
  const served = apiFor(port, extra)
  const { api } = served
  const app = Fastify()
  await app.register(fastifyMetadata, { api })
  app.get('/api/me', { onRequest: fastifyRequire(api) }, async (request) => who(request.accessToken))
  // Another route whose raw path can normalize to /api/me (/x/../api/me): the dot-segment test's target.
  app.get('/x/:y/api/me', { onRequest: fastifyRequire(api) }, async (request) =>
    who(request.accessToken, 'another route'),
  )
  app.get('/api/admin', { onRequest: fastifyRequire(api, { scopes: ['admin'] }) }, async () => ({ ok: true }))
  // As preHandler, the hook sees the parsed body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  app.post('/api/me', { preHandler: fastifyRequire(api) }, async (request) =>
    who(request.accessToken, (request.body as Record<string, unknown>).note),
  )
  await app.listen({ port, host: '127.0.0.1' })
  return nodeServed(port, served, () => app.close())
}

/** A plain fetch handler, as a Next.js route handler or Bun.serve app would write it. */
function fetchApi(api: ResourceServer): (request: Request) => Promise<Response> {
  const metadata = fetchMetadata(api)
  const me = fetchRequire(api)
  const admin = fetchRequire(api, { scopes: ['admin'] })
  return async (request) => {
    const answered = metadata(request)
    if (answered) return answered
    const path = new URL(request.url).pathname
    if (path !== '/api/me' && path !== '/api/admin') return new Response(null, { status: 404 })
    const access = await (path === '/api/me' ? me : admin)(request)
    if (!access.ok) return access.response
    if (path === '/api/admin') return Response.json({ ok: true }, { headers: access.headers })
    // The guard read a clone: the body is still the route's to read.
    const note = request.method === 'POST' ? (await request.formData()).get('note') : undefined
    return Response.json(who(access.auth, note ?? undefined), { headers: access.headers })
  }
}

/** Served by @hono/node-server, which turns node:http requests into Web `Request`s. */
async function serveOnNode(
  extra: Partial<ResourceServerOptions>,
  handler: (api: ResourceServer) => (request: Request, env: unknown) => Promise<Response>,
): Promise<Served> {
  // The resource identifier names the port, so the port is chosen first.
  const port = await freePort('127.0.0.1')
  const served = apiFor(port, extra)
  const app = await onNode(handler(served.api), port)
  return { port, base: app.url, ...served, close: app.close }
}

function honoApi(api: ResourceServer): Hono {
  const app = new Hono()
  app.use(honoMetadata(api))
  // Typed by the middleware: c.var.accessToken is the AccessTokenAuth.
  app.get('/api/me', honoRequire(api), (c) => c.json(who(c.var.accessToken)))
  app.get('/api/admin', honoRequire(api, { scopes: ['admin'] }), (c) => c.json({ ok: true }))
  app.post('/api/me', honoRequire(api), async (c) =>
    c.json(who(c.var.accessToken, (await c.req.parseBody()).note)),
  )
  return app
}

export const RESOURCE_APPS: readonly ResourceApp[] = [
  { name: 'Express', normalizesTarget: false, serve: serveExpress },
  { name: 'Fastify', normalizesTarget: false, serve: serveFastify },
  {
    name: 'fetch on Node (@hono/node-server)',
    normalizesTarget: true,
    serve: (extra = {}) => serveOnNode(extra, (api) => fetchApi(api)),
  },
  {
    name: 'Hono on Node (@hono/node-server)',
    normalizesTarget: true,
    serve: (extra = {}) =>
      serveOnNode(extra, (api) => {
        const app = honoApi(api)
        return async (request, env) => app.fetch(request, env)
      }),
  },
]
