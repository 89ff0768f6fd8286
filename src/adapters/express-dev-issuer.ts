/**
 * Express mount of the development identity provider: answers every request under the issuer URL's
 * path (sign-in page, discovery, key set, token, sign-out) from `createDevIssuer(...).handle`, so the
 * browser script's `devIssuerSource('/dev-issuer')` reaches it on the page's own origin (the script
 * refuses token URLs of other origins). Mount it before body parsers, or with them: a form body they
 * already parsed is read as well.
 *
 * @example
 * import { createDevIssuer } from 'jwks-bridge/dev-issuer'
 * import { devIssuerMiddleware } from 'jwks-bridge/express'
 * const devIssuer = createDevIssuer({ issuer: 'http://127.0.0.1:3000/dev-issuer' })
 * app.use(devIssuerMiddleware(devIssuer))
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { DevIssuer } from '../dev-issuer/dev-issuer.js'
import { type DevIssuerRequest, type DevIssuerResponse, MAX_BODY_BYTES } from '../dev-issuer/http.js'
import { isJwksBridgeError } from '../errors.js'
import { checkMountedDevIssuer } from './dev-issuer-mount.js'
import { readNodeBody } from './node-body.js'

const WHERE = 'devIssuerMiddleware'

/** The raw body, at most MAX_BODY_BYTES (undefined past it: the caller answers 413). */
function readRaw(req: Request): Promise<Uint8Array | undefined> {
  return readNodeBody(req, MAX_BODY_BYTES).catch((error: unknown) => {
    if (isJwksBridgeError(error) && error.code === 'ERR_BODY_TOO_LARGE') return undefined
    throw error
  })
}

function send(res: Response, answer: DevIssuerResponse): void {
  res.status(answer.status).set(answer.headers).end(answer.body)
}

export function devIssuerMiddleware(devIssuer: DevIssuer): RequestHandler {
  const provider = checkMountedDevIssuer(WHERE, devIssuer)
  async function run(req: Request, res: Response, next: NextFunction): Promise<void> {
    const target = req.originalUrl
    if (!provider.matches(target.split('?', 1)[0] as string)) return next()
    let body: DevIssuerRequest['body']
    if (req.readableEnded) {
      // A body parser was first: its result (a parsed form) is what there is.
      const parsed: unknown = req.body
      body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
    } else {
      body = await readRaw(req)
      if (body === undefined) {
        // The rest of the body is not read: close the connection rather than drain it.
        res.status(413).set({ 'content-type': 'application/json', connection: 'close' })
        res.end('{"error":"the request body is too large"}')
        return
      }
    }
    send(res, await provider.handle({ method: req.method, path: target, headers: req.headers, body }))
  }
  return (req, res, next) => {
    run(req, res, next).catch(next)
  }
}
