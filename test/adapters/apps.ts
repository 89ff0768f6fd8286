// One small app per adapter, the same routes for each, served on 127.0.0.1 over real HTTP: the apps
// that the adapter conformance suite (src/testing/adapter-conformance.ts) and the Chromium sign-in
// test drive.
//   GET /        a page: the meta tags (the CSRF token among them) and the browser script (only when
//                `page` is given); the CSRF cookie is set with it
//   GET /client.js   the browser script (classic, window.JwksBridge)
//   GET /me      200 { subject, issuer } or 401; the bridge's 503 when its store is down
//   GET /public  opted out of authentication: 200 { public: true }, no session lookup
//   anything else: 404
import type { AddressInfo } from 'node:net'
import { serve as serveNode } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { bridgeMiddleware, toBridgeRequest as expressBridgeRequest } from '../../src/adapters/express.ts'
import { jwksBridgeFastify } from '../../src/adapters/fastify.ts'
import { createFetchAdapter, errorToResponse, type FetchConnection } from '../../src/adapters/fetch.ts'
import {
  toBridgeRequest as honoBridgeRequest,
  type JwksBridgeEnv,
  jwksBridge,
} from '../../src/adapters/hono.ts'
import type { Identity } from '../../src/stores/types.ts'
import type { AdapterConformanceApp, AdapterConformanceSetup } from '../../src/testing/adapter-conformance.ts'

export interface AppSetup extends AdapterConformanceSetup {
  /** The page for GET /, given whether the request has a session and the CSRF token for its meta tag. */
  page?: (hasSession: boolean, csrfToken: string) => string
  /** The classic browser script, for GET /client.js. */
  clientScript?: string
}

export type ServeApp = (setup: AppSetup) => Promise<AdapterConformanceApp>

const me = (identity: Identity) => ({ subject: identity.subject, issuer: identity.issuer })
const HTML = 'text/html; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'

