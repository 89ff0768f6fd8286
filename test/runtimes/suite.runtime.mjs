// The package as built (dist/) on Bun and Deno: `bun test` and `deno test -A` run this file (through
// test/runtimes/runtimes.test.ts), with node:test's describe/it as both runtimes provide them.
// - the verifier and a remote key set served over HTTP (fetch, rotation);
// - the adapter conformance suite through jwks-bridge/fetch on the runtime's own server (Bun.serve,
//   Deno.serve);
// - a real sign-in over HTTP with each store: memory, PostgreSQL, Redis and the runtime's SQLite
//   (bun:sqlite on Bun, node:sqlite on Deno), and the store conformance suite on that SQLite;
// - the resource server through jwks-bridge/fetch's requireAccessToken: Bearer, and DPoP with a proof
//   the runtime's WebCrypto signs, its replay refused through the runtime's SQLite store.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { Hono } from 'hono'
import { createFetchAdapter, errorToResponse, requireAccessToken } from '../../dist/adapters/fetch.js'
import { jwksBridge } from '../../dist/adapters/hono.js'
import {
  createBridge,
  createMemoryStores,
  createPostgresStores,
  createRedisStores,
  createResourceServer,
  createSqliteStores,
  createVerifier,
} from '../../dist/index.js'
import {
  createTestIssuer,
  describeAdapterConformance,
  describeIdentityStoreConformance,
  describeSessionStoreConformance,
  describeSignInTransactionConformance,
} from '../../dist/testing/index.js'

const RUNTIME = globalThis.Bun !== undefined ? 'Bun' : globalThis.Deno !== undefined ? 'Deno' : 'Node'
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const unique = (prefix) => `${prefix}_${RUNTIME.toLowerCase()}_${randomBytes(5).toString('hex')}`

/** Serves a fetch handler on 127.0.0.1 with the runtime's own server. */
async function listen(handler) {
  if (RUNTIME === 'Bun') {
    const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler })
    return { url: `http://127.0.0.1:${server.port}`, close: async () => server.stop(true) }
  }
  if (RUNTIME === 'Deno') {
    const controller = new AbortController()
    const server = globalThis.Deno.serve(
      { hostname: '127.0.0.1', port: 0, signal: controller.signal, onListen() {} },
      handler,
    )
    return {
      url: `http://127.0.0.1:${server.addr.port}`,
      close: async () => {
        controller.abort()
        await server.finished
      },
    }
  }
  throw new Error('run this file with bun test or deno test')
}

/**
 * The peer address as the runtime's server gives it with the request: Bun.serve passes the server
 * (`requestIP`), Deno.serve the handler info (`remoteAddr`). From the socket, never from a header.
 */
function peerAddress(request, env) {
  if (typeof env?.requestIP === 'function') return env.requestIP(request)?.address
  return env?.remoteAddr?.hostname
}

/** The conformance app: the bridge's routes, GET /me, GET /public (no session lookup), else 404. */
function app(bridge, requestIdHeader) {
  const adapter = createFetchAdapter(bridge, {
    requestId: (request) => request.headers.get(requestIdHeader) ?? undefined,
  })
  return async (request, env) => {
    const connection = { remoteAddress: peerAddress(request, env) }
    const answered = await adapter.handleRequest(request, connection)
    if (answered) return answered
    const path = new URL(request.url).pathname
    if (path === '/public') return Response.json({ public: true })
    if (path !== '/me') return new Response('no such page', { status: 404 })
    let auth
    try {
      auth = await adapter.authenticateRequest(request, connection)
    } catch (error) {
      const response = errorToResponse(error)
      if (response === null) throw error
      return response
    }
    if (auth === null) return Response.json({ error: 'signed out' }, { status: 401 })
    return Response.json({ subject: auth.identity.subject, issuer: auth.identity.issuer })
  }
}

describeAdapterConformance(`fetch on ${RUNTIME}.serve`, {
  serve: ({ bridge, requestIdHeader }) => listen(app(bridge, requestIdHeader)),
})

/** The same app as Hono's: the middleware, /public before it (the opt-out). */
function honoApp(bridge, requestIdHeader) {
  const hono = new Hono()
  hono.get('/public', (c) => c.json({ public: true }))
  hono.use(jwksBridge(bridge, { requestId: (c) => c.req.header(requestIdHeader) }))
  hono.get('/me', (c) => {
    const identity = c.var.identity
    return identity
      ? c.json({ subject: identity.subject, issuer: identity.issuer })
      : c.json({ error: 'signed out' }, 401)
  })
  // The server (Bun) or handler info (Deno) as c.env: the middleware reads the peer address there.
  return (request, env) => hono.fetch(request, env)
}

