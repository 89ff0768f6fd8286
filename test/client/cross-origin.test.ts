// needs: chromium
// Issue #13, cross-origin SPAs, in real Chromium with two loopback origins: the page on
// 127.0.0.1:A (a plain node:http server), the bridge on 127.0.0.1:B behind each adapter
// (test/adapters/apps.ts). Ports differ, the host does not: the two origins are same-site, and the
// browser's cookies for 127.0.0.1 are shared across ports, as app.example.com and api.example.com
// share a site. The bridge has its defaults (csrf on) and lists A in allowedOrigins.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { bundleClient } from '../../scripts/build-client.mjs'
import { toBridgeRequest } from '../../src/adapters/node-request.ts'
import { type Bridge, createBridge } from '../../src/bridge/bridge.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { CONFORMANCE_REQUEST_ID_HEADER } from '../../src/testing/adapter-conformance.ts'
import { createTestIssuer } from '../../src/testing/test-issuer.ts'
import { ADAPTER_APPS } from '../adapters/apps.ts'
import { launchChromium, skipWithoutBrowser as skip, until } from '../helpers/browser.ts'

const issuer = createTestIssuer()
/** How long the script gets to do something it should not do, before we conclude it did not. */
const SETTLE_MS = 300

/** What the page's script passes to start() and signOut() besides the source (a JS expression). */
type StartExtra = string

interface PageServer {
  origin: string
  server: Server
  /** Set once the bridge exists (it needs this server's origin first). */
  bridge?: Bridge
  /** The bridge's origin, and the options the page's script passes. */
  bridgeOrigin: string
  extra: StartExtra
  /** Every request for the page (has-session as rendered). */
  rendered: string[]
}

/**
 * The SPA's own server: the page, with has-session from the bridge (the session cookie of 127.0.0.1
 * reaches this port too), a meta authentication-url naming the bridge, and the classic script.
 */
