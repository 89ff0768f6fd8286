/**
 * Shared by the adapters: a Node request (Fastify's `request.raw`, Express's `req`) as a BridgeRequest.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { BridgeRequest } from '../bridge/types.js'
import { isLoopbackAddress } from '../lib/loopback.js'

export { isLoopbackAddress } from '../lib/loopback.js'

/** Node already lower-cases names and joins `cookie` with `; `; other repeated headers are joined with `, `. */
export function bridgeHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  // HTTP/2 carries the host in the :authority pseudo-header (RFC 9113 §8.3.1); the guard needs it.
  if (out.host === undefined && out[':authority'] !== undefined) out.host = out[':authority']
  return out
}

/**
 * `secure` is the connection's own TLS, never the framework's idea of the protocol (which may already
 * trust proxy headers): the bridge's `trustProxy` option alone decides about `X-Forwarded-Proto`.
 */
export function toBridgeRequest(raw: IncomingMessage, target: string, body?: Uint8Array): BridgeRequest {
  return {
    method: raw.method ?? 'GET',
    path: target,
    headers: bridgeHeaders(raw.headers),
    body,
    secure: (raw.socket as Partial<TLSSocket> | null)?.encrypted === true,
    loopback: isLoopbackAddress(raw.socket?.remoteAddress),
  }
}
