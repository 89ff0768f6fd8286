/**
 * A Web-standard `Request` as the bridge sees it, and its body read under the bridge's size cap.
 * No Node imports: this runs on Node, Bun, Deno and edge runtimes alike.
 */
import type { BridgeRequest, BridgeResponse } from '../bridge/types.js'
import type { ResolvedFetchOptions } from './fetch-options.js'
import { bodyTooLarge, declaredTooLarge } from './shared.js'

/**
 * Header names come lower-cased from `Headers`; repeated ones are already joined (`, `, and `; ` for
 * `cookie`). `host` falls back to the URL's authority (HTTP/2 has no Host header, RFC 9113 §8.3.1).
 */
function bridgeHeaders(request: Request, url: URL, options: ResolvedFetchOptions): Record<string, string> {
  const out: Record<string, string> = {}
  request.headers.forEach((value, name) => {
    out[name] = value
  })
  // publicUrl pins the app's own origin, whatever Host the client sent.
  if (options.publicOrigin !== undefined) out.host = options.publicOrigin.host
  else if (out.host === undefined) out.host = url.host
  return out
}

/**
 * The request target (path and query) of a Request's URL, which is always absolute and serialized:
 * a scan, no URL object, for the many requests that only need comparing with a path. A fragment is
 * never part of a target (RFC 9110 §7.1); a Request made by the app itself may carry one.
 */
export function requestTarget(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const hash = url.indexOf('#', start)
  return hash === -1 ? url.slice(start) : url.slice(start, hash)
}

/**
 * `secure` is what the runtime saw (the request URL's scheme) or what the app declared (`publicUrl`),
 * never a client header: the bridge's `trustProxy` alone decides about `X-Forwarded-Proto`.
 */
export function fetchToBridgeRequest(
  request: Request,
  options: ResolvedFetchOptions,
  body?: Uint8Array,
): BridgeRequest {
  const url = new URL(request.url)
  const bridged: BridgeRequest = {
    method: request.method.toUpperCase(),
    path: url.pathname + url.search,
    headers: bridgeHeaders(request, url, options),
    body,
    secure: options.publicOrigin?.secure ?? url.protocol === 'https:',
    // From the peer address the runtime gave, or the development switch; never from Host.
    loopback: options.loopback,
  }
  if (options.requestId !== undefined) bridged.requestId = options.requestId(request)
  return bridged
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

/**
 * Reads the body up to `limit` bytes. A Content-Length past it is refused before reading; a body
 * without one (chunked, a stream) is counted as it arrives and the stream cancelled at the first byte
 * past the cap, so an endless body is never buffered.
 */
export async function readLimitedBody(request: Request, limit: number): Promise<Uint8Array> {
  if (request.bodyUsed) {
    throw new Error('jwks-bridge: the request body was read before the bridge; hand the request over unread')
  }
  if (declaredTooLarge(request.headers.get('content-length'), limit)) throw bodyTooLarge()
  const stream = request.body
  if (stream === null) return new Uint8Array(0)
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      reader.cancel().catch(() => {})
      throw bodyTooLarge()
    }
    chunks.push(value)
  }
  return concat(chunks, size)
}

/** The bridge's answer as a `Response`: its headers, one `Set-Cookie` per cookie, a JSON body or none. */
export function toResponse(response: BridgeResponse): Response {
  const headers = new Headers(response.headers)
  for (const cookie of response.cookies) headers.append('set-cookie', cookie)
  if (response.body === undefined) return new Response(null, { status: response.status, headers })
  headers.set('content-type', 'application/json; charset=utf-8')
  return new Response(JSON.stringify(response.body), { status: response.status, headers })
}
