// The development provider mounted in an app (issue #13: devIssuerSource('/dev-issuer') got a 404
// from an app that had no way to mount it): devIssuerMiddleware for Express, devIssuerFastify for
// Fastify, on real servers on 127.0.0.1. Discovery, sign-in, token and sign-out answer under the
// issuer's path, every other request reaches the app, and the provider's same-origin checks still
// see the browser's headers through the mount.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { serve as serveNode } from '@hono/node-server'
import express from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { devIssuerMiddleware } from '../../src/adapters/express.ts'
import { devIssuerFastify } from '../../src/adapters/fastify.ts'
import { devIssuerHandler } from '../../src/adapters/fetch.ts'
import { freePort } from '../../src/app/free-port.ts'
import { createDevIssuer, type DevIssuer } from '../../src/dev-issuer/index.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { decodePart } from '../dev-issuer/helpers.ts'
import { rejectsUnknownOption } from '../helpers/unknown-option.ts'

interface Mounted {
  origin: string
  devIssuer: DevIssuer
  close(): Promise<void>
}

async function expressApp(options: { parseFormsFirst?: boolean } = {}): Promise<Mounted> {
  const port = await freePort('127.0.0.1')
  const origin = `http://127.0.0.1:${port}`
  const devIssuer = createDevIssuer({ issuer: `${origin}/dev-issuer` })
  const app = express()
  // An app whose form parser runs first: the provider reads the parsed form.
  if (options.parseFormsFirst === true) app.use(express.urlencoded({ extended: false }))
  app.use(devIssuerMiddleware(devIssuer))
  app.get('/page', (_req, res) => {
    res.send('the app')
  })
  const server = app.listen(port, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return {
    origin,
    devIssuer,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function fastifyApp(): Promise<Mounted> {
  const port = await freePort('127.0.0.1')
  const origin = `http://127.0.0.1:${port}`
  const devIssuer = createDevIssuer({ issuer: `${origin}/dev-issuer` })
  const app: FastifyInstance = Fastify()
  await app.register(devIssuerFastify, { devIssuer })
  app.get('/page', async () => 'the app')
  await app.listen({ port, host: '127.0.0.1' })
  return { origin, devIssuer, close: () => app.close() }
}

/** A Web-standard app on @hono/node-server: the provider's handler first, then the app's own page. */
async function fetchApp(): Promise<Mounted> {
  const port = await freePort('127.0.0.1')
  const origin = `http://127.0.0.1:${port}`
  const devIssuer = createDevIssuer({ issuer: `${origin}/dev-issuer` })
  const provider = devIssuerHandler(devIssuer)
  const server = serveNode({
    hostname: '127.0.0.1',
    port,
    fetch: async (request: Request) => {
      const answered = await provider(request)
      if (answered) return answered
      return new URL(request.url).pathname === '/page'
        ? new Response('the app')
        : new Response(null, { status: 404 })
    },
  }) as unknown as import('node:http').Server
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)))
  return {
    origin,
    devIssuer,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual',
})

/** The sign-in, token and sign-out round trip every mount must give. */
async function roundTrip(mounted: Mounted): Promise<void> {
  const { origin } = mounted
  const discovery = await fetch(`${origin}/dev-issuer/.well-known/openid-configuration`)
  assert.equal(discovery.status, 200)
  const document = (await discovery.json()) as { issuer: string; jwks_uri: string }
  assert.equal(document.issuer, `${origin}/dev-issuer`)
  const keys = await fetch(document.jwks_uri)
  assert.equal(keys.status, 200)
  assert.equal(((await keys.json()) as { keys: unknown[] }).keys.length, 1)

  const signIn = await fetch(
    `${origin}/dev-issuer/sign-in`,
    form({ username: 'mounted-user', return_to: '/page' }),
  )
  assert.equal(signIn.status, 303)
  assert.equal(signIn.headers.get('location'), '/page')
  const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';', 1)[0] as string
  assert.match(cookie, /^dev_issuer_session=/)

  const token = await fetch(`${origin}/dev-issuer/token`, {
    headers: { cookie, 'sec-fetch-site': 'same-origin' },
  })
  assert.equal(token.status, 200)
  const { jwt } = (await token.json()) as { jwt: string }
  assert.equal(decodePart(jwt, 1).sub, 'mounted-user')
  assert.equal(decodePart(jwt, 1).iss, `${origin}/dev-issuer`)

  // The browser's Fetch Metadata reaches the provider through the mount: another site gets no token.
  const crossSite = await fetch(`${origin}/dev-issuer/token`, {
    headers: { cookie, 'sec-fetch-site': 'cross-site' },
  })
  assert.equal(crossSite.status, 403)

  const signOut = await fetch(`${origin}/dev-issuer/sign-out`, { method: 'POST', headers: { cookie } })
  assert.equal(signOut.status, 204)
  const after = await fetch(`${origin}/dev-issuer/token`, { headers: { cookie } })
  assert.equal(after.status, 204)

  // Everything else is the app's.
  const page = await fetch(`${origin}/page`)
  assert.equal(await page.text(), 'the app')
  const tooLarge = await fetch(`${origin}/dev-issuer/sign-in`, form({ username: 'x'.repeat(20_000) }))
  assert.equal(tooLarge.status, 413)
}

