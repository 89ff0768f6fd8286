import { JwksBridgeError } from '../errors.js'
import { type JsonObject, parseJsonObject } from '../jose/json.js'

/** The subset of the WHATWG `fetch` that key sets use: a custom one can wrap a proxy or add tracing. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

export interface FetchLimits {
  /** Whole fetch, headers and body, in milliseconds. */
  timeoutMs: number
  /** Largest body accepted, in bytes; a longer one is cut off and refused. */
  maxResponseBytes: number
}

export interface Validators {
  etag?: string | undefined
  lastModified?: string | undefined
}

export type FetchOutcome =
  | { status: 200; body: JsonObject; cacheControl: string | null; age: string | null; validators: Validators }
  | { status: 304; cacheControl: string | null; age: string | null }

export const JWKS_MEDIA_TYPES = ['application/jwk-set+json', 'application/json'] as const

function failure(
  code: 'ERR_JWKS_FETCH_FAILED' | 'ERR_DISCOVERY_FAILED',
  reason: string,
  cause?: unknown,
): JwksBridgeError {
  return new JwksBridgeError(code, `fetching failed: ${reason}`, { reason, cause })
}

/**
 * GETs a JSON document under the key-set fetch rules:
 * - redirects are refused, not followed (a redirect could lead to a host we never chose: SSRF,
 *   SurrealDB GHSA-h5rg-8p7f-47g2);
 * - only 200 with an accepted media type counts (304 when validators were sent);
 * - the whole exchange, body included, is bounded by `timeoutMs` (get-jwks's timeout was not enforced);
 * - the body is cut off past `maxResponseBytes` (no peer caps it);
 * - the body must be strict UTF-8 JSON, an object, without duplicate members.
 * No cookies or credentials are sent.
 */
export async function fetchJsonDocument(
  fetchImpl: FetchFunction,
  url: string,
  accept: readonly string[],
  limits: FetchLimits,
  validators: Validators,
  code: 'ERR_JWKS_FETCH_FAILED' | 'ERR_DISCOVERY_FAILED',
): Promise<FetchOutcome> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs)
  try {
    const headers: Record<string, string> = { accept: accept.join(', ') }
    if (validators.etag !== undefined) headers['if-none-match'] = validators.etag
    if (validators.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified
    let response: Response
    try {
      response = await fetchImpl(url, {
        method: 'GET',
        headers,
        redirect: 'manual',
        credentials: 'omit',
        signal: controller.signal,
      })
    } catch (error) {
      throw failure(code, controller.signal.aborted ? 'timeout' : 'network error', error)
    }
    const cacheControl = response.headers.get('cache-control')
    const age = response.headers.get('age')
    if (response.status === 304 && (validators.etag !== undefined || validators.lastModified !== undefined)) {
      await response.body?.cancel().catch(() => {})
      return { status: 304, cacheControl, age }
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {})
      const redirect = response.status >= 300 && response.status < 400
      throw failure(
        code,
        redirect ? `redirect (status ${response.status}) refused` : `status ${response.status}`,
      )
    }
    const mediaType =
      (response.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? ''
    if (!accept.includes(mediaType)) {
      await response.body?.cancel().catch(() => {})
      throw failure(
        code,
        `content type ${JSON.stringify(mediaType.slice(0, 64))} is not ${accept.join(' or ')}`,
      )
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN)
    if (declared > limits.maxResponseBytes) {
      await response.body?.cancel().catch(() => {})
      throw failure(code, `response of ${declared} bytes is over ${limits.maxResponseBytes}`)
    }
    const bytes = await readBounded(response, limits.maxResponseBytes, controller, code)
    let body: JsonObject
    try {
      body = parseJsonObject(bytes, 'document')
    } catch (error) {
      throw failure(code, 'body is not a strict JSON object', error)
    }
    const validatorsOut: Validators = {
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
    }
    return { status: 200, body, cacheControl, age, validators: validatorsOut }
  } finally {
    clearTimeout(timer)
  }
}

async function readBounded(
  response: Response,
  maxBytes: number,
  controller: AbortController,
  code: 'ERR_JWKS_FETCH_FAILED' | 'ERR_DISCOVERY_FAILED',
): Promise<Uint8Array> {
  const reader = response.body?.getReader()
  if (reader === undefined) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        controller.abort()
        throw failure(code, `response is over ${maxBytes} bytes`)
      }
      chunks.push(value)
    }
  } catch (error) {
    if (error instanceof JwksBridgeError) throw error
    throw failure(code, controller.signal.aborted ? 'timeout' : 'network error while reading the body', error)
  } finally {
    reader.releaseLock()
  }
  return Buffer.concat(chunks, total)
}
