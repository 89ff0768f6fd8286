/**
 * The request guard for state-changing bridge routes (handoff and sign-out): is the connection secure
 * enough to carry a session cookie, and did the request come from our own pages?
 *
 * Why a guard at all: login CSRF. A cross-site form can POST the attacker's own valid token from the
 * victim's browser, signing the victim into the attacker's account; `SameSite` cookies do not help,
 * since no victim cookie is needed (identity-providers.md §4.1; OWASP CSRF Prevention Cheat Sheet,
 * "Login CSRF").
 *
 * Decisions:
 * - `Sec-Fetch-Site` (Fetch Metadata): `same-origin` and `none` (typed by the user) pass; `same-site`,
 *   `cross-site` and any unknown value are refused, unless `Origin` names an origin the app listed in
 *   `allowedOrigins` (otherwise that option could never apply to a modern browser).
 * - `Origin`, when present, must be the request's own origin (scheme from the transport, host from
 *   `Host`) or one of `allowedOrigins`; `Origin: null` (sandboxed frames, some redirects) is refused.
 * - Neither header: every current browser sends `Origin` on PUT/POST/DELETE, so such a request comes
 *   from a non-browser client, which cannot be used for CSRF. It passes the guard; when `csrf` is on, the
 *   CSRF token is still required (csrf.ts), for every request.
 */
import { JwksBridgeError } from '../errors.js'
import type { BridgeRequest } from './types.js'

// A Host header: a DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port. Anything
// else (paths, userinfo, spaces) is not a host.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** TLS as seen by the adapter, or a trusted proxy's `X-Forwarded-Proto: https`. */
export function isSecureRequest(req: BridgeRequest, trustProxy: boolean): boolean {
  if (req.secure) return true
  if (!trustProxy) return false
  // The last value: the one our own proxy added. Proxies append to a list the client may have started
  // itself, so the first value can be whatever the client wrote (`X-Forwarded-Proto: https, http`
  // came over plain http to our proxy).
  const proto = req.headers['x-forwarded-proto']?.split(',').at(-1)?.trim().toLowerCase()
  return proto === 'https'
}

function hostUrl(req: BridgeRequest, secure: boolean): URL | undefined {
  const host = req.headers.host?.trim()
  if (host === undefined || !HOST.test(host)) return undefined
  try {
    return new URL(`${secure ? 'https' : 'http'}://${host}`)
  } catch {
    return undefined
  }
}

/** The request's own origin (`https://app.example.com`), or undefined without a usable Host header. */
export function ownOrigin(req: BridgeRequest, secure: boolean): string | undefined {
  return hostUrl(req, secure)?.origin
}

/**
 * Refuses to set (or clear) a session cookie over plain http: a cookie sent in clear text can be read
 * and replayed by anyone on the path. The one exception, for development, is a connection from this
 * machine, as the adapter saw the socket (`req.loopback`); never the `Host` header, which the client
 * writes (`Host: localhost` from across the network proved nothing). A request that came through a
 * trusted proxy (it carries the proxy's `X-Forwarded-Proto`) has the proxy as the socket's peer, not
 * the browser: the proxy's value alone tells how the browser connected, so no exception there.
 */
export function checkTransport(req: BridgeRequest, secure: boolean, trustProxy: boolean): void {
  if (secure) return
  const proxied = trustProxy && req.headers['x-forwarded-proto'] !== undefined
  if (req.loopback === true && !proxied) return
  throw new JwksBridgeError(
    'ERR_INSECURE_TRANSPORT',
    'sessions need https (plain http is allowed only for connections from this machine); behind a TLS proxy, set trustProxy',
  )
}

/** Normalizes an origin string; undefined when it is not a plain scheme://host[:port]. */
export function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
    // No path, query, fragment or userinfo: an origin is scheme, host and port only.
    if (url.href !== `${url.origin}/`) return undefined
    return url.origin
  } catch {
    return undefined
  }
}

function crossSite(reason: string, message: string): JwksBridgeError {
  return new JwksBridgeError(
    'ERR_CROSS_SITE_REQUEST',
    `the request did not come from this site: ${message}`,
    {
      reason,
    },
  )
}

// What the refusal names: the origins involved are public (the browser sends them in the clear), and
// naming them is what lets a developer see a dev proxy's rewritten Host or a missing allowedOrigins entry.
function expected(own: string | undefined, allowedOrigins: ReadonlySet<string>): string {
  const ownText = own === undefined ? 'none: no usable Host header' : own
  const listed = allowedOrigins.size === 0 ? 'empty' : [...allowedOrigins].join(', ')
  return `this site's origin is ${ownText} (scheme from the connection, host from Host), allowedOrigins is ${listed}`
}

const FIX =
  "if that page is yours, add its origin to allowedOrigins; behind a proxy that rewrites Host (a dev server proxy), make it keep the browser's Host header"

/** Throws ERR_CROSS_SITE_REQUEST when the request shows another site (see the decisions above). */
export function checkSameOrigin(
  req: BridgeRequest,
  secure: boolean,
  allowedOrigins: ReadonlySet<string>,
): void {
  const site = req.headers['sec-fetch-site']?.trim().toLowerCase()
  const originHeader = req.headers.origin?.trim()
  let origin: string | undefined
  let originAllowed = false
  if (originHeader !== undefined) {
    origin = normalizeOrigin(originHeader)
    const own = ownOrigin(req, secure)
    if (origin === undefined) {
      // Quoted, bounded: the header is the browser's, but a client may write anything there.
      const seen = JSON.stringify(originHeader.slice(0, 100))
      throw crossSite(
        'Origin is not a usable origin',
        `Origin ${seen} is not a scheme://host[:port] origin (Origin: null comes from sandboxed frames and some redirects); ${expected(own, allowedOrigins)}`,
      )
    }
    originAllowed = allowedOrigins.has(origin)
    if (origin !== own && !originAllowed) {
      throw crossSite(
        'Origin is another origin',
        `the page's Origin is ${origin}; ${expected(own, allowedOrigins)}; ${FIX}`,
      )
    }
  }
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !originAllowed) {
    throw crossSite(
      'Sec-Fetch-Site is not same-origin',
      `Sec-Fetch-Site is ${JSON.stringify(site.slice(0, 40))} and the Origin (${origin ?? 'none sent'}) is not in allowedOrigins; ${expected(ownOrigin(req, secure), allowedOrigins)}; ${FIX}`,
    )
  }
}
