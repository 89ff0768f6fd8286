/**
 * Hono glue for the resource server: `requireAccessToken` protects a route with an access token
 * (Bearer or DPoP) and puts it on the context, typed: `c.var.accessToken`; `protectedResourceMetadata`
 * serves the RFC 9728 document. Both are the fetch adapter's, on `c.req.raw`.
 *
 * @example
 * import { Hono } from 'hono'
 * import { protectedResourceMetadata, requireAccessToken } from 'jwks-bridge/hono'
 * const app = new Hono()
 * app.use(protectedResourceMetadata(api))
 * app.get('/api/things', requireAccessToken(api, { scopes: ['read:things'] }), (c) =>
 *   c.json({ for: c.var.accessToken.payload.sub }))
 */
import type { MiddlewareHandler } from 'hono'
import type { AccessTokenAuth, ResourceServer } from '../resource-server/resource-server.js'
import { guardFor, protectedResourceMetadata as metadataHandler } from './fetch-resource.js'
import type { ResourceAdapterOptions } from './resource-request.js'

/** What `requireAccessToken` puts on the context. */
export interface AccessTokenVariables {
  /** The verified access token of this request: `payload`, `scopes`, `scheme`, `jkt`. */
  accessToken: AccessTokenAuth
}

/**
 * The Hono environment `requireAccessToken` provides. A route given the middleware has it already
 * (`app.get(path, requireAccessToken(api), handler)`); for `app.use`, declare it on the app:
 * `new Hono<AccessTokenEnv>()`, or merge its `Variables` into yours.
 */
export interface AccessTokenEnv {
  Variables: AccessTokenVariables
}

/**
 * Middleware that lets a request through only with a valid access token carrying `scopes` (besides the
 * resource server's own); sets `c.var.accessToken`. A refused request is answered here, with the status
 * and `WWW-Authenticate` challenge of `api.challenge` and `{ error: { code, message } }`. Options are
 * checked now (ERR_INVALID_OPTIONS).
 */
export function requireAccessToken(
  api: ResourceServer,
  options: ResourceAdapterOptions = {},
): MiddlewareHandler<AccessTokenEnv> {
  const guard = guardFor(api, options, 'jwks-bridge/hono requireAccessToken')
  return async (c, next) => {
    const outcome = await guard(c.req.raw)
    if (!outcome.ok) return outcome.response
    c.set('accessToken', outcome.auth)
    await next()
    // After the route: set on whatever response it made (c.json, or a Response of its own).
    // RFC 9449 §8.2: a fresher nonce for the client's next proof.
    for (const [name, value] of Object.entries(outcome.headers)) c.header(name, value)
    return undefined
  }
}

/** Serves `api.metadata()` at `api.metadataPath` (RFC 9728 §3) for GET and HEAD; other requests go on. */
export function protectedResourceMetadata(api: ResourceServer): MiddlewareHandler {
  const answer = metadataHandler(api)
  return async (c, next) => answer(c.req.raw) ?? next()
}
