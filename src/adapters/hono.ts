/**
 * Hono middleware: answers the bridge's routes and puts the request's identity on the context,
 * typed: `c.var.identity` and `c.var.bridgeSession` (null when signed out). A route that never needs
 * them (static files, health checks) opts out by being registered before the middleware.
 *
 * @example
 * import { Hono } from 'hono'
 * import { type JwksBridgeEnv, jwksBridge } from 'jwks-bridge/hono'
 * const app = new Hono<JwksBridgeEnv>()
 * app.get('/healthz', (c) => c.text('ok')) // before the middleware: no session lookup
 * app.use(jwksBridge(bridge))
 * app.get('/me', (c) => (c.var.identity ? c.json(c.var.identity) : c.body(null, 401)))
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { Bridge } from '../bridge/bridge.js'
import type { BridgeSession } from '../bridge/types.js'
import { invalidOptions } from '../errors.js'
import type { Identity } from '../stores/types.js'
import { answer } from './fetch-answer.js'
import {
  type FetchAdapterOptions,
  loopbackOf,
  type ResolvedFetchOptions,
  resolveFetchOptions,
} from './fetch-options.js'
import { fetchToBridgeRequest, toResponse } from './fetch-request.js'
import { authenticateOrRespond } from './shared.js'

/** The resource server's Hono glue: access tokens for API routes (typed `c.var.accessToken`), RFC 9728 metadata. */
export {
  type AccessTokenEnv,
  type AccessTokenVariables,
  protectedResourceMetadata,
  requireAccessToken,
} from './hono-resource.js'
export type { ResourceAdapterOptions } from './resource-request.js'
export type { ExtraBridgeRoute } from './shared.js'

/** What the middleware puts on the context. */
export interface JwksBridgeVariables {
  /** The signed-in identity, or null. */
  identity: Identity | null
  /** The session of that identity, or null. */
  bridgeSession: BridgeSession | null
}

/** The Hono environment the middleware provides: `new Hono<JwksBridgeEnv>()`, or merge it into yours. */
export interface JwksBridgeEnv {
  Variables: JwksBridgeVariables
}

export interface JwksBridgeHonoOptions extends Omit<FetchAdapterOptions, 'requestId' | 'remoteAddress'> {
  /**
   * The request's id, for the bridge's log records. Default: `c.var.requestId` when set (Hono's
   * `requestId()` middleware, mounted before this one), else none.
   */
  requestId?: ((c: Context) => string | undefined) | undefined
}

const WHERE = 'jwks-bridge/hono'

/** Hono's `requestId()` middleware's value, when it ran. */
function honoRequestId(c: Context): string | undefined {
  const id: unknown = (c.var as Record<string, unknown>).requestId
  return typeof id === 'string' ? id : undefined
}

/**
 * The connection's peer address where the runtime puts it on `c.env`: @hono/node-server
 * (`env.incoming.socket.remoteAddress`), Bun.serve with the app's fetch (`env` is the server:
 * `requestIP`), Deno.serve with the app's fetch (`env` is the handler info: `remoteAddr.hostname`).
 * Undefined elsewhere (then plain http never carries a session cookie, unless `developmentLoopback`).
 * These come from the socket, not from anything the client wrote.
 */
export function honoRemoteAddress(c: Context): string | undefined {
  const env: unknown = c.env
  if (env === null || typeof env !== 'object') return undefined
  const e = env as {
    incoming?: { socket?: { remoteAddress?: unknown } }
    requestIP?: unknown
    remoteAddr?: { hostname?: unknown }
  }
  const node = e.incoming?.socket?.remoteAddress
  if (typeof node === 'string') return node
  if (typeof e.requestIP === 'function') {
    const ip: unknown = (e.requestIP as (r: Request) => unknown).call(env, c.req.raw)
    const address = (ip as { address?: unknown } | null | undefined)?.address
    if (typeof address === 'string') return address
  }
  const deno = e.remoteAddr?.hostname
  return typeof deno === 'string' ? deno : undefined
}

/** The middleware. Options are checked now (unknown keys refused: ERR_INVALID_OPTIONS). */
export function jwksBridge(
  bridge: Bridge,
  options?: JwksBridgeHonoOptions,
): MiddlewareHandler<JwksBridgeEnv> {
  const { requestId, ...rest } = options ?? {}
  if (requestId !== undefined && typeof requestId !== 'function') {
    throw invalidOptions(`${WHERE}: requestId must be a function`)
  }
  if ((rest as FetchAdapterOptions).remoteAddress !== undefined) {
    throw invalidOptions(`${WHERE}: remoteAddress is taken per request from the runtime (c.env)`)
  }
  const checked = resolveFetchOptions(options === undefined ? undefined : rest, WHERE)
  const idOf = requestId ?? honoRequestId
  return async (c, next) => {
    const request = c.req.raw
    // The context's request id, read per request (the Request alone does not carry it).
    const perRequest: ResolvedFetchOptions = {
      ...checked,
      requestId: () => idOf(c),
      loopback: loopbackOf(checked.developmentLoopback, honoRemoteAddress(c)),
    }
    const answered = await answer(bridge, request, perRequest)
    if (answered !== null) return answered
    const { auth, response } = await authenticateOrRespond(bridge, fetchToBridgeRequest(request, perRequest))
    if (response !== undefined) return toResponse(response)
    c.set('identity', auth?.identity ?? null)
    c.set('bridgeSession', auth?.session ?? null)
    return next()
  }
}

/**
 * The bridge's view of a Hono request, for `bridge.csrfTokenFor(...)` (pass the middleware's
 * publicUrl and developmentLoopback too); the peer address comes from `c.env` as in the middleware.
 */
export function toBridgeRequest(
  c: Context,
  options?: Pick<FetchAdapterOptions, 'publicUrl' | 'developmentLoopback'>,
): ReturnType<typeof fetchToBridgeRequest> {
  const checked = resolveFetchOptions(options, WHERE)
  const loopback = loopbackOf(checked.developmentLoopback, honoRemoteAddress(c))
  return fetchToBridgeRequest(c.req.raw, { ...checked, loopback })
}