async function pageServer(clientScript: string): Promise<PageServer> {
  const state: PageServer = {
    origin: '',
    server: createServer((req, res) => {
      if (req.url === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(clientScript)
        return
      }
      if (req.url !== '/') {
        res.writeHead(404).end()
        return
      }
      const bridge = state.bridge
      const signedIn =
        bridge === undefined ? Promise.resolve(false) : bridge.hasSession(toBridgeRequest(req, '/'))
      void signedIn.then((hasSession) => {
        state.rendered.push(String(hasSession))
        const token = hasSession ? '' : issuer.sign({ sub: 'spa-user' })
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        res.end(`<!doctype html><html><head>
<meta name="authentication-url" content="${state.bridgeOrigin}/auth">
<meta name="has-session" content="${hasSession}">
<script src="/client.js"></script>
</head><body><p id="status">${hasSession ? 'signed in' : 'signed out'}</p>
<script>
  window.codes = []
  const source = JwksBridge.functionSource(() => (window.signedOut ? undefined : ${JSON.stringify(token)} || undefined))
  const options = { source, onError: (code) => window.codes.push(code), ${state.extra} }
  JwksBridge.start(options)
  window.signOutNow = () => { window.signedOut = true; return JwksBridge.signOut({ ...options, reload: false }) }
</script></body></html>`)
      })
    }),
    bridgeOrigin: '',
    extra: '',
    rendered: [],
  }
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve))
  state.origin = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`
  return state
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

describe('cross-origin SPA in Chromium: page on 127.0.0.1:A, bridge on 127.0.0.1:B', { skip }, () => {
  let browser: Browser
  let clientScript: string
  before(async () => {
    clientScript = (await bundleClient()).iife
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })

  /** The page server, the bridge (allowing the page's origin) behind an adapter, and a fresh context. */
  async function setUp(serve: (typeof ADAPTER_APPS)[number][1], extra: (bridgeOrigin: string) => string) {
    const spa = await pageServer(clientScript)
    const stores = createMemoryStores()
    const bridge = createBridge({
      verifier: issuer.verifierOptions(),
      identities: stores.identities,
      sessions: stores.sessions,
      allowedOrigins: [spa.origin],
    })
    const app = await serve({ bridge, requestIdHeader: CONFORMANCE_REQUEST_ID_HEADER })
    spa.bridge = bridge
    spa.bridgeOrigin = app.url
    spa.extra = extra(app.url)
    const context: BrowserContext = await browser.newContext()
    const tab: Page = await context.newPage()
    const sent: string[] = []
    tab.on('request', (request) => {
      if (request.method() !== 'GET') sent.push(`${request.method()} ${request.url()}`)
    })
    const close = async () => {
      await context.close()
      await app.close()
      await closeServer(spa.server)
    }
    return { spa, app, context, tab, sent, close }
  }

  // Every adapter routes the preflight to the bridge.
  for (const [name, serve] of ADAPTER_APPS) {
    it(`${name}: OPTIONS on the auth path from the allowed origin is the bridge's preflight answer`, async () => {
      const { spa, app, context, close } = await setUp(serve, () => '')
      try {
        const answer = await context.request.fetch(`${app.url}/auth`, {
          method: 'OPTIONS',
          headers: { origin: spa.origin, 'access-control-request-method': 'PUT' },
        })
        assert.equal(answer.status(), 204)
        assert.equal(answer.headers()['access-control-allow-origin'], spa.origin)
        assert.equal(answer.headers()['access-control-allow-credentials'], 'true')
      } finally {
        await close()
      }
    })
  }

  // The Node adapters: the fetch adapter sees no socket, so it has no plain-http loopback exception
  // (ERR_INSECURE_TRANSPORT over http), and this test runs without TLS.
  for (const [name, serve] of ADAPTER_APPS.filter(([n]) => n === 'Express' || n === 'Fastify')) {
    it(`${name}: with crossOrigin: true and the authenticationUrl option, the page signs in on the bridge's origin (preflight, credentials, SameSite=Lax cookie same-site) and signs out`, async () => {
      const { spa, app, context, tab, sent, close } = await setUp(
        serve,
        (bridgeOrigin) => `authenticationUrl: ${JSON.stringify(`${bridgeOrigin}/auth`)}, crossOrigin: true`,
      )
      try {
        await tab.goto(`${spa.origin}/`)
        await until(
          async () => (await tab.textContent('#status').catch(() => '')) === 'signed in',
          'the signed-in page',
        )
        assert.deepEqual(sent, [`PUT ${app.url}/auth`])
        assert.deepEqual(spa.rendered, ['false', 'true'], 'the page server sees the session cookie')
        const me = await context.request.get(`${app.url}/me`)
        assert.equal(me.status(), 200)
        assert.equal(((await me.json()) as { subject: string }).subject, 'spa-user')
        assert.deepEqual(await tab.evaluate('window.codes'), [])

        await tab.evaluate('window.signOutNow()')
        assert.deepEqual(sent, [`PUT ${app.url}/auth`, `DELETE ${app.url}/auth`])
        assert.deepEqual(await tab.evaluate('window.codes'), [])
        assert.equal((await context.request.get(`${app.url}/me`)).status(), 401)
      } finally {
        await close()
      }
    })
  }

  const [expressName, serveExpress] = ADAPTER_APPS[0] as (typeof ADAPTER_APPS)[number]

  it(`${expressName}: without the opt-in the script refuses the bridge's origin (ERR_AUTHENTICATION_URL), from the option or from the meta tag alone, and sends nothing`, async () => {
    for (const extra of [
      (bridgeOrigin: string) => `authenticationUrl: ${JSON.stringify(`${bridgeOrigin}/auth`)}`,
      // The meta tag names the bridge: crossOrigin without the option never lets markup move the token.
      () => 'crossOrigin: true',
    ]) {
      const { spa, tab, sent, close } = await setUp(serveExpress, extra)
      try {
        await tab.goto(`${spa.origin}/`)
        await until(async () => ((await tab.evaluate('window.codes.length')) as number) > 0, 'the refusal')
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
        assert.deepEqual(await tab.evaluate('window.codes'), ['ERR_AUTHENTICATION_URL'])
        assert.deepEqual(sent, [], 'nothing reaches the bridge')
        assert.equal(await tab.textContent('#status'), 'signed out')
      } finally {
        await close()
      }
    }
  })

  it(`${expressName}: a page on an origin not in allowedOrigins is refused at the preflight (403 ERR_CROSS_SITE_REQUEST naming it); its PUT is never sent`, async () => {
    const { app, tab, context, close } = await setUp(serveExpress, () => '')
    const other = await pageServer(clientScript)
    other.bridgeOrigin = app.url
    other.extra = `authenticationUrl: ${JSON.stringify(`${app.url}/auth`)}, crossOrigin: true`
    try {
      // The preflight as the bridge answers it to that origin.
      const answer = await context.request.fetch(`${app.url}/auth`, {
        method: 'OPTIONS',
        headers: { origin: other.origin, 'access-control-request-method': 'PUT' },
      })
      assert.equal(answer.status(), 403)
      assert.equal(answer.headers()['access-control-allow-origin'], undefined)
      const body = (await answer.json()) as { error: { code: string; message: string } }
      assert.equal(body.error.code, 'ERR_CROSS_SITE_REQUEST')
      assert.ok(body.error.message.includes(other.origin), body.error.message)

      // The browser, opted in on that page, stops at the refused preflight: the script sees a network error.
      await tab.goto(`${other.origin}/`)
      await until(async () => ((await tab.evaluate('window.codes.length')) as number) > 0, 'the refusal')
      assert.deepEqual(await tab.evaluate('window.codes'), ['ERR_NETWORK'])
      assert.equal((await context.request.get(`${app.url}/me`)).status(), 401, 'no session')
      assert.deepEqual(other.rendered, ['false'], 'no reload')
    } finally {
      await close()
      await closeServer(other.server)
    }
  })
})
