// A small HTTP server on 127.0.0.1 for the browser-script tests. It answers like the bridge and the
// development provider do, and records every request:
//   GET  /app?...            a page with the meta tags; has-session from the `sid` cookie
//   GET  /client.js|.mjs     the classic script / the ES module under test
//   PUT  /auth               { "jwt" } -> 204 + Set-Cookie, or the next scripted refusal
//   DELETE /auth             ends the app session (clears the cookie), 204
//   GET  /issuer/token       { "jwt" } with a new token on each call, 401 when signed out
//   POST /issuer/sign-out    ends the provider session, 204
// Tokens are only JWT-shaped (nothing verifies them here); each carries its serial number so that
// tests compare numbers, never token text.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedPut {
  tokenSerial: number
  contentType: string | undefined
  accept: string | undefined
  csrf: string | undefined
  secFetchSite: string | undefined
}

export interface Refusal {
  status: number
  code: string
}

export const CSRF_TOKEN = 'csrf-test-value'

export class FakeBridge {
  readonly server: Server
  origin = ''
  /** Every request as "METHOD /path", in order. */
  log: string[] = []
  puts: RecordedPut[] = []
  deletes: { csrf: string | undefined }[] = []
  tokenCalls = 0
  pageLoads = 0
  /** Whether the development provider has a signed-in user. */
  providerSignedIn = true
  /** Refusals answered to the next PUTs, in order; then 204. */
  refusals: Refusal[] = []
  /** false: answer 204 without Set-Cookie (a session the browser does not keep). */
  keepSession = true
  #esm: string
  #iife: string
  #serial = 0

  constructor(bundles: { esm: string; iife: string }) {
    this.#esm = bundles.esm
    this.#iife = bundles.iife
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.writeHead(500).end())
    })
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  reset(): void {
    this.log = []
    this.puts = []
    this.deletes = []
    this.tokenCalls = 0
    this.pageLoads = 0
    this.providerSignedIn = true
    this.refusals = []
    this.keepSession = true
    this.#serial = 0
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin)
    const route = `${req.method} ${url.pathname}`
    this.log.push(route)
    const header = (name: string) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(',') : value
    }
    switch (route) {
      case 'GET /app':
        this.pageLoads++
        return void res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(page(url.searchParams, /(?:^|;\s*)sid=1(?:;|$)/.test(header('cookie') ?? '')))
      case 'GET /client.js':
      case 'GET /client.mjs':
        return void res
          .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
          .end(url.pathname === '/client.js' ? this.#iife : this.#esm)
      case 'PUT /auth': {
        const body = JSON.parse(await readBody(req)) as { jwt: string }
        this.puts.push({
          tokenSerial: Number(/\.t(\d+)\./.exec(body.jwt)?.[1] ?? -1),
          contentType: header('content-type'),
          accept: header('accept'),
          csrf: header('x-csrf-token'),
          secFetchSite: header('sec-fetch-site'),
        })
        const refusal = this.refusals.shift()
        if (refusal) {
          return void res
            .writeHead(refusal.status, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: { code: refusal.code, message: 'refused' } }))
        }
        const cookie = this.keepSession
          ? { 'set-cookie': 'sid=1; Path=/; HttpOnly; SameSite=Lax' }
          : undefined
        return void res.writeHead(204, cookie).end()
      }
      case 'DELETE /auth':
        this.deletes.push({ csrf: header('x-csrf-token') })
        return void res.writeHead(204, { 'set-cookie': 'sid=; Path=/; Max-Age=0' }).end()
      case 'GET /issuer/token': {
        this.tokenCalls++
        if (!this.providerSignedIn) {
          return void res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"error":"not signed in"}')
        }
        const jwt = `eyJhbGciOiJSUzI1NiJ9.t${++this.#serial}.c2lnbmF0dXJl`
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jwt }))
      }
      case 'POST /issuer/sign-out':
        this.providerSignedIn = false
        return void res.writeHead(204).end()
      default:
        return void res.writeHead(404).end()
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      text += chunk
      if (text.length > 10_000) req.destroy()
    })
    req.on('end', () => resolve(text))
    req.on('error', reject)
  })
}

/**
 * The page. Query: `script=module` (ES module instead of the classic script), `csrf=1` (csrf-token
 * meta), `turbo=1` (a fake window.Turbo with spies, and a count of turbo:load listeners), `auth=URL`
 * (authentication-url), `bodymeta=1` (authentication-url only in <body>), `start=0` (no start call),
 * `issuer=URL` (the devIssuerSource URL, default /issuer), `source=function` (a functionSource that
 * fetches /issuer/token by its absolute URL, so that only the handoff's own requests are at stake).
 * HTML injection, as an app that echoes user content unescaped would serve it: `head=HTML` (in
 * <head>, before the real meta tags), `body=HTML` (at the start of <body>).
 */
function page(query: URLSearchParams, hasSession: boolean): string {
  const authUrl = query.get('auth') ?? '/auth'
  const authMeta = `<meta name="authentication-url" content="${authUrl}">`
  const source =
    query.get('source') === 'function'
      ? "functionSource(async () => (await (await fetch(location.origin + '/issuer/token')).json()).jwt)"
      : `devIssuerSource(${JSON.stringify(query.get('issuer') ?? '/issuer')})`
  const startCall = `start({ source: ${source} })`
  const script =
    query.get('script') === 'module'
      ? `<script type="module">import { start, devIssuerSource, functionSource } from '/client.mjs'; ${startCall}</script>`
      : `<script src="/client.js"></script><script>const { start, devIssuerSource, functionSource } = JwksBridge; ${query.get('start') === '0' ? '' : startCall}</script>`
  return `<!doctype html>
<html><head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
${query.get('head') ?? ''}
${query.get('bodymeta') === '1' ? '' : authMeta}
<meta name="has-session" content="${hasSession}">
${query.get('csrf') === '1' ? `<meta name="csrf-token" content="${CSRF_TOKEN}">` : ''}
${query.get('turbo') === '1' ? FAKE_TURBO : ''}
${script}
</head><body>${query.get('body') ?? ''}<p>${hasSession ? 'signed in' : 'signed out'}</p>${query.get('bodymeta') === '1' ? authMeta : ''}</body></html>`
}

/** Spies only: Turbo's visit is recorded, not performed; tests render "visits" themselves. */
const FAKE_TURBO = `<script>
  window.turboCalls = [];
  window.Turbo = {
    cache: { clear() { turboCalls.push('cache.clear') } },
    visit(url, options) { turboCalls.push('visit ' + url + ' ' + options.action) },
  };
  window.turboLoadListeners = 0;
  const add = document.addEventListener.bind(document);
  document.addEventListener = (type, listener, options) => {
    if (type === 'turbo:load') turboLoadListeners++;
    return add(type, listener, options);
  };
</script>`
