/**
 * The Web-standard adapter: `Request` in, `Response` out, for every runtime and framework that speaks
 * them (Next.js route handlers, Hono, SvelteKit, Remix, Astro, Bun.serve, Deno.serve, workers). For
 * APIs, `requireAccessToken` and `protectedResourceMetadata` (fetch-resource.ts) do the same for the
 * resource server.
 *
 * @example
 * import { authenticateRequest, handleRequest } from 'jwks-bridge/fetch'
 * Bun.serve({
 *   async fetch(request, server) {
 *     // The peer address from the socket: plain http on loopback is allowed for development.
 *     const options = { remoteAddress: server.requestIP(request)?.address }
 *     const answered = await handleRequest(bridge, request, options) // the handoff, sign-out, back-channel logout
 *     if (answered) return answered
 *     const auth = await authenticateRequest(bridge, request, options)
 *     return auth ? Response.json(auth.identity) : new Response(null, { status: 401 })
 *   },
 * })
 */
import type { Bridge } from '../bridge/bridge.js'
import { errorResponse } from '../bridge/http-status.js'
import type { Authenticated, BridgeRequest } from '../bridge/types.js'
import { invalidOptions } from '../errors.js'
import { answer } from './fetch-answer.js'
import {
  type FetchAdapterOptions,
  loopbackOf,
  type ResolvedFetchOptions,
  resolveFetchOptions,
} from './fetch-options.js'
import { fetchToBridgeRequest, toResponse } from './fetch-request.js'

export type { Authenticated, BridgeSession } from '../bridge/types.js'
/** The development provider mounted in a Web-standard app (see fetch-dev-issuer.ts). */
export { devIssuerHandler } from './fetch-dev-issuer.js'
export type { FetchAdapterOptions } from './fetch-options.js'
/** The resource server's fetch glue: access tokens for API routes, and RFC 9728 metadata. */
export {
  type AccessTokenGuard,
  type AccessTokenOutcome,
  protectedResourceMetadata,
  requireAccessToken,
} from './fetch-resource.js'
export type { ResourceAdapterOptions } from './resource-request.js'
export type { ExtraBridgeRoute } from './shared.js'

/** What the runtime knows of the request's connection (Bun: `server.requestIP(request)`, Deno: `info.remoteAddr`). */
export interface FetchConnection {
  /** The peer address from the socket; plain http sets a session cookie only when it is loopback. */
  remoteAddress?: string | undefined
}

/** The entry points with their options checked once (`createFetchAdapter`). */
export interface FetchAdapter {
  /** The bridge's answer to its own routes, or null for every other request. */
  handleRequest(request: Request, connection?: FetchConnection): Promise<Response | null>
  /** The request's identity and session from its cookie, or null. Rejects when a store is down (see `errorToResponse`). */
  authenticateRequest(request: Request, connection?: FetchConnection): Promise<Authenticated | null>
  /** The bridge's view of the request, for `bridge.csrfTokenFor` and `bridge.hasSession`. */
  bridgeRequest(request: Request, connection?: FetchConnection): BridgeRequest
}

// Options objects checked before, so that a handler passing the same object per request pays once
// (an options object is read when first used: make a new one rather than change it).
const resolved = new WeakMap<object, ResolvedFetchOptions>()

function optionsOf(options: FetchAdapterOptions | undefined): ResolvedFetchOptions {
  if (options === undefined || options === null || typeof options !== 'object') {
    return resolveFetchOptions(options, 'jwks-bridge/fetch')
  }
  let checked = resolved.get(options)
  if (checked === undefined) {
    checked = resolveFetchOptions(options, 'jwks-bridge/fetch')
    resolved.set(options, checked)
  }
  return checked
}

/**
 * Answers the bridge's own routes (`PUT`/`POST`/`DELETE` on the auth path, back-channel logout, the
 * test sign-in route when given) with a `Response` carrying its `Set-Cookie` headers; resolves null for
 * every other request, which the app then answers. The body is read here, under the bridge's size cap:
 * hand the request over unread.
 */
export async function handleRequest(
  bridge: Bridge,
  request: Request,
  options?: FetchAdapterOptions,
): Promise<Response | null> {
  return answer(bridge, request, optionsOf(options))
}

/**
 * The session behind the request's cookie: `{ identity, session }`, or null. Rejects with
 * ERR_STORE_UNAVAILABLE when the session store cannot be reached: `errorToResponse` makes that the 503.
 */
export async function authenticateRequest(
  bridge: Bridge,
  request: Request,
  options?: FetchAdapterOptions,
): Promise<Authenticated | null> {
  return bridge.authenticate(fetchToBridgeRequest(request, optionsOf(options)))
}

/** The bridge's view of a request (no body), for `bridge.csrfTokenFor(...)` and `bridge.hasSession(...)`. */
export function toBridgeRequest(request: Request, options?: FetchAdapterOptions): BridgeRequest {
  return fetchToBridgeRequest(request, optionsOf(options))
}

/**
 * The response for an error the bridge raised (a store down → 503, with the JSON error body), or null
 * for any other error, which stays the app's to handle.
 *
 * @example
 * const auth = await authenticateRequest(bridge, request).catch((error) => {
 *   const response = errorToResponse(error)
 *   if (response) return response
 *   throw error
 * })
 */
export function errorToResponse(error: unknown): Response | null {
  const response = errorResponse(error)
  return response === undefined ? null : toResponse(response)
}

/** The entry points bound to a bridge, with their options checked now (ERR_INVALID_OPTIONS). */
export function createFetchAdapter(bridge: Bridge, options?: FetchAdapterOptions): FetchAdapter {
  const checked = resolveFetchOptions(options, 'jwks-bridge/fetch')
  if (options?.remoteAddress !== undefined) {
    throw invalidOptions(
      'jwks-bridge/fetch: remoteAddress is per request: pass { remoteAddress } to each call',
    )
  }
  // The peer address is per request: the adapter's methods take it next to the request.
  const per = (connection: FetchConnection | undefined): ResolvedFetchOptions =>
    connection?.remoteAddress === undefined
      ? checked
      : { ...checked, loopback: loopbackOf(checked.developmentLoopback, connection.remoteAddress) }
  return {
    handleRequest: (request, connection) => answer(bridge, request, per(connection)),
    authenticateRequest: (request, connection) =>
      bridge.authenticate(fetchToBridgeRequest(request, per(connection))),
    bridgeRequest: (request, connection) => fetchToBridgeRequest(request, per(connection)),
  }
}