export const serveExpress: ServeApp = async (setup) => {
  const app = express()
  // Registered before the middleware: the bridge never sees it (Express's route opt-out).
  app.get('/public', (_req, res) => {
    res.json({ public: true })
  })
  app.get('/client.js', (_req, res) => {
    res.type(JS).send(setup.clientScript ?? '')
  })
  app.use(bridgeMiddleware(setup.bridge, { requestId: (req) => req.get(setup.requestIdHeader) }))
  app.get('/me', (req, res) => {
    if (req.identity) res.json(me(req.identity))
    else res.status(401).json({ error: 'signed out' })
  })
  if (setup.page !== undefined) {
    const page = setup.page
    app.get('/', (req, res) => {
      const csrf = setup.bridge.csrfTokenFor(expressBridgeRequest(req, req.originalUrl))
      if (csrf.cookies.length > 0) res.append('Set-Cookie', csrf.cookies)
      res.type(HTML).send(page(req.identity != null, csrf.token))
    })
  }
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const serveFastify: ServeApp = async (setup) => {
  const app = Fastify({ requestIdHeader: setup.requestIdHeader })
  await app.register(jwksBridgeFastify, { bridge: setup.bridge })
  const skip = { config: { jwksBridge: { authenticate: false } } }
  app.get('/public', skip, async () => ({ public: true }))
  app.get('/client.js', skip, async (_request, reply) => reply.type(JS).send(setup.clientScript ?? ''))
  app.get('/me', async (request, reply) =>
    request.identity ? me(request.identity) : reply.code(401).send({ error: 'signed out' }),
  )
  if (setup.page !== undefined) {
    const page = setup.page
    app.get('/', async (request, reply) => {
      const csrf = setup.bridge.csrfTokenFor(expressBridgeRequest(request.raw, request.url))
      if (csrf.cookies.length > 0) reply.header('set-cookie', csrf.cookies)
      return reply.type(HTML).send(page(request.identity !== null, csrf.token))
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: async () => {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

/** A plain fetch handler (no framework) over jwks-bridge/fetch. */
export function fetchHandler(
  setup: AppSetup,
): (request: Request, connection?: FetchConnection) => Promise<Response> {
  const adapter = createFetchAdapter(setup.bridge, {
    requestId: (request) => request.headers.get(setup.requestIdHeader) ?? undefined,
  })
  return async (request, connection) => {
    const answered = await adapter.handleRequest(request, connection)
    if (answered) return answered
    const path = new URL(request.url).pathname
    // Routes that do not call authenticateRequest: the fetch adapter's opt-out is not asking.
    if (path === '/public') return Response.json({ public: true })
    if (path === '/client.js')
      return new Response(setup.clientScript ?? '', { headers: { 'content-type': JS } })
    if (path !== '/me' && !(path === '/' && setup.page !== undefined))
      return new Response('no such page', { status: 404 })
    let auth: Awaited<ReturnType<typeof adapter.authenticateRequest>>
    try {
      auth = await adapter.authenticateRequest(request, connection)
    } catch (error) {
      const refusal = errorToResponse(error)
      if (refusal === null) throw error
      return refusal
    }
    if (path === '/' && setup.page !== undefined) {
      const csrf = setup.bridge.csrfTokenFor(adapter.bridgeRequest(request, connection))
      const headers = new Headers({ 'content-type': HTML })
      for (const cookie of csrf.cookies) headers.append('set-cookie', cookie)
      return new Response(setup.page(auth !== null, csrf.token), { headers })
    }
    return auth ? Response.json(me(auth.identity)) : Response.json({ error: 'signed out' }, { status: 401 })
  }
}

/** @hono/node-server's env: the node:http request, whose socket has the peer address. */
export interface NodeServerEnv {
  incoming: import('node:http').IncomingMessage
}

/** Serves a fetch handler with @hono/node-server (node:http requests as Web-standard Requests). */
export async function onNode(
  handler: (request: Request, env: NodeServerEnv) => Promise<Response>,
  port = 0,
): Promise<AdapterConformanceApp> {
  let server: ReturnType<typeof serveNode> | undefined
  const listening = await new Promise<number>((resolve) => {
    server = serveNode(
      { fetch: (request, env) => handler(request, env as NodeServerEnv), hostname: '127.0.0.1', port },
      (info) => resolve(info.port),
    )
  })
  const running = server as unknown as import('node:http').Server
  return {
    url: `http://127.0.0.1:${listening}`,
    close: () =>
      new Promise((resolve) => {
        running.closeAllConnections()
        running.close(() => resolve())
      }),
  }
}

export const serveFetchOnNode: ServeApp = (setup) => {
  const handler = fetchHandler(setup)
  // The peer address from the socket, as the app on @hono/node-server has it.
  return onNode((request, env) => handler(request, { remoteAddress: env.incoming.socket.remoteAddress }))
}

export function honoApp(setup: AppSetup): Hono<JwksBridgeEnv> {
  const app = new Hono<JwksBridgeEnv>()
  // Registered before the middleware: Hono's route opt-out.
  app.get('/public', (c) => c.json({ public: true }))
  app.get('/client.js', (c) => c.body(setup.clientScript ?? '', 200, { 'content-type': JS }))
  app.use(jwksBridge(setup.bridge, { requestId: (c) => c.req.header(setup.requestIdHeader) }))
  app.get('/me', (c) => {
    // Typed: c.var.identity is Identity | null.
    const identity = c.var.identity
    return identity ? c.json(me(identity)) : c.json({ error: 'signed out' }, 401)
  })
  if (setup.page !== undefined) {
    const page = setup.page
    app.get('/', (c) => {
      const csrf = setup.bridge.csrfTokenFor(honoBridgeRequest(c))
      for (const cookie of csrf.cookies) c.header('set-cookie', cookie, { append: true })
      return c.html(page(c.var.identity !== null, csrf.token))
    })
  }
  return app
}

export const serveHono: ServeApp = (setup) => {
  const app = honoApp(setup)
  // The env reaches the middleware as c.env: it takes the peer address from env.incoming.socket.
  return onNode(async (request, env) => app.fetch(request, env))
}

export const ADAPTER_APPS: readonly (readonly [string, ServeApp])[] = [
  ['Express', serveExpress],
  ['Fastify', serveFastify],
  ['fetch on Node (@hono/node-server)', serveFetchOnNode],
  ['Hono on Node (@hono/node-server)', serveHono],
]
