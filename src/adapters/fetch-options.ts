/**
 * The Web-standard adapters' options (jwks-bridge/fetch and jwks-bridge/hono): checked once, when
 * given, with unknown keys refused (a misspelt option must not silently do nothing).
 */
import { invalidOptions } from '../errors.js'
import { isLoopbackAddress } from '../lib/loopback.js'
import type { ExtraBridgeRoute } from './shared.js'

export interface FetchAdapterOptions {
  /** The test sign-in route (`enableTestSignIn` returns undefined outside NODE_ENV=test: pass it as is). */
  testSignIn?: ExtraBridgeRoute | undefined
  /**
   * The request's id, for the bridge's log records (`requestId`), e.g.
   * `(request) => request.headers.get('x-request-id') ?? undefined`.
   */
  requestId?: ((request: Request) => string | undefined) | undefined
  /**
   * The app's URL as browsers see it (PUBLIC_URL), e.g. `https://app.example.com`. Without it the
   * transport is the request URL's scheme (what the runtime saw: Bun, Deno and @hono/node-server take
   * it from the connection's TLS) and the origin comes from the `Host` header. With it, every request
   * counts as having reached the app through that URL: its scheme decides the transport and its host
   * is the app's own origin. Set it when TLS ends in front of the runtime and no proxy header says so
   * (or use the bridge's `trustProxy` with `X-Forwarded-Proto`); then the app must be reachable only
   * through that URL.
   */
  publicUrl?: string | undefined
  /**
   * The connection's peer address, as the runtime gives it (Bun: `server.requestIP(request)?.address`,
   * Deno: `info.remoteAddr.hostname`, @hono/node-server: `env.incoming.socket.remoteAddress`): pass it
   * per request (a new options object each time). Plain http sets a session cookie only when this is
   * a loopback address; never a value taken from a request header.
   */
  remoteAddress?: string | undefined
  /**
   * A development switch for runtimes that give no peer address (Next.js route handlers): every
   * request counts as coming from this machine, so plain http may carry the session cookie. Refused
   * with NODE_ENV=production. Set it only when the dev server listens on loopback alone.
   */
  developmentLoopback?: boolean | undefined
}

/** The options as the adapter uses them. */
export interface ResolvedFetchOptions {
  readonly testSignIn: ExtraBridgeRoute | undefined
  readonly requestId: ((request: Request) => string | undefined) | undefined
  /** From `publicUrl`: the transport and the host every request is taken to have. */
  readonly publicOrigin: { readonly secure: boolean; readonly host: string } | undefined
  /** From `developmentLoopback`: every request counts as from this machine. */
  readonly developmentLoopback: boolean
  /** From `remoteAddress` or `developmentLoopback`: the request came from this machine. */
  readonly loopback: boolean
}

const KNOWN = new Set(['testSignIn', 'requestId', 'publicUrl', 'remoteAddress', 'developmentLoopback'])

const NONE: ResolvedFetchOptions = Object.freeze({
  testSignIn: undefined,
  requestId: undefined,
  publicOrigin: undefined,
  developmentLoopback: false,
  loopback: false,
})

function checkRoute(route: unknown, where: string): ExtraBridgeRoute | undefined {
  if (route === undefined) return undefined
  const r = route as Partial<ExtraBridgeRoute> | null
  if (r === null || typeof r !== 'object' || typeof r.path !== 'string' || typeof r.handle !== 'function') {
    throw invalidOptions(`${where}: testSignIn must be the route enableTestSignIn returns (or undefined)`)
  }
  return r as ExtraBridgeRoute
}

function checkPublicUrl(value: unknown, where: string): ResolvedFetchOptions['publicOrigin'] {
  if (value === undefined) return undefined
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  // An origin only: a path would suggest the bridge's routes move with it, which they do not.
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== '/') {
    throw invalidOptions(`${where}: publicUrl must be an http(s) origin such as https://app.example.com`)
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalidOptions(`${where}: publicUrl must be an origin, without credentials, query or fragment`)
  }
  return Object.freeze({ secure: url.protocol === 'https:', host: url.host })
}

/** NODE_ENV where the runtime has a `process` (Node, Bun, Deno's compatibility layer), else undefined. */
function nodeEnv(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return proc?.env?.NODE_ENV
}

function checkDevelopmentLoopback(value: unknown, where: string): boolean {
  if (value === undefined || value === false) return false
  if (value !== true) throw invalidOptions(`${where}: developmentLoopback must be true or false`)
  // A development switch: in production a plain-http session cookie would travel in clear text.
  if (nodeEnv() === 'production') {
    throw invalidOptions(`${where}: developmentLoopback is refused with NODE_ENV=production; serve https`)
  }
  return true
}

/** The request's `loopback`: the dev switch, or the peer address the runtime gave (never a header). */
export function loopbackOf(developmentLoopback: boolean, remoteAddress: string | undefined): boolean {
  return developmentLoopback || isLoopbackAddress(remoteAddress)
}

/**
 * Checks the options; `extraKeys` are the ones a wrapping adapter (Hono) adds and checks itself.
 * Throws ERR_INVALID_OPTIONS.
 */
export function resolveFetchOptions(
  options: FetchAdapterOptions | undefined,
  where: string,
  extraKeys: ReadonlySet<string> = new Set(),
): ResolvedFetchOptions {
  if (options === undefined) return NONE
  if (options === null || typeof options !== 'object')
    throw invalidOptions(`${where}: options must be an object`)
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && !extraKeys.has(key)) throw invalidOptions(`${where}: unknown option "${key}"`)
  }
  const { requestId, remoteAddress } = options
  if (requestId !== undefined && typeof requestId !== 'function') {
    throw invalidOptions(`${where}: requestId must be a function`)
  }
  if (remoteAddress !== undefined && typeof remoteAddress !== 'string') {
    throw invalidOptions(`${where}: remoteAddress must be the connection's peer address (a string)`)
  }
  const developmentLoopback = checkDevelopmentLoopback(options.developmentLoopback, where)
  return Object.freeze({
    testSignIn: checkRoute(options.testSignIn, where),
    requestId,
    publicOrigin: checkPublicUrl(options.publicUrl, where),
    developmentLoopback,
    loopback: loopbackOf(developmentLoopback, remoteAddress),
  })
}
