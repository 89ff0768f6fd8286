/**
 * Express glue for the resource server: `requireAccessToken` protects a route with an access token
 * (Bearer or DPoP), `protectedResourceMetadata` serves the RFC 9728 document.
 *
 * @example
 * import { protectedResourceMetadata, requireAccessToken } from 'jwks-bridge/express'
 * app.use(protectedResourceMetadata(api))
 * app.get('/api/things', requireAccessToken(api, { scopes: ['read:things'] }), (req, res) =>
 *   res.json({ for: req.accessToken?.payload.sub }))
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { JwksBridgeError } from '../errors.js'
import type { AccessTokenAuth, ResourceServer } from '../resource-server/resource-server.js'
import {
  METADATA_HEADERS,
  type ResourceAdapterOptions,
  refusalBody,
  resolveResourceAdapterOptions,
  resourceRequest,
} from './resource-request.js'

declare global {
  namespace Express {
    interface Request {
      /** The verified access token of this request (set by jwks-bridge's requireAccessToken). */
      accessToken?: AccessTokenAuth
    }
  }
}

export type { ResourceAdapterOptions } from './resource-request.js'

/**
 * Middleware that lets a request through only with a valid access token carrying `scopes`; sets
 * `req.accessToken` (`payload`, `scopes`, `scheme`, `jkt`). A refused request is answered here, with
 * the status and `WWW-Authenticate` challenge of `api.challenge` and `{ error: { code, message } }`.
 */
export function requireAccessToken(
  api: ResourceServer,
  options: ResourceAdapterOptions = {},
): RequestHandler {
  const { origin, authOptions } = resolveResourceAdapterOptions(
    api,
    options,
    'jwks-bridge/express requireAccessToken',
  )
  return (req: Request, res: Response, next: NextFunction) => {
    api.authenticate(resourceRequest(req, origin, req.originalUrl, req.body), authOptions).then(
      (auth) => {
        req.accessToken = auth
        // RFC 9449 §8.2: a fresher nonce for the client's next proof.
        if (auth.dpopNonce !== undefined) res.set('DPoP-Nonce', auth.dpopNonce)
        next()
      },
      (error: unknown) => {
        if (!(error instanceof JwksBridgeError)) return next(error)
        const { status, headers } = api.challenge(error)
        res.status(status).set(headers).json(refusalBody(error, status))
      },
    )
  }
}

/** Serves `api.metadata()` at `api.metadataPath` (RFC 9728 §3); other requests go on. */
export function protectedResourceMetadata(api: ResourceServer): RequestHandler {
  const path = api.metadataPath
  return (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path !== path) return next()
    res.set(METADATA_HEADERS).json(api.metadata())
  }
}
