/**
 * CSRF token bound to a pre-session cookie (OWASP CSRF Prevention Cheat Sheet, "Login CSRF": a
 * pre-session token, destroyed at sign-in).
 *
 * The page is rendered with `<meta name="csrf-token" content="...">` from `csrfTokenFor(req)`, which
 * also sets the `__Host-` cookie holding the same random value; the browser script sends it back as
 * `X-CSRF-Token`. The bridge keeps no state for it: the check is that header and cookie hold the same
 * 256-bit value. An attacker on another site can neither read the page nor the cookie, cannot send a
 * custom header cross-site without a CORS preflight, and cannot plant the cookie: `__Host-` cookies
 * can only be set by this host over https (RFC 6265bis §4.1.3.2), which is what makes this
 * double-submit safe against cookie tossing from a sibling subdomain.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { JwksBridgeError } from '../errors.js'
import { type CookieConfig, csrfCookieName, readCookie, serializeCookie } from './cookies.js'
import type { BridgeRequest } from './types.js'

const CSRF_TOKEN = /^[A-Za-z0-9_-]{43}$/

export interface CsrfToken {
  /** Goes into `<meta name="csrf-token">`. */
  token: string
  /** Set-Cookie values to send with the page (empty when the browser already holds the cookie). */
  cookies: string[]
}

/** The token for this browser: the one its pre-session cookie holds, or a new one with its cookie. */
export function issueCsrfToken(req: BridgeRequest, secure: boolean, config: CookieConfig): CsrfToken {
  const name = csrfCookieName(config, secure)
  const existing = readCookie(req.headers.cookie, name)
  if (existing !== undefined && CSRF_TOKEN.test(existing)) return { token: existing, cookies: [] }
  const token = randomBytes(32).toString('base64url')
  return { token, cookies: [serializeCookie({ name, value: token, secure })] }
}

/** Throws ERR_CSRF_TOKEN_INVALID unless `X-CSRF-Token` equals the pre-session cookie. */
export function checkCsrfToken(req: BridgeRequest, secure: boolean, config: CookieConfig): void {
  const header = req.headers['x-csrf-token']?.trim()
  const cookie = readCookie(req.headers.cookie, csrfCookieName(config, secure))
  if (header === undefined || header === '') {
    throw new JwksBridgeError(
      'ERR_CSRF_TOKEN_INVALID',
      'the CSRF token is missing: the request has no X-CSRF-Token header; send the content of <meta name="csrf-token"> (from csrfTokenFor) as X-CSRF-Token',
      { reason: 'missing' },
    )
  }
  if (cookie === undefined || !CSRF_TOKEN.test(cookie)) {
    const name = csrfCookieName(config, secure)
    throw new JwksBridgeError(
      'ERR_CSRF_TOKEN_INVALID',
      `the CSRF cookie is missing: X-CSRF-Token was sent but the request carries no valid ${name} cookie; send the cookies set with the page (fetch credentials: 'same-origin', or a cookie jar for a script)`,
      { reason: 'missing-cookie' },
    )
  }
  // Same length is checked first (it is public: every token has 43 characters); then the bytes are
  // compared in constant time so that timing reveals nothing of the expected value.
  const a = Buffer.from(header)
  const b = Buffer.from(cookie)
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new JwksBridgeError('ERR_CSRF_TOKEN_INVALID', 'the CSRF token does not match', {
      reason: 'mismatch',
    })
  }
}

/** Ends the pre-session at sign-in: the next page gets a new token (OWASP: destroy the pre-session). */
export function clearCsrfCookie(secure: boolean, config: CookieConfig): string {
  return serializeCookie({ name: csrfCookieName(config, secure), value: '', secure, maxAgeSeconds: 0 })
}
