/**
 * The Web-standard adapters' options (jwks-bridge/fetch and jwks-bridge/hono): checked once, when
 * given, with unknown keys refused (a misspelt option must not silently do nothing).
 */
import { invalidOptions } from '../errors.js'
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
}

/** The options as the adapter uses them. */
export interface ResolvedFetchOptions {
  readonly testSignIn: ExtraBridgeRoute | undefined
  readonly requestId: ((request: Request) => string | undefined) | undefined
  /** From `publicUrl`: the transport and the host every request is taken to have. */
  readonly publicOrigin: { readonly secure: boolean; readonly host: string } | undefined
}

const KNOWN = new Set(['testSignIn', 'requestId', 'publicUrl'])

const NONE: ResolvedFetchOptions = Object.freeze({
  testSignIn: undefined,
  requestId: undefined,
  publicOrigin: undefined,
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
  const { requestId } = options
  if (requestId !== undefined && typeof requestId !== 'function') {
    throw invalidOptions(`${where}: requestId must be a function`)
  }
  return Object.freeze({
    testSignIn: checkRoute(options.testSignIn, where),
    requestId,
    publicOrigin: checkPublicUrl(options.publicUrl, where),
  })
}
