import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { invalidOptions } from '../errors.js'
import { isLoopbackHost } from '../lib/loopback.js'
import { createDevIssuer, type DevIssuer } from './dev-issuer.js'
import { type DevIssuerRequest, MAX_BODY_BYTES } from './http.js'
import { type DevIssuerOptions, refuseProduction } from './options.js'

export interface StartDevIssuerOptions
  extends Omit<DevIssuerOptions, 'issuer' | 'dangerouslyAllowNonLoopbackIssuer'> {
  /** Where to listen. Default 127.0.0.1: a provider that signs in anyone belongs on loopback. */
  host?: string
  /** Port; 0 picks a free one. Default 4000. */
  port?: number
  /**
   * DANGEROUS. Listen on a host, or serve an issuer URL, other than loopback (127.0.0.0/8, ::1,
   * localhost): anyone who reaches it signs in under any name. Off by default; when set, a process
   * warning (code `JWKS_BRIDGE_DEV_ISSUER_EXPOSED`) is emitted. For a throwaway test network only.
   */
  allowNonLoopback?: boolean
  /** The issuer URL. Default `http://<host>:<port>`, with the port actually bound. */
  issuer?: string
}

export interface RunningDevIssuer {
  /** The provider itself (issuer, URLs, rotateKeys...). */
  readonly devIssuer: DevIssuer
  readonly issuer: string
  readonly discoveryUrl: string
  readonly jwksUrl: string
  readonly signInUrl: string
  /** The address actually bound. */
  readonly host: string
  readonly port: number
  readonly server: Server
  /** Stops listening and closes open connections. */
  close(): Promise<void>
}

export const DEFAULT_DEV_ISSUER_PORT = 4000

/**
 * Serves the development identity provider on its own node:http server.
 *
 * Refuses to start with NODE_ENV=production, and on a non-loopback host or issuer URL unless
 * `allowNonLoopback` is set (then warns): anyone who reaches it can sign in under any name. It logs nothing (no token or session id
 * can end up in a log).
 *
 * @example
 * const running = await startDevIssuer({ port: 0 })
 * console.log(running.discoveryUrl)
 * await running.close()
 */
export async function startDevIssuer(options: StartDevIssuerOptions = {}): Promise<RunningDevIssuer> {
  refuseProduction(options.env ?? process.env)
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw invalidOptions('host must be a host name or address')
  if (!isLoopbackHost(host) && options.allowNonLoopback !== true) {
    throw invalidOptions(
      `host ${JSON.stringify(host)} is not a loopback address: the development provider signs in anyone ` +
        'under any name, so it listens on 127.0.0.1, ::1 or localhost only; set allowNonLoopback: true ' +
        '(CLI --allow-non-loopback) to expose it anyway',
    )
  }
  const port = options.port ?? DEFAULT_DEV_ISSUER_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidOptions('port must be a whole number from 0 to 65535')
  }
  const { host: _host, port: _port, allowNonLoopback: _allow, issuer: givenIssuer, ...given } = options
  // The one escape hatch of this layer is allowNonLoopback; it turns off createDevIssuer's issuer check too.
  const rest = { ...given, dangerouslyAllowNonLoopbackIssuer: options.allowNonLoopback === true }

  // With an issuer given, every option is checked before anything listens.
  let provider: DevIssuer | undefined =
    givenIssuer === undefined ? undefined : createDevIssuer({ ...rest, issuer: givenIssuer })
  const server = createServer((request, response) => {
    if (provider === undefined) {
      response.writeHead(503).end()
      return
    }
    serve(provider, request, response)
  })
  const bound = await listen(server, host, port)
  if (provider === undefined) {
    try {
      provider = createDevIssuer({ ...rest, issuer: `http://${urlHost(host)}:${bound.port}` })
    } catch (error) {
      await closeServer(server)
      throw error
    }
  }
  const ready = provider
  return {
    devIssuer: ready,
    issuer: ready.issuer,
    discoveryUrl: ready.discoveryUrl,
    jwksUrl: ready.jwksUrl,
    signInUrl: ready.signInUrl,
    host: bound.address,
    port: bound.port,
    server,
    close: () => closeServer(server),
  }
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve(server.address() as AddressInfo)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    // Keep-alive connections would hold close() open until they time out.
    server.closeAllConnections()
  })
}

/** Reads the body up to MAX_BODY_BYTES; past it, answers 413 and stops reading. */
function serve(devIssuer: DevIssuer, request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = []
  let size = 0
  let refused = false
  request.on('data', (chunk: Buffer) => {
    if (refused) return
    size += chunk.length
    if (size > MAX_BODY_BYTES) {
      refused = true
      response.writeHead(413, { 'content-type': 'application/json', connection: 'close' })
      response.end('{"error":"the request body is too large"}')
      request.destroy()
      return
    }
    chunks.push(chunk)
  })
  request.on('end', () => {
    if (refused) return
    const url = request.url ?? '/'
    const plain: DevIssuerRequest = {
      method: request.method ?? 'GET',
      path: url,
      headers: request.headers,
      body: Buffer.concat(chunks),
    }
    devIssuer.handle(plain).then(
      (answer) => {
        response.writeHead(answer.status, answer.headers)
        response.end(answer.body)
      },
      () => {
        // Nothing about the failure in the reply or in a log: it could carry request data.
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' })
        response.end('{"error":"internal error"}')
      },
    )
  })
  request.on('error', () => response.destroy())
}
