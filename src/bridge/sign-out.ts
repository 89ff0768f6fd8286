/**
 * Sign-out (DELETE on the authentication URL): ends the session and clears the cookie. Guarded like
 * the handoff, so that another site cannot sign a user out (logout CSRF is a nuisance, and a step in
 * some login-CSRF chains).
 */
import { readCookie, serializeCookie, sessionCookieName } from './cookies.js'
import { guardRequest } from './guard.js'
import { baseHeaders } from './http-status.js'
import type { BridgeConfig } from './options.js'
import { findSession } from './sessions.js'
import type { BridgeRequest, BridgeResponse } from './types.js'

export async function signOut(config: BridgeConfig, req: BridgeRequest): Promise<BridgeResponse> {
  const secure = guardRequest(config, req)
  const name = sessionCookieName(config.cookie, secure)
  // Only a genuine token (id and secret) ends its session: a cookie with someone's id alone does nothing.
  const session = await findSession(
    config.sessions,
    readCookie(req.headers.cookie, name),
    Math.floor(config.nowMs()),
    config.session,
    config.emit,
    req.requestId,
  )
  if (session !== undefined) {
    await config.sessions.delete(session.id)
    config.emit?.({ type: 'sign-out', identityId: session.identityId, requestId: req.requestId })
  }
  // The cookie is cleared in every case, with the attributes it was set with (or the browser keeps it).
  const cleared = serializeCookie({ name, value: '', secure, domain: config.cookie.domain, maxAgeSeconds: 0 })
  return { status: 204, headers: { ...baseHeaders(), vary: 'Origin, Sec-Fetch-Site' }, cookies: [cleared] }
}