describeAdapterConformance(`Hono on ${RUNTIME}.serve`, {
  serve: ({ bridge, requestIdHeader }) => listen(honoApp(bridge, requestIdHeader)),
})

describe(`${RUNTIME}: the verifier and a remote key set over HTTP`, () => {
  it('verifies a token against the served key set, and follows a rotation to a new kid', async () => {
    const issuer = createTestIssuer()
    const served = await issuer.serve()
    const verifier = createVerifier(served.verifierOptions())
    try {
      const { payload } = await verifier.verify(issuer.sign({ sub: 'runtime-user' }))
      assert.equal(payload.sub, 'runtime-user')
      issuer.rotate()
      const rotated = await verifier.verify(issuer.sign({ sub: 'after-rotation' }))
      assert.equal(rotated.payload.sub, 'after-rotation')
      assert.equal(served.requests(), 2, 'one fetch, then one for the unknown kid')
      await assert.rejects(
        verifier.verify(`${issuer.sign()}x`),
        (error) => error.code === 'ERR_SIGNATURE_INVALID' || error.code === 'ERR_BASE64URL_INVALID',
      )
    } finally {
      verifier.close()
      await served.close()
    }
  })
})

/** The runtime's own SQLite database, in memory. */
async function nativeSqlite() {
  if (RUNTIME === 'Bun') {
    const { Database } = await import('bun:sqlite')
    return new Database(':memory:')
  }
  const { DatabaseSync } = await import('node:sqlite')
  return new DatabaseSync(':memory:')
}

const SQLITE = RUNTIME === 'Bun' ? 'bun:sqlite' : 'node:sqlite'

describeIdentityStoreConformance(
  `${SQLITE} on ${RUNTIME}`,
  async () => (await createSqliteStores({ database: await nativeSqlite() })).identities,
)
describeSessionStoreConformance(`${SQLITE} on ${RUNTIME}`, async () => {
  const { identities, sessions } = await createSqliteStores({ database: await nativeSqlite() })
  return { identities, sessions }
})
describeSignInTransactionConformance(`${SQLITE} on ${RUNTIME}`, async () => {
  const { identities, sessions } = await createSqliteStores({ database: await nativeSqlite() })
  return { identities, sessions }
})

describe(`${RUNTIME}: a real sign-in over HTTP through jwks-bridge/fetch, with each store`, () => {
  const issuer = createTestIssuer()
  const cleanups = []
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  const stores = {
    memory: async () => createMemoryStores(),
    [SQLITE]: async () => createSqliteStores({ database: await nativeSqlite() }),
    PostgreSQL: async () => {
      const schema = unique('jwks_bridge_runtime')
      const created = await createPostgresStores({ connectionString: POSTGRES_URL, schema, migrate: true })
      cleanups.push(async () => {
        const pg = (await import('pg')).default
        const admin = new pg.Client({ connectionString: POSTGRES_URL })
        await admin.connect()
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await admin.end()
      })
      return created
    },
    Redis: async () => {
      const { Redis } = await import('ioredis')
      const client = new Redis({
        host: '127.0.0.1',
        port: 6379,
        maxRetriesPerRequest: 1,
        connectTimeout: 1000,
      })
      const prefix = `${unique('jwks-bridge-runtime')}:`
      cleanups.push(async () => {
        const keys = await client.keys(`${prefix}*`)
        if (keys.length > 0) await client.del(...keys)
        client.disconnect()
      })
      // Sessions and the replay guard in Redis; identities in memory (Redis keeps none).
      const memory = createMemoryStores()
      const redis = createRedisStores({ client, prefix })
      return { identities: memory.identities, sessions: redis.sessions, close: () => redis.close() }
    },
  }

  for (const [name, open] of Object.entries(stores)) {
    it(`${name}: PUT /auth → cookie → GET /me → DELETE /auth → 401`, async () => {
      const opened = await open()
      const bridge = createBridge({
        verifier: issuer.verifierOptions(),
        identities: opened.identities,
        sessions: opened.sessions,
      })
      const server = await listen(app(bridge, 'x-request-id'))
      // The page's CSRF token (csrf is on by default): its cookie and X-CSRF-Token on each change.
      const csrf = bridge.csrfTokenFor({
        method: 'GET',
        path: '/',
        headers: { host: new URL(server.url).host },
        secure: false,
        loopback: true,
      })
      const csrfCookie = (csrf.cookies[0] ?? '').split(';')[0]
      try {
        const signIn = await fetch(`${server.url}/auth`, {
          method: 'PUT',
          headers: {
            'content-type': 'application/json',
            origin: server.url,
            'sec-fetch-site': 'same-origin',
            cookie: csrfCookie,
            'x-csrf-token': csrf.token,
          },
          body: JSON.stringify({ jwt: issuer.sign({ sub: `user-of-${name}` }) }),
        })
        assert.equal(signIn.status, 204)
        const session = signIn.headers.getSetCookie().find((c) => c.startsWith('jwks-bridge-session='))
        const cookie = (session ?? '').split(';')[0]
        const me = await fetch(`${server.url}/me`, { headers: { cookie } })
        assert.equal(me.status, 200)
        assert.equal((await me.json()).subject, `user-of-${name}`)
        const signOut = await fetch(`${server.url}/auth`, {
          method: 'DELETE',
          headers: {
            cookie: `${cookie}; ${csrfCookie}`,
            origin: server.url,
            'sec-fetch-site': 'same-origin',
            'x-csrf-token': csrf.token,
          },
        })
        assert.equal(signOut.status, 204)
        assert.equal((await fetch(`${server.url}/me`, { headers: { cookie } })).status, 401)
      } finally {
        await server.close()
        bridge.close()
        await opened.close?.()
      }
    })
  }
})

