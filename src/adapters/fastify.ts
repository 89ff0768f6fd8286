/// <reference types="node" preserve="true" />
// Public signatures use Node's types (Buffer, KeyObject, http requests): the declarations reference
// them, so a TypeScript project without @types/node is first told which package it lacks.
/**
 * Fastify plugin: mounts the bridge routes and gives every request `request.identity` (and
 * `request.bridgeSession`), or null. A route that never needs them (static files, health checks)
 * opts out with `config: { jwksBridge: { authenticate: false } }`: no session lookup, and both stay null.
 *
 * @example
 * import { jwksBridgeFastify } from 'jwks-bridge/fastify'
 * await app.register(jwksBridgeFastify, { bridge })
 * app.get('/me', async (request, reply) => request.identity ?? reply.code(401).send())
 * app.get('/healthz', { config: { jwksBridge: { authenticate: false } } }, async () => ({ ok: true }))
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Bridge } from '../bridge/bridge.js'
import { errorResponse } from '../bridge/http-status.js'
import type { BridgeRequest, BridgeResponse, BridgeSession } from '../bridge/types.js'
import { JwksBridgeError } from '../errors.js'
import { optionNames, readOptions } from '../lib/options.js'
import type { Identity } from '../stores/types.js'
import { toBridgeRequest } from './node-request.js'
import { authenticateOrRespond, bodyTooLarge, type ExtraBridgeRoute } from './shared.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** jwks-bridge's settings for this route. */
    jwksBridge?: {
      /** false: no session lookup for this route; `request.identity` stays null. Default true. */
      authenticate?: boolean
    }
  }
  interface FastifyRequest {
    /** The signed-in identity, or null (set by jwks-bridge). */
    identity: Identity | null
    /** The session of that identity, or null (set by jwks-bridge). */
    bridgeSession: BridgeSession | null
  }
}

export type { ExtraBridgeRoute } from './shared.js'

export interface JwksBridgeFastifyOptions {
  bridge: Bridge
  /** The test sign-in route (`enableTestSignIn` returns undefined outside NODE_ENV=test: pass it as is). */
  testSignIn?: ExtraBridgeRoute | undefined
}

const WHERE = 'jwksBridgeFastify'
/**
 * The plugin's own options, and the ones Fastify's `register` accepts for every plugin (it passes them
 * on; this plugin runs in the caller's context, so they change nothing here, but they are not typos).
 */
const PLUGIN_KEYS = [
  ...optionNames<JwksBridgeFastifyOptions>()(['bridge', 'testSignIn']),
  'prefix',
  'logLevel',
  'logSerializers',
]

function send(reply: FastifyReply, response: BridgeResponse): FastifyReply {
  reply.code(response.status).headers(response.headers)
  if (response.cookies.length > 0) reply.header('set-cookie', response.cookies)
  return response.body === undefined ? reply.send() : reply.type('application/json').send(response.body)
}

// Fastify's own refusals of a bridge route's body, in the bridge's words.
const FASTIFY_BODY_ERRORS: Record<string, () => JwksBridgeError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: bodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new JwksBridgeError('ERR_UNSUPPORTED_MEDIA_TYPE', 'the Content-Type header is not a media type'),
}

export async function jwksBridgeFastify(
  fastify: FastifyInstance,
  options: JwksBridgeFastifyOptions,
): Promise<void> {
  // Unknown names are refused: a misspelt `testSignin` would leave the route silently unmounted.
  readOptions(WHERE, options, PLUGIN_KEYS)
  const { bridge } = options
  fastify.decorateRequest('identity', null)
  fastify.decorateRequest('bridgeSession', null)

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (bridge.isRoute(request.method, request.url)) return
    if (request.routeOptions.config?.jwksBridge?.authenticate === false) return
    const { auth, response } = await authenticateOrRespond(bridge, bridgeRequest(request))
    if (response !== undefined) return send(reply, response)
    request.identity = auth?.identity ?? null
    request.bridgeSession = auth?.session ?? null
  })

  // The routes live in their own encapsulated context, so that their raw-body parser (the bridge checks
  // type and size itself) replaces the app's parsers for them only.
  await fastify.register(async (routes) => {
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: bridge.maxBodyBytes },
      (_request, body, done) => done(null, body),
    )
    routes.setErrorHandler(async (error: { code?: string }, _request, reply) => {
      const translate = error.code === undefined ? undefined : FASTIFY_BODY_ERRORS[error.code]
      if (translate === undefined) throw error
      return send(reply, errorResponse(translate()) as BridgeResponse)
    })
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : undefined
      const response = await bridge.handle(bridgeRequest(request, body))
      if (response === undefined) return reply.callNotFound()
      return send(reply, response)
    }
    const { authPath, backChannelLogoutPath, checkPath } = bridge.routes
    // OPTIONS: the CORS preflight of a page on an allowed origin (bridge/cors.ts).
    routes.route({ method: ['PUT', 'POST', 'DELETE', 'OPTIONS'], url: authPath, handler })
    // The forward-auth check (Fastify answers HEAD through the GET route).
    routes.get(checkPath, handler)
    if (backChannelLogoutPath !== undefined) routes.post(backChannelLogoutPath, handler)
    const extra = options.testSignIn
    if (extra !== undefined) {
      routes.post(extra.path, async (request: FastifyRequest, reply: FastifyReply) => {
        const body = Buffer.isBuffer(request.body) ? request.body : undefined
        return send(reply, await extra.handle(bridgeRequest(request, body)))
      })
    }
  })
}

/** The bridge's view of a Fastify request, with Fastify's request id for the bridge's log records. */
function bridgeRequest(request: FastifyRequest, body?: Uint8Array): BridgeRequest {
  const bridged = toBridgeRequest(request.raw, request.url, body)
  bridged.requestId = String(request.id)
  return bridged
}

// What fastify-plugin does: run in the caller's context, so the hook and decorators reach every route
// of the app rather than only the plugin's own.
Object.assign(jwksBridgeFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'jwks-bridge',
})

/** The development identity provider, mounted in the app (see fastify-dev-issuer.ts). */
export { type DevIssuerFastifyOptions, devIssuerFastify } from './fastify-dev-issuer.js'
/** The resource server's Fastify glue: access tokens for API routes, and RFC 9728 metadata. */
export {
  protectedResourceMetadata,
  type ResourceAdapterOptions,
  requireAccessToken,
} from './fastify-resource.js'
/** The bridge's view of a Node request, for your own routes (e.g. `bridge.csrfTokenFor(toBridgeRequest(req, req.url))`). */
export { toBridgeRequest } from './node-request.js'