describe('devIssuerMiddleware (Express): the development provider under the issuer URL path', () => {
  let mounted: Mounted
  before(async () => {
    mounted = await expressApp()
  })
  after(() => mounted?.close())

  it('discovery, key set, sign-in, token, sign-out under /dev-issuer; other paths reach the app', async () => {
    await roundTrip(mounted)
  })

  it('reads a form that the app parsed before it', async () => {
    const parsed = await expressApp({ parseFormsFirst: true })
    try {
      const signIn = await fetch(`${parsed.origin}/dev-issuer/sign-in`, form({ username: 'parsed-user' }))
      assert.equal(signIn.status, 303)
      const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';', 1)[0] as string
      const token = await fetch(`${parsed.origin}/dev-issuer/token`, { headers: { cookie } })
      assert.equal(decodePart(((await token.json()) as { jwt: string }).jwt, 1).sub, 'parsed-user')
    } finally {
      await parsed.close()
    }
  })

  it('refuses a provider at the root path (it would answer every request of the app)', () => {
    const atRoot = createDevIssuer({ issuer: 'http://127.0.0.1:3000' })
    assert.throws(
      () => devIssuerMiddleware(atRoot),
      (error: unknown) =>
        isJwksBridgeError(error, 'ERR_INVALID_OPTIONS') &&
        /^devIssuerMiddleware: .*\/dev-issuer/.test(error.message),
    )
    assert.throws(
      () => devIssuerMiddleware({} as DevIssuer),
      /devIssuer must be a createDevIssuer\(\) result/,
    )
  })
})

describe('devIssuerFastify: the development provider under the issuer URL path', () => {
  let mounted: Mounted
  before(async () => {
    mounted = await fastifyApp()
  })
  after(() => mounted?.close())

  it('discovery, key set, sign-in, token, sign-out under /dev-issuer; other paths reach the app', async () => {
    await roundTrip(mounted)
  })

  it('refuses unknown options with the nearest name, and a prefix (the issuer URL says where)', async () => {
    const devIssuer = createDevIssuer({ issuer: 'http://127.0.0.1:3000/dev-issuer' })
    const app = Fastify()
    try {
      await rejectsUnknownOption(
        async () => {
          await app.register(devIssuerFastify, { devIsuer: devIssuer } as never)
          await app.ready()
        },
        'devIssuerFastify',
        'devIsuer',
        'devIssuer',
      )
    } finally {
      await app.close().catch(() => {})
    }
    const prefixed = Fastify()
    try {
      await assert.rejects(
        async () => {
          await prefixed.register(devIssuerFastify, { devIssuer, prefix: '/auth' })
          await prefixed.ready()
        },
        (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS') && /prefix/.test(error.message),
      )
    } finally {
      await prefixed.close().catch(() => {})
    }
  })
})

describe('devIssuerHandler (jwks-bridge/fetch): the development provider in a Request → Response app', () => {
  it('discovery, key set, sign-in, token, sign-out under /dev-issuer; other paths reach the app', async () => {
    const mounted = await fetchApp()
    try {
      await roundTrip(mounted)
    } finally {
      await mounted.close()
    }
  })

  it('refuses a provider at the root path (it would answer every request of the app)', () => {
    const atRoot = createDevIssuer({ issuer: 'http://127.0.0.1:3000' })
    assert.throws(
      () => devIssuerHandler(atRoot),
      (error: unknown) => isJwksBridgeError(error) && /devIssuerHandler/.test((error as Error).message),
    )
  })
})
