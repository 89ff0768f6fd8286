/// <reference types="node" preserve="true" />
// Public signatures use Node's types (Buffer, KeyObject, http requests): the declarations reference
// them, so a TypeScript project without @types/node is first told which package it lacks.
/**
 * Express middleware: answers the bridge routes (reading their raw body itself, with the size limit)
 * and gives every other request `req.identity` (and `req.bridgeSession`), or null. Mount it before
 * body parsers such as `express.json()`, or at least before any that would read the bridge routes.
 *
 * @example
 * import { bridgeMiddleware } from 'jwks-bridge/express'
 * app.use(bridgeMiddleware(bridge))
 * app.get('/me', (req, res) => (req.identity ? res.json(req.identity) : res.sendStatus(401)))
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { Bridge } from '../bridge/bridge.js'
import { baseHeaders, errorResponse } from '../bridge/http-status.js'
import type { BridgeResponse, BridgeSession } from '../bridge/types.js'
import { functionOption, optionNames, readOptions } from '../lib/options.js'
import type { Identity } from '../stores/types.js'
import { readNodeBody } from './node-body.js'
import { toBridgeRequest } from './node-request.js'
import { answerRoute, authenticateOrRespond, type ExtraBridgeRoute, isExtraRoute } from './shared.js'

declare global {
  namespace Express {
    interface Request {
      /** The signed-in identity, or null (set by jwks-bridge). */
      identity?: Identity | null
      /** The session of that identity, or null (set by jwks-bridge). */
      bridgeSession?: BridgeSession | null
    }
  }
}

function send(res: Response, response: BridgeResponse): void {
  res.status(response.status).set(response.headers)
  if (response.cookies.length > 0) res.append('Set-Cookie', response.cookies)
  if (response.body === undefined) res.end()
  else res.json(response.body)
}

export type { ExtraBridgeRoute } from './shared.js'

export interface BridgeMiddlewareOptions {
  /** The test sign-in route (`enableTestSignIn` returns undefined outside NODE_ENV=test: pass it as is). */
  testSignIn?: ExtraBridgeRoute | undefined
  /**
   * The request's id, for the bridge's log records (`requestId`): Express has none of its own, so
   * say where yours is, e.g. `(req) => req.get('x-request-id')` or pino-http's `(req) => String(req.id)`.
   */
  requestId?: ((req: Request) => string | undefined) | undefined
}

const WHERE = 'bridgeMiddleware'
const MIDDLEWARE_KEYS = optionNames<BridgeMiddlewareOptions>()(['testSignIn', 'requestId'])

export const MOUNT_ORDER_MESSAGE =
  'express.json() (or another body parser) ran before bridgeMiddleware: mount bridgeMiddleware first, ' +
  'app.use(bridgeMiddleware(bridge)) before app.use(express.json())'

/** The `code` of the process warning for a body parser mounted before the bridge. */
export const MOUNT_ORDER_WARNING = 'JWKS_BRIDGE_MIDDLEWARE_ORDER'

/** Whether something read the request's body before us (body-parser marks what it parsed `_body`). */
function bodyAlreadyRead(req: Request): boolean {
  return req.readableEnded || (req as Request & { _body?: unknown })._body === true
}

export function bridgeMiddleware(bridge: Bridge, options: BridgeMiddlewareOptions = {}): RequestHandler {
  // Unknown names are refused: a misspelt `testSignin` would leave the route silently unmounted.
  readOptions(WHERE, options, MIDDLEWARE_KEYS, { optional: true })
  const extra = options.testSignIn
  const idOf = functionOption<NonNullable<BridgeMiddlewareOptions['requestId']>>(
    WHERE,
    'requestId',
    options.requestId,
  )
  let mountOrderWarned = false
  /**
   * The app's mistake, said where the developer looks: in the response (the message is a fixed text,
   * no request data) and once on stderr. The bridge cannot read a body that is gone, and the parsed
   * `req.body` is not used instead: it was read under another parser's size and type rules.
   */
  function refuseMountOrder(res: Response): void {
    if (!mountOrderWarned) {
      mountOrderWarned = true
      process.emitWarning(MOUNT_ORDER_MESSAGE, { code: MOUNT_ORDER_WARNING })
    }
    res
      .status(500)
      .set(baseHeaders())
      .json({ error: { code: 'ERR_MIDDLEWARE_ORDER', message: MOUNT_ORDER_MESSAGE } })
  }
  async function run(req: Request, res: Response, next: NextFunction): Promise<void> {
    const target = req.originalUrl
    const isExtra = isExtraRoute(extra, req.method, target)
    if (isExtra || bridge.isRoute(req.method, target)) {
      if (bodyAlreadyRead(req)) return refuseMountOrder(res)
      let body: Uint8Array
      try {
        body = await readNodeBody(req, bridge.maxBodyBytes)
      } catch (error) {
        const response = errorResponse(error)
        if (response === undefined) throw error
        // The rest of the body is not read: close the connection rather than drain it.
        res.set('Connection', 'close')
        return send(res, response)
      }
      const request = toBridgeRequest(req, target, body)
      if (idOf !== undefined) request.requestId = idOf(req)
      const response = await answerRoute(bridge, extra, isExtra, request)
      if (response === undefined) return next()
      return send(res, response)
    }
    const { auth, response } = await authenticateOrRespond(bridge, toBridgeRequest(req, target))
    if (response !== undefined) return send(res, response)
    req.identity = auth?.identity ?? null
    req.bridgeSession = auth?.session ?? null
    next()
  }
  return (req, res, next) => {
    run(req, res, next).catch(next)
  }
}

/** The development identity provider, mounted in the app (see express-dev-issuer.ts). */
export { devIssuerMiddleware } from './express-dev-issuer.js'
/** The resource server's Express glue: access tokens for API routes, and RFC 9728 metadata. */
export {
  protectedResourceMetadata,
  type ResourceAdapterOptions,
  requireAccessToken,
} from './express-resource.js'
/** The bridge's view of a Node request, for your own routes (e.g. `bridge.csrfTokenFor(toBridgeRequest(req, req.url))`). */
export { toBridgeRequest } from './node-request.js'
