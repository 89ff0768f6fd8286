// A real HTTP server on 127.0.0.1 (random port) whose answers a test controls: status, headers,
// body, delays, redirects, dropped connections. It counts and records every request.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface Route {
  status?: number
  headers?: Record<string, string>
  /** JSON value (serialized) or raw text/bytes. */
  body?: unknown
  /** Wait before sending headers, in ms. */
  delayMs?: number
  /** Send headers, then wait this long before the body. */
  bodyDelayMs?: number
  /** Destroy the socket without answering. */
  drop?: boolean
  /** Custom handler; wins over everything else. */
  handle?: (request: { headers: IncomingHttpHeaders; url: string }, response: ServerResponse) => void
}

export interface RecordedRequest {
  path: string
  method: string
  headers: IncomingHttpHeaders
}

export class TestServer {
  readonly routes = new Map<string, Route>()
  readonly requests: RecordedRequest[] = []
  #server: Server
  #sockets = new Set<Socket>()
  #port = 0

  constructor() {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string
      this.requests.push({ path, method: req.method ?? 'GET', headers: req.headers })
      const route = this.routes.get(path)
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
        return
      }
      if (route.handle) return route.handle({ headers: req.headers, url: req.url ?? '/' }, res)
      const send = () => {
        if (route.drop) {
          req.socket.destroy()
          return
        }
        const body =
          route.body === undefined
            ? ''
            : typeof route.body === 'string' || route.body instanceof Uint8Array
              ? route.body
              : JSON.stringify(route.body)
        res.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...route.headers })
        if (route.bodyDelayMs) {
          res.write(typeof body === 'string' ? body.slice(0, 1) : body.subarray(0, 1))
          setTimeout(
            () => res.end(typeof body === 'string' ? body.slice(1) : body.subarray(1)),
            route.bodyDelayMs,
          )
        } else res.end(body)
      }
      if (route.delayMs) setTimeout(send, route.delayMs)
      else send()
    })
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  /** Listens on `port` (default: a random free one). A stopped server can start again on its old port. */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    this.#port = (this.#server.address() as AddressInfo).port
    return this
  }

  get port(): number {
    return this.#port
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  url(path: string): string {
    return `${this.origin}${path}`
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
