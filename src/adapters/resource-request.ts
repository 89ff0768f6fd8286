/**
 * Shared by the resource server adapters (Express, Fastify, fetch, Hono): their options checked once,
 * a Node request as the resource server's plain data, and the body of a refusal.
 */
import type { IncomingMessage } from 'node:http'
import { isJwksBridgeError } from '../errors.js'
import { optionError, optionNames, readOptions, stringList } from '../lib/options.js'
import type {
  AccessTokenRequest,
  AuthenticateOptions,
  ResourceServer,
} from '../resource-server/resource-server.js'

export interface ResourceAdapterOptions {
  /** Scopes this route needs, in addition to the resource server's own. */
  scopes?: readonly string[]
  /**
   * The origin clients address this API at, for the DPoP `htu` check. Default: the origin of the
   * resource identifier. Not the request's Host header: a proof captured for this API and replayed to
   * another server that trusts the same issuer must not pass there because its Host was forged.
   */
  origin?: string
}

const ADAPTER_KEYS = optionNames<ResourceAdapterOptions>()(['scopes', 'origin'])

/** The options as every adapter uses them. */
export interface ResolvedResourceAdapterOptions {
  /** The origin the request target is appended to, for the DPoP `htu` check. */
  readonly origin: string
  /** What `api.authenticate` takes for this route. */
  readonly authOptions: AuthenticateOptions
}

function checkOrigin(where: string, value: unknown): string {
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  // An origin only: a path here would not move the routes, and htu would then never match.
  if (
    url === undefined ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.pathname !== '/' ||
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw optionError(where, 'origin must be an http(s) origin such as https://api.example.com')
  }
  return url.origin
}

/**
 * `requireAccessToken`'s options, checked when the middleware is made (ERR_INVALID_OPTIONS: unknown
 * names, scopes that are not a list of strings, an origin that is not one).
 */
export function resolveResourceAdapterOptions(
  api: ResourceServer,
  options: unknown,
  where: string,
): ResolvedResourceAdapterOptions {
  const raw = readOptions(where, options, ADAPTER_KEYS, { optional: true })
  const scopes = stringList(where, 'scopes', raw.scopes)
  return {
    origin: raw.origin === undefined ? new URL(api.resource).origin : checkOrigin(where, raw.origin),
    authOptions: scopes === undefined ? {} : { scopes },
  }
}

/** Only the two headers the resource server reads, each line kept apart (Node drops repeated `authorization`). */
export function resourceRequest(
  raw: IncomingMessage,
  origin: string,
  target: string,
  body: unknown,
): AccessTokenRequest {
  return {
    method: raw.method ?? 'GET',
    url: `${origin}${originForm(target)}`,
    headers: credentialHeaders(raw.rawHeaders),
    body,
  }
}

/**
 * The path and query of a request target, as sent. A target in absolute form (`GET http://host/path`,
 * RFC 9112 §3.2.2, what a client sends to a proxy) keeps only them, as the routers route it: appended
 * to the origin whole, it would make a URL that never matches a proof's htu. Cut from the text, not
 * parsed: parsing would resolve dot segments that the router does not, and the resource server must see
 * the path the router dispatches on.
 */
export function originForm(target: string): string {
  if (target.startsWith('/')) return target
  const authority = target.indexOf('//')
  if (authority === -1) return target
  const path = target.indexOf('/', authority + 2)
  const query = target.indexOf('?', authority + 2)
  if (path === -1 || (query !== -1 && query < path)) return `/${query === -1 ? '' : target.slice(query)}`
  return target.slice(path)
}

/**
 * The `authorization` and `dpop` field lines of a request, each line apart, as `headersDistinct` has
 * them (names compared in lower case), read in one pass over `rawHeaders`: `headersDistinct` would
 * build an object and an array for every header of the request, on every request.
 */
export function credentialHeaders(rawHeaders: readonly string[]): {
  authorization: string[] | undefined
  dpop: string[] | undefined
} {
  let authorization: string[] | undefined
  let dpop: string[] | undefined
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    const value = rawHeaders[i + 1] as string
    // The length first: most names are neither, and the lower-case copy is made for these two only.
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (authorization === undefined) authorization = [value]
      else authorization.push(value)
    } else if (name.length === 4 && name.toLowerCase() === 'dpop') {
      if (dpop === undefined) dpop = [value]
      else dpop.push(value)
    }
  }
  return { authorization, dpop }
}

/** `{ error: { code, message } }` for a refusal; the code alone for a failure on our side. */
export function refusalBody(error: unknown, status: number): { error: Record<string, string> } {
  if (!isJwksBridgeError(error)) return { error: { code: 'ERR_INTERNAL' } }
  return { error: status < 500 ? { code: error.code, message: error.message } : { code: error.code } }
}

/** Headers of the metadata document: public, cacheable a little, readable by browser-based clients. */
export const METADATA_HEADERS = {
  'cache-control': 'public, max-age=300',
  'access-control-allow-origin': '*',
}
