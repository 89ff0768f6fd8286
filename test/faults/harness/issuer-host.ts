// The identity provider's key set, served on 127.0.0.1 by a server the fault scenarios control: up,
// down (the port refuses connections, as when the provider's host is gone) or hanging (connections are
// accepted and never answered, as behind a black-holing network). Tokens come from jwks-bridge/testing's
// createTestIssuer: `current` signs with the published key; `next` with the key the provider rotates
// to, published only after `publishNext()`.
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createTestIssuer, type TestIssuer } from '../../../src/testing/index.ts'

export type HostMode = 'up' | 'down' | 'hang'

export interface IssuerHost {
  /** The `iss` of every token, and ISSUER_URL for the app. */
  issuer: string
  /** JWKS_URI for the app. */
  jwksUri: string
  /** Signs with the key the set has published from the start. */
  current: TestIssuer
  /** Signs with the key the provider rotates to. */
  next: TestIssuer
  /** From now on the set also lists `next`'s key. */
  publishNext(): void
  readonly mode: HostMode
  setMode(mode: HostMode): Promise<void>
  /** Key set requests answered so far. */
  answered(): number
  close(): Promise<void>
}

export interface IssuerHostOptions {
  /** Clock for the tokens' iat and exp. Default Date.now. */
  nowMs?: () => number
  /** max-age of the key set, in seconds. Default 60 (the verifier never goes below 30). */
  maxAgeSeconds?: number
}

const ISSUER = 'https://idp.faults.example'
const JWKS_PATH = '/.well-known/jwks.json'

export async function startIssuerHost(options: IssuerHostOptions = {}): Promise<IssuerHost> {
  const nowMs = options.nowMs ?? Date.now
  const current = createTestIssuer({ issuer: ISSUER, nowMs })
  const next = createTestIssuer({ issuer: ISSUER, nowMs })
  let nextPublished = false
  let mode: HostMode = 'up'
  let answered = 0
  const sockets = new Set<Socket>()

  const server: Server = createServer((request, response) => {
    if (mode === 'hang') return // Never answered; the socket is destroyed when the mode changes.
    if (request.url !== JWKS_PATH || request.method !== 'GET') {
      response.writeHead(404).end()
      return
    }
    answered += 1
    const keys = [...current.jwks.keys, ...(nextPublished ? next.jwks.keys : [])]
    const body = JSON.stringify({ keys })
    response.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': `max-age=${options.maxAgeSeconds ?? 60}`,
      'content-length': Buffer.byteLength(body),
    })
    response.end(body)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const unlisten = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })

  await listen(0)
  const port = (server.address() as AddressInfo).port
  return {
    issuer: ISSUER,
    jwksUri: `http://127.0.0.1:${port}${JWKS_PATH}`,
    current,
    next,
    publishNext() {
      nextPublished = true
    },
    get mode() {
      return mode
    },
    async setMode(wanted) {
      if (wanted === mode) return
      if (mode === 'down') await listen(port)
      for (const socket of sockets) socket.destroy()
      if (wanted === 'down') await unlisten()
      mode = wanted
    },
    answered: () => answered,
    async close() {
      if (mode !== 'down') await unlisten()
      mode = 'down'
    },
  }
}
