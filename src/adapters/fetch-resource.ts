/**
 * The resource server in a Web-standard (`Request` → `Response`) app: Next.js route handlers, Bun.serve,
 * Deno.serve, workers. `requireAccessToken` makes a guard that resolves the request's access token or
 * the refusal to send; `protectedResourceMetadata` answers the RFC 9728 document. Shared by
 * jwks-bridge/fetch and jwks-bridge/hono.
 *
 * @example
 * import { protectedResourceMetadata, requireAccessToken } from 'jwks-bridge/fetch'
 * const metadata = protectedResourceMetadata(api)
 * const readThings = requireAccessToken(api, { scopes: ['read:things'] })
 * export async function GET(request: Request): Promise<Response> {
 *   const access = await readThings(request)
 *   if (!access.ok) return access.response // 400, 401, 403 or 503, with its WWW-Authenticate
 *   return Response.json({ for: access.auth.payload.sub }, { headers: access.headers })
 * }
 */
import { DEFAULT_MAX_BODY_BYTES } from '../bridge/options.js'
import { isJwksBridgeError, JwksBridgeError } from '../errors.js'
import type { AccessTokenAuth, ResourceServer } from '../resource-server/resource-server.js'
import { readLimitedBody, requestTarget } from './fetch-request.js'
import {
  METADATA_HEADERS,
  type ResourceAdapterOptions,
  refusalBody,
  resolveResourceAdapterOptions,
} from './resource-request.js'
import { declaredTooLarge, pathOf } from './shared.js'

/** What a guard resolves: the access token and the headers to set on the answer, or the refusal. */
export type AccessTokenOutcome =
  | {
      readonly ok: true
      /** The verified access token: `payload`, `scopes`, `scheme`, `jkt`. */
      readonly auth: AccessTokenAuth
      /**
       * Headers for the route's answer: `DPoP-Nonce` when the server has a fresher nonce for the
       * client's next proof (RFC 9449 §8.2); usually none. Pass them as the Response's `headers`.
       */
      readonly headers: Readonly<Record<string, string>>
    }
  | {
      readonly ok: false
      /** The answer to send: its status, `WWW-Authenticate` (and `DPoP-Nonce`), `{ error: { code, message } }`. */
      readonly response: Response
    }

/** A guard for one route: lets a request through only with a valid access token carrying its scopes. */
export type AccessTokenGuard = (request: Request) => Promise<AccessTokenOutcome>

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** `application/x-www-form-urlencoded`, whatever its parameters and case (RFC 9110 §8.3.1). */
function isFormBody(contentType: string | null): boolean {
  if (contentType === null) return false
  const semicolon = contentType.indexOf(';')
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return type === 'application/x-www-form-urlencoded'
}

/**
 * The form body's parameters, for the resource server's RFC 6750 §2 check (a token sent in the body as
 * well as the header is refused), as the Node adapters hand over the body their framework parsed.
 * Read from a clone, so the route still reads the request's own body; and only when there is a form
 * body to read (RFC 6750 §2.2 defines the body method for that media type alone), so JSON and GET
 * requests cost nothing. A form body larger than the bridge's body cap (16 KiB), or one the app has
 * already read or is reading, is not scanned: the scan is a courtesy to a misconfigured client (the
 * token is only ever taken from the Authorization header), and refusing a large form the app accepts
 * would be worse.
 */
async function formBodyOf(request: Request): Promise<Record<string, string> | undefined> {
  // The header first: @hono/node-server makes a full Request the first time `body` is touched.
  if (!isFormBody(request.headers.get('content-type'))) return undefined
  if (request.body === null || request.bodyUsed || request.body.locked) return undefined
  // Before cloning: a clone left unread would hold a copy of everything the route reads.
  if (declaredTooLarge(request.headers.get('content-length'), DEFAULT_MAX_BODY_BYTES)) return undefined
  let bytes: Uint8Array
  try {
    // The clone's stream is cancelled past the cap; the request's own stream goes on.
    bytes = await readLimitedBody(request.clone(), DEFAULT_MAX_BODY_BYTES)
  } catch (error) {
    if (isJwksBridgeError(error) && error.code === 'ERR_BODY_TOO_LARGE') return undefined
    throw error
  }
  return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)))
}

/** The header's value; repeated lines come joined with ", ", which the resource server refuses as a list. */
function headerOf(request: Request, name: string): string | undefined {
  return request.headers.get(name) ?? undefined
}

/**
 * Makes the guard for a route needing `scopes` (besides the resource server's own). Options are
 * checked now (ERR_INVALID_OPTIONS). The guard resolves `{ ok: true, auth, headers }` or
 * `{ ok: false, response }` for every refusal of the resource server (a key set outage or a replay
 * store that is down is a 503 response too); it rejects only for errors that are not jwks-bridge's.
 *
 * The DPoP `htu` is checked against `origin` (default: the resource identifier's origin) and the
 * Request URL's path and query, never against the URL's host, which comes from the Host header.
 */
export function requireAccessToken(
  api: ResourceServer,
  options: ResourceAdapterOptions = {},
): AccessTokenGuard {
  return guardFor(api, options, 'jwks-bridge/fetch requireAccessToken')
}

/** `requireAccessToken`, with the name of the adapter making it in option errors. */
export function guardFor(api: ResourceServer, options: unknown, where: string): AccessTokenGuard {
  const { origin, authOptions } = resolveResourceAdapterOptions(api, options, where)
  return async (request) => {
    try {
      const auth = await api.authenticate(
        {
          method: request.method,
          url: `${origin}${requestTarget(request.url)}`,
          // Only the two headers the resource server reads.
          headers: { authorization: headerOf(request, 'authorization'), dpop: headerOf(request, 'dpop') },
          body: await formBodyOf(request),
        },
        authOptions,
      )
      // RFC 9449 §8.2: a fresher nonce for the client's next proof.
      const headers = auth.dpopNonce === undefined ? NO_HEADERS : { 'dpop-nonce': auth.dpopNonce }
      return { ok: true, auth, headers }
    } catch (error) {
      if (!(error instanceof JwksBridgeError)) throw error
      const { status, headers } = api.challenge(error)
      return { ok: false, response: Response.json(refusalBody(error, status), { status, headers }) }
    }
  }
}

/**
 * Answers `GET` and `HEAD` at `api.metadataPath` (`/.well-known/oauth-protected-resource`, RFC 9728
 * §3) with `api.metadata()`; null for every other request, which the app answers.
 */
export function protectedResourceMetadata(api: ResourceServer): (request: Request) => Response | null {
  const path = api.metadataPath
  return (request) => {
    const method = request.method
    if ((method !== 'GET' && method !== 'HEAD') || pathOf(requestTarget(request.url)) !== path) return null
    const response = Response.json(api.metadata(), { headers: METADATA_HEADERS })
    return method === 'HEAD' ? new Response(null, { headers: response.headers }) : response
  }
}
