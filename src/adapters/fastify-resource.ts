/**
 * Fastify glue for the resource server: `requireAccessToken` is a route hook, `protectedResourceMetadata`
 * a plugin that serves the RFC 9728 document.
 *
 * @example
 * import { protectedResourceMetadata, requireAccessToken } from 'jwks-bridge/fastify'
 * await app.register(protectedResourceMetadata, { api })
 * app.get('/api/things', { preHandler: requireAccessToken(api, { scopes: ['read:things'] }) },
 *   async (request) => ({ for: request.accessToken?.payload.sub }))
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { JwksBridgeError } from '../errors.js'
import type { AccessTokenAuth, ResourceServer } from '../resource-server/resource-server.js'
import {
  METADATA_HEADERS,
  type ResourceAdapterOptions,
  refusalBody,
  resolveResourceAdapterOptions,
  resourceRequest,
} from './resource-request.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token of this request (set by jwks-bridge's requireAccessToken). */
    accessToken?: AccessTokenAuth
  }
}

export type { ResourceAdapterOptions } from './resource-request.js'

/**
 * A hook that lets a request through only with a valid access token carrying `scopes`; sets
 * `request.accessToken`. As `onRequest` it refuses before any body is read; as `preHandler` it also
 * sees the parsed body and refuses a token sent there (RFC 6750 §2).
 */
export function requireAccessToken(
  api: ResourceServer,
  options: ResourceAdapterOptions = {},
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { origin, authOptions } = resolveResourceAdapterOptions(
    api,
    options,
    'jwks-bridge/fastify requireAccessToken',
  )
  return async (request, reply) => {
    try {
      const auth = await api.authenticate(
        resourceRequest(request.raw, origin, request.url, request.body),
        authOptions,
      )
      request.accessToken = auth
      // RFC 9449 §8.2: a fresher nonce for the client's next proof.
      if (auth.dpopNonce !== undefined) reply.header('dpop-nonce', auth.dpopNonce)
    } catch (error) {
      if (!(error instanceof JwksBridgeError)) throw error
      const { status, headers } = api.challenge(error)
      return reply.code(status).headers(headers).send(refusalBody(error, status))
    }
  }
}

/** Plugin: serves `api.metadata()` at `api.metadataPath` (RFC 9728 §3). */
export async function protectedResourceMetadata(
  fastify: FastifyInstance,
  options: { api: ResourceServer },
): Promise<void> {
  const { api } = options
  fastify.get(api.metadataPath, async (_request, reply) =>
    reply.headers(METADATA_HEADERS).send(api.metadata()),
  )
}

// Registered in the caller's context (as fastify-plugin does), so the route's path is the app's own.
Object.assign(protectedResourceMetadata, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'jwks-bridge-resource-metadata',
})
