/**
 * Reverse-proxy mode (UPSTREAM_URL): the app answers its own routes (the bridge's, the browser script,
 * the development provider, health and metrics) and forwards every other request to the upstream with
 * the session's identity in headers, so that a backend in any language trusts the identity provider
 * without a line of JWT code. Built on @fastify/http-proxy (undici): bodies stream both ways, the
 * upstream connections are kept alive, WebSocket upgrades are proxied.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { pipeline, type Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toBridgeRequest } from '../adapters/node-request.js'
import type { Bridge } from '../bridge/bridge.js'
import { isBrowserNavigation, isSafeReturnPath, signInLocation } from '../bridge/forward-auth.js'
import { errorResponse } from '../bridge/http-status.js'
import { isSecureRequest, ownOrigin } from '../bridge/request-guard.js'
import { invalidOptions } from '../errors.js'
import type { ProxyConfig } from './config.js'
import {
  createMetaInjector,
  DEFAULT_MAX_HEAD_BYTES,
  INVALIDATED_HEADERS,
  type InjectionOutcome,
  injectionFor,
  renderMetaTags,
} from './meta-injection.js'
import { upstreamHeaders } from './proxy-headers.js'
import { isPublicPath } from './public-paths.js'

/** What the proxy counts (the app's metrics, when on). */
export type ProxyOutcome = 'forwarded' | 'refused' | 'upstream-error'

export interface ProxyDeps {
  bridge: Bridge
  proxy: ProxyConfig
  trustProxy: boolean
  /** Where browsers without a session go. */
  signInPath: string
  /** The handoff URL, for the meta tags of upstream pages. */
  authenticationUrl: string
  onOutcome?: ((outcome: ProxyOutcome) => void) | undefined
  /** With `proxy.injectMetaTags`: how many bytes of a page may come before `<head>` (default 64 KiB). */
  maxHeadBytes?: number
}

/** The upstream's answer as @fastify/reply-from hands it to `onResponse` (its types say otherwise). */
interface UpstreamAnswer {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  stream: Readable
}

interface PageMeta {
  meta: { authenticationUrl: string; hasSession: boolean; csrfToken: string }
  cookies: string[]
}

type HttpProxy = typeof import('@fastify/http-proxy').default

async function loadHttpProxy(): Promise<HttpProxy> {
  try {
    return (await import('@fastify/http-proxy')).default
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw invalidOptions(
        'UPSTREAM_URL needs the package "@fastify/http-proxy": npm install @fastify/http-proxy',
      )
    }
    throw error
  }
}

const UNAUTHENTICATED = { error: { code: 'ERR_UNAUTHENTICATED', message: 'sign in first' } }

function isUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade !== undefined
}

