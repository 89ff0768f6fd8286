/**
 * The development identity provider in a Web-standard (`Request` → `Response`) app: Next.js route
 * handlers, Hono, Bun, Deno. Requests under the issuer URL's path are answered; every other request
 * resolves null, for the app to answer. Mounted in the app itself, so the browser script's
 * `devIssuerSource` talks to its own origin (it refuses any other).
 *
 * @example
 * import { devIssuerHandler } from 'jwks-bridge/fetch'
 * const devIssuer = createDevIssuer({ issuer: 'http://127.0.0.1:3000/dev-issuer' })
 * const provider = devIssuerHandler(devIssuer)
 * // in the app's fetch handler: const answered = await provider(request); if (answered) return answered
 */
import type { DevIssuer } from '../dev-issuer/dev-issuer.js'
import { type DevIssuerRequest, MAX_BODY_BYTES } from '../dev-issuer/http.js'
import { isJwksBridgeError } from '../errors.js'
import { checkMountedDevIssuer } from './dev-issuer-mount.js'
import { readLimitedBody } from './fetch-request.js'

export function devIssuerHandler(devIssuer: DevIssuer): (request: Request) => Promise<Response | null> {
  const provider = checkMountedDevIssuer('devIssuerHandler', devIssuer)
  return async (request) => {
    const url = new URL(request.url)
    if (!provider.matches(url.pathname)) return null
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    let body: DevIssuerRequest['body']
    try {
      body = await readLimitedBody(request, MAX_BODY_BYTES)
    } catch (error) {
      if (!isJwksBridgeError(error) || error.code !== 'ERR_BODY_TOO_LARGE') throw error
      return Response.json({ error: 'the request body is too large' }, { status: 413 })
    }
    const answer = await provider.handle({
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers,
      body,
    })
    // 204 and 304 carry no body (the Response constructor refuses one).
    const empty = answer.status === 204 || answer.status === 304 || request.method === 'HEAD'
    return new Response(empty ? null : answer.body, { status: answer.status, headers: answer.headers })
  }
}
