/**
 * The checks every state-changing browser route runs first (handoff and sign-out), before the body
 * is read: transport, same origin, then the CSRF token when enabled. Returns whether the request
 * counts as secure (it picks the cookie names).
 */
import { corsOrigin } from './cors.js'
import { checkCsrfToken } from './csrf.js'
import type { BridgeConfig } from './options.js'
import { checkSameOrigin, checkTransport, isSecureRequest } from './request-guard.js'
import type { BridgeRequest } from './types.js'

export function guardRequest(config: BridgeConfig, req: BridgeRequest): boolean {
  const secure = isSecureRequest(req, config.trustProxy)
  checkTransport(req, secure, config.trustProxy)
  checkSameOrigin(req, secure, config.allowedOrigins)
  // The CSRF token stands in for Origin with browsers that send neither it nor Sec-Fetch-Site. A request
  // whose Origin is one of allowedOrigins, not ours, already proved its page (a page cannot forge
  // Origin), and that page, on another host, cannot hold our host-only pre-session cookie anyway.
  if (config.csrf && corsOrigin(req, secure, config.allowedOrigins) === undefined) {
    checkCsrfToken(req, secure, config.cookie)
  }
  return secure
}