/** Mounts the proxy on every path the app does not answer itself. */
export async function installProxy(fastify: FastifyInstance, deps: ProxyDeps): Promise<void> {
  const httpProxy = await loadHttpProxy()
  const { bridge, proxy, trustProxy } = deps
  const pages = new WeakMap<IncomingMessage, PageMeta>()
  const count = deps.onOutcome ?? (() => {})
  const inject = proxy.injectMetaTags === true
  const maxHeadBytes = deps.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES
  // Each kind of page the tags could not go into is logged once per process, not once per request.
  const warned = new Set<InjectionOutcome | 'encoded'>()
  function warnOnce(request: FastifyRequest, outcome: InjectionOutcome | 'encoded'): void {
    if (outcome === 'injected' || outcome === 'no-head' || warned.has(outcome)) return
    warned.add(outcome)
    const why = {
      duplicate: 'the page already has one of the meta tags: the browser script will refuse it',
      'too-large': `no <head> within the first ${maxHeadBytes} bytes: the page passed through untouched`,
      encoded: 'the page is compressed (Content-Encoding): it passed through untouched',
    }[outcome]
    request.log.warn({ event: 'proxy.inject-meta-tags', outcome, path: request.url.split('?')[0] }, why)
  }

  async function gate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const signedIn = request.identity !== null
    if (!signedIn && !isPublicPath(request.url, proxy.publicPaths)) {
      count('refused')
      reply.header('cache-control', 'no-store')
      if (!isUpgrade(request) && isBrowserNavigation(request.headers, request.method)) {
        const back = isSafeReturnPath(request.url) ? request.url : undefined
        return reply.code(303).header('location', signInLocation(deps.signInPath, back)).send()
      }
      return reply.code(401).send(UNAUTHENTICATED)
    }
    const bridged = toBridgeRequest(request.raw, request.url)
    if (signedIn && isUpgrade(request)) {
      // Cross-site WebSocket hijacking: browsers send cookies with a WebSocket from any page and do
      // not apply CORS to it; the identity headers would vouch for the attacker's connection.
      const origin = request.headers.origin
      if (origin !== undefined && origin !== ownOrigin(bridged, isSecureRequest(bridged, trustProxy))) {
        count('refused')
        return reply.code(403).send({
          error: { code: 'ERR_CROSS_SITE_REQUEST', message: 'a WebSocket from another origin' },
        })
      }
    }
    if (!isUpgrade(request) && isBrowserNavigation(request.headers, request.method)) {
      // A page load: the upstream renders the meta tags the browser script needs from headers.
      try {
        const csrf = bridge.csrfTokenFor(bridged)
        pages.set(request.raw, {
          meta: { authenticationUrl: deps.authenticationUrl, hasSession: signedIn, csrfToken: csrf.token },
          cookies: csrf.cookies,
        })
      } catch (error) {
        const response = errorResponse(error)
        if (response === undefined) throw error
        count('refused')
        return reply.code(response.status).headers(response.headers).send(response.body)
      }
    }
    count('forwarded')
    return undefined
  }

  function headersFor(request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
    const meta = pages.get(request.raw)?.meta
    const out = upstreamHeaders({
      headers,
      identityHeaderNames: bridge.identityHeaderNames,
      identity: request.identity === null ? undefined : bridge.identityHeaders(request.identity),
      meta,
      remoteAddress: request.raw.socket.remoteAddress,
      host: request.headers.host,
      secure: isSecureRequest(toBridgeRequest(request.raw, request.url), trustProxy),
      trustProxy,
    }) as IncomingHttpHeaders
    // A page the tags go into must come uncompressed: compressed bytes cannot be edited in passing.
    if (inject && meta !== undefined) out['accept-encoding'] = 'identity'
    return out
  }

  /** Sends the upstream's body; a page load's HTML gets the meta tags (INJECT_META_TAGS). */
  function relay(request: FastifyRequest, reply: FastifyReply, res: UpstreamAnswer): void {
    const page = inject ? pages.get(request.raw) : undefined
    if (page === undefined) {
      reply.send(res.stream)
      return
    }
    const verdict = injectionFor(request.method, res.statusCode, res.headers)
    if (verdict === 'encoded') warnOnce(request, 'encoded')
    if (verdict !== 'inject') {
      // HEAD answers as GET would: the GET's length is not the upstream's once the tags are in.
      if (request.method === 'HEAD' && injectionFor('GET', res.statusCode, res.headers) === 'inject') {
        for (const name of INVALIDATED_HEADERS) reply.removeHeader(name)
      }
      reply.send(res.stream)
      return
    }
    for (const name of INVALIDATED_HEADERS) reply.removeHeader(name)
    // The page now holds this browser's CSRF token and session state: no cache may keep it for another.
    reply.header('cache-control', 'no-store')
    const injector = createMetaInjector({
      tags: renderMetaTags(page.meta),
      maxHeadBytes,
      onOutcome: (outcome) => warnOnce(request, outcome),
    })
    // An upstream that fails mid-body fails the response (pipeline destroys the injector with it).
    pipeline(res.stream, injector, () => {})
    reply.send(injector)
  }

  // @fastify/http-proxy calls wsClientOptions.rewriteRequestHeaders (its index.js), though its types
  // leave it out: the WebSocket's upstream request gets the same identity headers, spoofed copies removed.
  const wsClientOptions = {
    rewriteRequestHeaders: (headers: IncomingHttpHeaders, request: FastifyRequest) =>
      headersFor(request, { ...request.headers, ...headers }),
  }

  await fastify.register(httpProxy, {
    upstream: proxy.upstream,
    websocket: true,
    preHandler: gate,
    // The app writes one access line per request; the proxy library's own lines would add two.
    disableRequestLogging: true,
    // Keep-alive connections to the upstream, each step bounded: a hung upstream costs a 504, not a
    // request held forever.
    undici: {
      connections: 128,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      connectTimeout: proxy.timeoutMs,
      headersTimeout: proxy.timeoutMs,
      bodyTimeout: proxy.timeoutMs,
    },
    replyOptions: {
      // No retries: a request must not reach the upstream twice, and its 503 is an answer to pass on.
      retryDelay: () => null,
      onResponse: (request, reply, res) =>
        relay(request as FastifyRequest, reply as FastifyReply, res as unknown as UpstreamAnswer),
      rewriteRequestHeaders: (request, headers) => headersFor(request as FastifyRequest, headers),
      rewriteHeaders: (headers, request) => {
        const page = request === undefined ? undefined : pages.get(request.raw as IncomingMessage)
        if (page === undefined || page.cookies.length === 0) return headers
        const theirs = headers['set-cookie']
        const list = theirs === undefined ? [] : Array.isArray(theirs) ? theirs : [String(theirs)]
        return { ...headers, 'set-cookie': [...list, ...page.cookies] }
      },
      onError: (reply, { error }) => {
        count('upstream-error')
        const timedOut = (error as { statusCode?: number }).statusCode === 504
        reply
          .code(timedOut ? 504 : 502)
          .header('cache-control', 'no-store')
          .send({
            error: timedOut
              ? { code: 'ERR_UPSTREAM_TIMEOUT', message: 'the upstream did not answer in time' }
              : { code: 'ERR_UPSTREAM_UNREACHABLE', message: 'the upstream could not be reached' },
          })
      },
    },
    wsClientOptions: wsClientOptions as object,
  })
}
