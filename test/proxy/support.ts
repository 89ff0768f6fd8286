// Support for the forward-auth and proxy tests: a real upstream on loopback that records what it
// received, and a session obtained the way a browser gets one (the sign-in page's CSRF token, a token
// from the development provider, PUT /auth).
import { createHash } from 'node:crypto'
import http, { type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { cookiePairs, devIssuerToken } from '../app/dev-token.ts'

export interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

/** An upstream that answers JSON describing the request, and a few special paths. */
export interface Upstream {
  url: string
  port: number
  seen: Seen[]
  sockets: Set<Socket>
  server: Server
  close(): Promise<void>
}

export async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = []
  const sockets = new Set<Socket>()
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    if (req.url === '/slow-stream') {
      // The first chunk now, the rest later: a streaming proxy passes the first one on at once.
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first\n')
      setTimeout(() => res.end('last\n'), 400)
      return
    }
    if (req.url === '/hang') return // never answers: the proxy's timeout must
    if (req.url?.startsWith('/upload')) {
      const hash = createHash('sha256')
      let bytes = 0
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        hash.update(chunk)
      })
      req.on('end', () => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }))
      })
      return
    }
    if (req.url === '/set-cookie') res.setHeader('set-cookie', ['upstream=1; Path=/'])
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }))
  })
  server.on('connection', (socket) => sockets.add(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    sockets,
    server,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * Signs `name` in at the app (directly, or through a proxy in front of it at `url`) and returns the
 * Cookie header the browser would then send: the sign-in page's CSRF cookie and token, a token from the
 * development provider, PUT /auth.
 */
export async function signInCookie(url: string, name: string, providerUrl = url): Promise<string> {
  const page = await fetch(`${url}/auth/sign-in`)
  if (page.status !== 200) throw new Error(`sign-in page answered ${page.status}`)
  const html = await page.text()
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1]
  if (csrf === undefined) throw new Error('no csrf-token meta tag on the sign-in page')
  const jar = cookiePairs(page)
  const jwt = await devIssuerToken(providerUrl, name)
  const put = await fetch(`${url}/auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, cookie: jar.join('; ') },
    body: JSON.stringify({ jwt }),
  })
  if (put.status !== 204) throw new Error(`PUT /auth answered ${put.status}: ${await put.text()}`)
  const session = cookiePairs(put).find((pair) => pair.startsWith('jwks-bridge-session='))
  if (session === undefined) throw new Error('no session cookie')
  return session
}

/** A browser's page load, as far as the proxy can tell. */
export const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A GET with exactly these headers, through node:http: fetch() replaces Sec-Fetch-Mode with `cors`,
 * so a browser's page load cannot be imitated with it.
 */
export function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        )
      })
      .on('error', reject)
  })
}