/** An RFC 9449 proof signed with the runtime's WebCrypto (ES256: IEEE P1363 r||s, as JWS wants). */
async function dpopProof(keyPair, publicJwk, claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk }
  const input = `${encode(header)}.${encode(claims)}`
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    keyPair.privateKey,
    new TextEncoder().encode(input),
  )
  return `${input}.${Buffer.from(signature).toString('base64url')}`
}

describe(`${RUNTIME}: the resource server through jwks-bridge/fetch`, () => {
  it('Bearer and DPoP access tokens on the runtime server; a replayed proof is refused', async () => {
    const issuer = createTestIssuer()
    const served = await issuer.serve()
    const sqlite = await createSqliteStores({ database: await nativeSqlite() })
    const resource = 'https://api.example.com'
    const api = createResourceServer({ ...served.verifierOptions(), resource, replayStore: sqlite.sessions })
    const guard = requireAccessToken(api, { scopes: ['read'] })
    const server = await listen(async (request) => {
      const access = await guard(request)
      if (!access.ok) return access.response
      return Response.json(
        { sub: access.auth.payload.sub, scheme: access.auth.scheme },
        { headers: access.headers },
      )
    })
    try {
      const claims = { aud: resource, client_id: 'runtime-client', scope: 'read', jti: crypto.randomUUID() }
      const bearer = issuer.sign({ ...claims, sub: 'api-user' }, { typ: 'at+jwt' })
      const ok = await fetch(`${server.url}/things`, { headers: { authorization: `Bearer ${bearer}` } })
      assert.equal(ok.status, 200)
      assert.deepEqual(await ok.json(), { sub: 'api-user', scheme: 'Bearer' })

      const none = await fetch(`${server.url}/things`)
      assert.equal(none.status, 401)
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer\b/)

      const keyPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'sign',
        'verify',
      ])
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey)
      const publicJwk = { crv, kty, x, y }
      // RFC 7638: the thumbprint is SHA-256 over the required members in lexicographic order.
      const thumbprint = Buffer.from(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(publicJwk))),
      ).toString('base64url')
      const bound = issuer.sign(
        { ...claims, jti: crypto.randomUUID(), sub: 'dpop-user', cnf: { jkt: thumbprint } },
        { typ: 'at+jwt' },
      )
      const ath = Buffer.from(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(bound)),
      ).toString('base64url')
      // htu: the resource's origin (never the Host the request came with) and the request's path.
      const proof = await dpopProof(keyPair, publicJwk, {
        jti: crypto.randomUUID(),
        htm: 'GET',
        htu: `${resource}/things`,
        iat: Math.floor(Date.now() / 1000),
        ath,
      })
      const headers = { authorization: `DPoP ${bound}`, dpop: proof }
      const dpop = await fetch(`${server.url}/things`, { headers })
      assert.equal(dpop.status, 200)
      assert.deepEqual(await dpop.json(), { sub: 'dpop-user', scheme: 'DPoP' })

      // RFC 9449 §11.1: the same proof again is a replay, refused through the SQLite store.
      const replayed = await fetch(`${server.url}/things`, { headers })
      assert.equal(replayed.status, 401)
      assert.match(
        replayed.headers.get('www-authenticate') ?? '',
        /DPoP error="invalid_dpop_proof"[^,]*, error_description="[^"]*already been used/,
      )

      // RFC 9449 §7.1: a DPoP-bound token presented as Bearer is refused.
      const downgraded = await fetch(`${server.url}/things`, {
        headers: { authorization: `Bearer ${bound}` },
      })
      assert.equal(downgraded.status, 401)
      assert.match(downgraded.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    } finally {
      await server.close()
      api.close()
      await sqlite.close()
      await served.close()
    }
  })
})
