/**
 * The headers the reverse proxy sends upstream, as a pure function of the client's headers and the
 * session: plain data in and out, so that every rule here is tested without a server.
 */

/** Headers the bridge adds for pages it does not render (docs/forward-auth.md, "Meta tags"). */
export const META_HEADERS = {
  authenticationUrl: 'x-auth-authentication-url',
  hasSession: 'x-auth-has-session',
  csrfToken: 'x-auth-csrf-token',
} as const

const FORWARDED = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
]

export interface UpstreamHeaderInput {
  /** The client's headers (lower-case names), as the proxy library hands them over. */
  headers: Record<string, string | string[] | number | undefined>
  /** Every identity header name (lower case), from `bridge.identityHeaderNames`. */
  identityHeaderNames: readonly string[]
  /** The identity headers for this request's session; undefined without a session. */
  identity: Record<string, string> | undefined
  /** The meta-tag values for a page load; undefined for other requests. */
  meta: { authenticationUrl: string; hasSession: boolean; csrfToken: string } | undefined
  /** The client's address as the socket sees it. */
  remoteAddress: string | undefined
  /** The Host the client asked for. */
  host: string | undefined
  /** The connection to us is TLS. */
  secure: boolean
  /** TRUST_PROXY: a proxy in front of us sets X-Forwarded-*, which are then kept and appended to. */
  trustProxy: boolean
}

/**
 * The upstream's request headers. Any identity or meta header the client sent is removed first
 * (spoofing: a client writing `X-Auth-Subject: admin` must not be taken for admin), whatever its case,
 * then the session's are set. X-Forwarded-* from the client are dropped unless a trusted proxy is in
 * front (anyone could write them), and set from the connection.
 */
export function upstreamHeaders(
  input: UpstreamHeaderInput,
): Record<string, string | string[] | number | undefined> {
  const out: Record<string, string | string[] | number | undefined> = {}
  const drop = new Set<string>([...input.identityHeaderNames, ...Object.values(META_HEADERS)])
  if (!input.trustProxy) for (const name of FORWARDED) drop.add(name)
  for (const [name, value] of Object.entries(input.headers)) {
    // Node lower-cases incoming names; lower-casing again costs little and holds for other callers.
    if (!drop.has(name.toLowerCase())) out[name] = value
  }
  if (input.identity !== undefined) Object.assign(out, input.identity)
  if (input.meta !== undefined) {
    out[META_HEADERS.authenticationUrl] = input.meta.authenticationUrl
    out[META_HEADERS.hasSession] = input.meta.hasSession ? 'true' : 'false'
    out[META_HEADERS.csrfToken] = input.meta.csrfToken
  }
  const earlier = input.trustProxy ? out['x-forwarded-for'] : undefined
  const address = input.remoteAddress ?? 'unknown'
  out['x-forwarded-for'] = earlier === undefined ? address : `${String(earlier)}, ${address}`
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = input.secure ? 'https' : 'http'
  if (out['x-forwarded-host'] === undefined && input.host !== undefined) out['x-forwarded-host'] = input.host
  return out
}
