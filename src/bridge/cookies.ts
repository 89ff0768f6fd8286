/**
 * Cookie names, Set-Cookie values and Cookie header parsing for the session and CSRF cookies.
 *
 * Over HTTPS the session cookie is `__Host-<name>`: the browser accepts it only with `Secure`,
 * `Path=/` and no `Domain`, so neither a sibling subdomain nor a plain-http response (a network
 * attacker) can plant or overwrite it (RFC 6265bis §4.1.3.2, "cookie tossing"). With a configured
 * `domain` the prefix is `__Secure-` (which allows `Domain`). Plain http is only ever used on loopback
 * hosts for development, where no prefix can be used.
 */

/** RFC 6265 §4.1.1 cookie-name: an HTTP token. */
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/

export const DEFAULT_COOKIE_NAME = 'jwks-bridge-session'

export interface CookieConfig {
  /** Base name, without prefix. */
  name: string
  domain: string | undefined
}

/** Validates the `cookie` option; returns a message for ERR_INVALID_OPTIONS, or undefined when fine. */
export function cookieOptionProblem(name: unknown, domain: unknown): string | undefined {
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) return 'cookie.name must be a cookie-name token'
  if (/^__(host|secure)-/i.test(name)) return 'cookie.name must not carry a prefix: the bridge adds __Host-'
  if (domain !== undefined && (typeof domain !== 'string' || !DOMAIN.test(domain))) {
    return 'cookie.domain must be a host name'
  }
  return undefined
}

/** The session cookie's full name for a request that is (or is not) secure. */
export function sessionCookieName(config: CookieConfig, secure: boolean): string {
  if (!secure) return config.name
  return config.domain === undefined ? `__Host-${config.name}` : `__Secure-${config.name}`
}

/** The CSRF pre-session cookie is always host-only, whatever the session cookie's domain. */
export function csrfCookieName(config: CookieConfig, secure: boolean): string {
  return secure ? `__Host-${config.name}-csrf` : `${config.name}-csrf`
}

export interface SetCookieInput {
  name: string
  value: string
  secure: boolean
  /** Only for the session cookie over https with a configured domain. */
  domain?: string | undefined
  /** Seconds; 0 clears the cookie; undefined makes a browser-session cookie. */
  maxAgeSeconds?: number | undefined
}

/**
 * A Set-Cookie value: `HttpOnly` (page scripts never need it, XSS cannot read it), `SameSite=Lax`
 * (not sent on cross-site subrequests), `Path=/`, and `Secure` whenever the request is.
 */
export function serializeCookie(input: SetCookieInput): string {
  let cookie = `${input.name}=${input.value}; Path=/`
  if (input.secure && input.domain !== undefined) cookie += `; Domain=${input.domain}`
  if (input.maxAgeSeconds !== undefined) cookie += `; Max-Age=${Math.max(0, Math.floor(input.maxAgeSeconds))}`
  cookie += '; HttpOnly'
  if (input.secure) cookie += '; Secure'
  return `${cookie}; SameSite=Lax`
}

/**
 * The value of the first cookie called `name` in a Cookie header. Values are not percent-decoded:
 * ours are base64url, so anything needing decoding is not ours.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    if (part.slice(0, eq).trim() === name) {
      let value = part.slice(eq + 1).trim()
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      return value
    }
  }
  return undefined
}
