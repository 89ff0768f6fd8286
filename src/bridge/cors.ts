/**
 * CORS for the authentication URL, for a page on another origin of the same site (a SPA on
 * `app.example.com` with its API on `api.example.com`, a Vite dev server on another port) that the app
 * listed in `allowedOrigins`. Plain data in and out: the preflight answer for `OPTIONS`, and the
 * headers an actual response carries.
 *
 * Decisions (Fetch Standard, "CORS protocol"):
 * - Only an origin in `allowedOrigins` is answered, and by name: `Access-Control-Allow-Origin` is that
 *   exact origin, never `*` (a wildcard cannot carry credentials, and would let any page try).
 * - `Access-Control-Allow-Credentials: true`: the handoff's whole point is the session cookie.
 * - A preflight from an origin not listed is refused (403 ERR_CROSS_SITE_REQUEST naming the origin and
 *   the option), so that the developer reads why, rather than a bare CORS failure in the console.
 * - A preflight that the browser marks `Sec-Fetch-Site: cross-site` (another registrable domain) is
 *   refused even from a listed origin: the session cookie is `SameSite=Lax`, which a browser neither
 *   stores from nor sends on a cross-site fetch, so the sign-in could only "succeed" without a session.
 * - `Vary: Origin` on every answer: it depends on the Origin header, and a shared cache must not hand
 *   one origin's answer to another.
 */
import { JwksBridgeError } from '../errors.js'
import { baseHeaders, errorResponse } from './http-status.js'
import { normalizeOrigin, ownOrigin } from './request-guard.js'
import type { BridgeRequest, BridgeResponse } from './types.js'

/** The methods of the authentication URL: sign in (PUT, POST) and sign out (DELETE). */
export const AUTH_METHODS = 'PUT, POST, DELETE'
/** The request headers the browser script sends beyond the CORS-safelisted ones. */
export const AUTH_REQUEST_HEADERS = 'Content-Type, X-CSRF-Token'
/** How long a browser may reuse a preflight answer (Chromium caps it at 7200 seconds). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600

/**
 * The request's Origin when it is one of `allowedOrigins` and not the request's own: the origin a CORS
 * answer names. Undefined for a same-origin request, a request without Origin, and any other origin.
 */
export function corsOrigin(
  req: BridgeRequest,
  secure: boolean,
  allowedOrigins: ReadonlySet<string>,
): string | undefined {
  const header = req.headers.origin?.trim()
  if (header === undefined || allowedOrigins.size === 0) return undefined
  const origin = normalizeOrigin(header)
  if (origin === undefined || !allowedOrigins.has(origin) || origin === ownOrigin(req, secure)) {
    return undefined
  }
  return origin
}

/** The headers that let the page of `origin` read an actual response (and keep its cookie). */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    // Error bodies are JSON, read by the script for their code; nothing else needs exposing.
  }
}

function refuse(message: string, reason: string): BridgeResponse {
  const response = errorResponse(new JwksBridgeError('ERR_CROSS_SITE_REQUEST', message, { reason }), {
    vary: 'Origin, Sec-Fetch-Site',
  })
  // errorResponse gives a response for every JwksBridgeError.
  return response as BridgeResponse
}

/**
 * The answer to `OPTIONS` on the authentication URL (see the decisions above). Without an Origin, or
 * with the request's own, it is not a CORS preflight: 204 with `Allow` (RFC 9110 §9.3.7).
 */
export function preflight(
  req: BridgeRequest,
  secure: boolean,
  allowedOrigins: ReadonlySet<string>,
): BridgeResponse {
  const header = req.headers.origin?.trim()
  const own = ownOrigin(req, secure)
  if (header === undefined || normalizeOrigin(header) === own) {
    return {
      status: 204,
      headers: { ...baseHeaders(), allow: `OPTIONS, ${AUTH_METHODS}`, vary: 'Origin' },
      cookies: [],
    }
  }
  const origin = normalizeOrigin(header)
  if (origin === undefined)
    return refuse('the Origin header is not an origin', 'Origin is not a usable origin')
  if (!allowedOrigins.has(origin)) {
    return refuse(
      `the origin ${origin} is not in allowedOrigins: list it there to let its pages sign in`,
      'Origin is not allowed',
    )
  }
  if (req.headers['sec-fetch-site']?.trim().toLowerCase() === 'cross-site') {
    return refuse(
      `the origin ${origin} is on another site: the SameSite=Lax session cookie would not be kept; serve the page and the bridge on one site (e.g. app.example.com and api.example.com)`,
      'Sec-Fetch-Site is cross-site',
    )
  }
  return {
    status: 204,
    headers: {
      ...baseHeaders(),
      ...corsHeaders(origin),
      'access-control-allow-methods': AUTH_METHODS,
      'access-control-allow-headers': AUTH_REQUEST_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      vary: 'Origin, Sec-Fetch-Site',
    },
    cookies: [],
  }
}
