// One benchmark server for `npm run bench:fetch`, on the built package (dist/): GET /me through the
// adapter named by argv[2] (fastify, fetch-node, hono-node on Node; fetch-bun on Bun), memory stores,
// one session made at start. Prints one JSON line { url, cookie } and serves until stdin closes or
// SIGTERM, and at most 10 minutes.

import { createFetchAdapter, errorToResponse } from '../../dist/adapters/fetch.js'
import { createBridge, createMemoryStores } from '../../dist/index.js'
import { createTestIssuer } from '../../dist/testing/index.js'

const kind = process.argv[2]
const issuer = createTestIssuer()
const stores = createMemoryStores()
const bridge = createBridge({
  verifier: issuer.verifierOptions(),
  identities: stores.identities,
  sessions: stores.sessions,
})
const adapter = createFetchAdapter(bridge)
const me = (identity) => ({ id: identity.id, issuer: identity.issuer, subject: identity.subject })

/** The fetch handler every fetch-based server runs. */
async function handler(request) {
  const answered = await adapter.handleRequest(request)
  if (answered) return answered
  if (new URL(request.url).pathname !== '/me') return new Response(null, { status: 404 })
  let auth
  try {
    auth = await adapter.authenticateRequest(request)
  } catch (error) {
    const response = errorToResponse(error)
    if (response === null) throw error
    return response
  }
  return auth ? Response.json(me(auth.identity)) : Response.json({ error: 'signed out' }, { status: 401 })
}

async function start() {
  if (kind === 'fastify') {
    const { default: Fastify } = await import('fastify')
    const { jwksBridgeFastify } = await import('../../dist/adapters/fastify.js')
    const app = Fastify()
    await app.register(jwksBridgeFastify, { bridge })
    app.get('/me', async (request, reply) =>
      request.identity ? me(request.identity) : reply.code(401).send({ error: 'signed out' }),
    )
    await app.listen({ host: '127.0.0.1', port: 0 })
    return `http://127.0.0.1:${app.server.address().port}`
  }
  if (kind === 'fetch-node' || kind === 'hono-node') {
    const { serve } = await import('@hono/node-server')
    let fetchHandler = handler
    if (kind === 'hono-node') {
      const { Hono } = await import('hono')
      const { jwksBridge } = await import('../../dist/adapters/hono.js')
      const app = new Hono()
      app.use(jwksBridge(bridge))
      app.get('/me', (c) =>
        c.var.identity ? c.json(me(c.var.identity)) : c.json({ error: 'signed out' }, 401),
      )
      fetchHandler = (request) => app.fetch(request)
    }
    return new Promise((resolve) => {
      serve({ fetch: fetchHandler, hostname: '127.0.0.1', port: 0 }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      )
    })
  }
  if (kind === 'fetch-bun') {
    const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler })
    return `http://127.0.0.1:${server.port}`
  }
  throw new Error(`unknown server kind ${kind}`)
}

const url = await start()
const signIn = await handler(
  new Request(`${url}/auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', origin: url, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ jwt: issuer.sign({ sub: 'bench-user' }) }),
  }),
)
const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0]
process.stdout.write(`${JSON.stringify({ url, cookie })}\n`)
const stop = () => process.exit(0)
process.stdin.on('end', stop)
process.stdin.resume()
process.once('SIGTERM', stop)
setTimeout(stop, 10 * 60 * 1000).unref()
