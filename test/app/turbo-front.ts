// A Hotwire Turbo app in front of the reference app, for the Turbo browser scenario. The reference
// app has no Turbo pages of its own, and its routes cannot be extended once startApp has it listening,
// so this front server serves two Turbo pages (A and B) itself and passes every other request to the
// app unchanged, Host header included, as a reverse proxy does. The app is started with PUBLIC_URL =
// this server's origin, so the development provider's issuer, the handoff's own-origin check and the
// pages all agree on one origin, exactly as behind a real proxy.
//
// The pages carry the same contract as the app's home page (authentication-url, has-session and
// csrf-token meta tags, from the app's own bridge object), the client bundle, and Turbo 8 from
// node_modules. turbo-app.js records what the test asserts: Turbo's visits and cache clears.
import { readFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { toBridgeRequest } from '../../src/adapters/node-request.ts'
import { escapeHtml } from '../../src/app/pages.ts'
import { startTestApp, type TestApp } from './app-fixture.ts'

const TURBO = readFileSync(
  createRequire(import.meta.url).resolve('@hotwired/turbo/dist/turbo.es2017-umd.js'),
  'utf8',
)

/** Runs once per full page load (Turbo keeps head scripts it already has). */
const TURBO_APP = `(function () {
  'use strict'
  window.turboLog = []
  window.cacheClears = 0
  var cache = Turbo.cache
  var clear = cache.clear.bind(cache)
  cache.clear = function () {
    window.cacheClears++
    return clear()
  }
  document.addEventListener('turbo:visit', function (event) {
    window.turboLog.push('visit ' + event.detail.action)
  })
  JwksBridge.start({ source: JwksBridge.devIssuerSource('/dev-issuer') })
})()
`

export interface TurboFront {
  /** The front's origin: the one the browser and the app's issuer use. */
  origin: string
  /** The reference app behind it. */
  test: TestApp
  /**
   * Page requests served, by page, not counting Turbo's hover prefetches (X-Sec-Purpose: prefetch):
   * a prefetch is not a visit, and Turbo 8 prefetches a link as soon as the mouse rests on it.
   */
  served: { A: number; B: number }
  /**
   * Drop the app's session cookie from its answers, as a browser that blocks cookies would: the
   * handoff succeeds and the next page still says has-session="false".
   */
  dropSessionCookie: boolean
  close(): Promise<void>
}

export async function startTurboFront(): Promise<TurboFront> {
  let appPort = 0
  let test: TestApp | undefined
  const served = { A: 0, B: 0 }
  const front = { dropSessionCookie: false }
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error))
    })
  })

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]
    if (request.method === 'GET' && (path === '/a' || path === '/b') && test !== undefined) {
      const name = path === '/a' ? 'A' : 'B'
      if (request.headers['x-sec-purpose'] !== 'prefetch') served[name]++
      const html = await page(test, request, name, response)
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      response.end(html)
      return
    }
    if (request.method === 'GET' && (path === '/assets/turbo.js' || path === '/assets/turbo-app.js')) {
      response.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-cache',
      })
      response.end(path === '/assets/turbo.js' ? TURBO : TURBO_APP)
      return
    }
    // Everything else (/auth, /me, /dev-issuer/*, the client bundle, the favicon) is the app's.
    const upstream = httpRequest({
      host: '127.0.0.1',
      port: appPort,
      method: request.method,
      path: request.url,
      headers: request.headers,
    })
    upstream.on('response', (answer) => {
      const headers = { ...answer.headers }
      const cookies = headers['set-cookie']
      if (front.dropSessionCookie && cookies !== undefined) {
        headers['set-cookie'] = cookies.filter((c) => !c.startsWith('jwks-bridge-session='))
      }
      response.writeHead(answer.statusCode ?? 502, headers)
      answer.pipe(response)
    })
    upstream.on('error', () => response.writeHead(502).end())
    request.pipe(upstream)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    test = await startTestApp({ PUBLIC_URL: origin })
  } catch (error) {
    server.close()
    throw error
  }
  appPort = (test.app.fastify.server.address() as AddressInfo).port
  const app = test
  return {
    origin,
    test: app,
    served,
    get dropSessionCookie() {
      return front.dropSessionCookie
    },
    set dropSessionCookie(value: boolean) {
      front.dropSessionCookie = value
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await app.close()
    },
  }
}

async function page(test: TestApp, request: IncomingMessage, name: 'A' | 'B', response: ServerResponse) {
  const bridge = test.app.bridge
  const req = toBridgeRequest(request, request.url ?? '/')
  const authenticated = await bridge.authenticate(req)
  const csrf = bridge.csrfTokenFor(req)
  if (csrf.cookies.length > 0) response.setHeader('set-cookie', csrf.cookies)
  const other = name === 'A' ? 'b' : 'a'
  // data-turbo="false": the provider's pages are not this app's Turbo pages (a real provider is on
  // another origin, which Turbo never visits), so sign-in is an ordinary navigation there and back.
  const body =
    authenticated === null
      ? `<p id="status">You are not signed in.</p>
    <p><a id="sign-in" data-turbo="false" href="/dev-issuer/sign-in?return_to=/${name.toLowerCase()}">Sign in</a></p>`
      : `<p id="status">Signed in as <strong id="subject">${escapeHtml(authenticated.identity.subject)}</strong></p>`
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Turbo page ${name}</title>
    <meta name="authentication-url" content="/auth">
    <meta name="has-session" content="${authenticated === null ? 'false' : 'true'}">
    <meta name="csrf-token" content="${escapeHtml(csrf.token)}">
    ${authenticated === null ? '<meta name="turbo-cache-control" content="no-cache">' : ''}
    <script src="/assets/turbo.js" defer></script>
    <script src="/assets/jwks-bridge-client.min.js" defer></script>
    <script src="/assets/turbo-app.js" defer></script>
  </head>
  <body>
    <h1 id="page">${name}</h1>
    ${body}
    <p><a id="to-${other}" href="/${other}">Page ${other.toUpperCase()}</a></p>
  </body>
</html>
`
}
