import { isJwksBridgeError, JwksBridgeError } from '../errors.js'
import type { JsonObject } from '../jose/json.js'
import { DEFAULT_KEY_SET_LIMITS, type KeySetLimits } from '../jose/key-set.js'
import type { FreshnessBounds } from '../keys/cache-policy.js'
import { discoveryUrl, processDiscoveryDocument } from '../keys/discovery.js'
import {
  type FetchFunction,
  type FetchLimits,
  fetchJsonDocument,
  JWKS_MEDIA_TYPES,
} from '../keys/http-fetch.js'
import { checkKeySetUrl } from '../keys/url-policy.js'
import { VERIFIER_DEFAULTS } from '../verifier/options.js'
import { UsageError } from './usage.js'

/** The path suffix of an OpenID Provider Configuration document (OpenID Connect Discovery 1.0 §4). */
export const WELL_KNOWN_SUFFIX = '/.well-known/openid-configuration'

/** What `createVerifier` uses when no option is given: the jwks command applies exactly these. */
export interface VerifierDefaults {
  fetchLimits: FetchLimits
  freshness: FreshnessBounds
  keyLimits: KeySetLimits
}

/**
 * The verifier's defaults, read from the library's own `VERIFIER_DEFAULTS` rather than copied, so that
 * `jwks-bridge jwks` cannot drift from what `createVerifier` would do with the same document.
 */
export function verifierDefaults(): VerifierDefaults {
  const d = VERIFIER_DEFAULTS
  return {
    fetchLimits: { timeoutMs: d.timeoutMs, maxResponseBytes: d.maxResponseBytes },
    // createVerifier never lets the shortest freshness exceed the longest.
    freshness: {
      minSeconds: Math.min(d.cacheMinAgeSeconds, d.cacheMaxAgeSeconds),
      maxSeconds: d.cacheMaxAgeSeconds,
    },
    keyLimits: {
      ...DEFAULT_KEY_SET_LIMITS,
      minRsaModulusBits: d.minRsaModulusBits,
      maxRsaModulusBits: d.maxRsaModulusBits,
      maxKeys: d.maxKeys,
    },
  }
}

/** How the argument is read: a key set URL (trying discovery if it is not one), or an issuer. */
export type Target =
  /** `issuer` is the argument as given: discovery compares it with the document's exactly. */
  | { kind: 'key-set-or-issuer'; url: string; issuer: string }
  | { kind: 'discovery'; issuer: string; configurationUrl: string }

/**
 * Reads ISSUER-OR-URL. The URL rules are the verifier's (`checkKeySetUrl`: https, plain http only on
 * loopback, no credentials, no fragment), so a URL refused here would be refused by `createVerifier`.
 * - a path ending in /.well-known/openid-configuration is a discovery document; the issuer it must
 *   name is the URL without that suffix (Discovery §4);
 * - `--discover`: the argument is an issuer, exactly as `verify --issuer` would take it;
 * - otherwise: a key set URL, with discovery as the fallback (see `loadKeySetDocument`).
 */
export function resolveTarget(argument: string, discover: boolean): Target {
  let url: URL
  try {
    url = checkKeySetUrl(argument, 'ISSUER-OR-URL')
  } catch (error) {
    if (isJwksBridgeError(error)) throw new UsageError(error.message)
    throw error
  }
  if (url.pathname.endsWith(WELL_KNOWN_SUFFIX)) {
    // The issuer as written in the argument (the URL parser would add a trailing slash to a bare
    // origin, and the issuer match is exact); from the parsed URL only if the spelling differs.
    const written = argument.split('?', 1)[0] as string
    const issuer = written.endsWith(WELL_KNOWN_SUFFIX)
      ? written.slice(0, -WELL_KNOWN_SUFFIX.length)
      : `${url.origin}${url.pathname.slice(0, -WELL_KNOWN_SUFFIX.length)}`
    return { kind: 'discovery', issuer, configurationUrl: url.href }
  }
  if (discover) return { kind: 'discovery', issuer: argument, configurationUrl: discoveryUrl(argument) }
  return { kind: 'key-set-or-issuer', url: url.href, issuer: argument }
}

/** A fetched key set document, with what the cache report needs from its response. */
export interface LoadedKeySet {
  /** The key set URL that answered. */
  url: string
  /** Set when the URL came from a discovery document. */
  discovery: { url: string; issuer: string } | undefined
  document: JsonObject
  headers: {
    cacheControl: string | null
    age: string | null
    etag: boolean
    lastModified: boolean
  }
}

/** One failed step: the library's error and the URL it was about. */
export interface FailedStep {
  what: 'key set' | 'discovery document'
  url: string
  error: JwksBridgeError
}

/** Every step that failed, in the order they were tried. */
export class LoadFailure extends Error {
  override name = 'LoadFailure'
  constructor(readonly steps: readonly FailedStep[]) {
    super(steps.map((step) => step.error.message).join('; '))
  }
}

function asLibraryError(error: unknown): JwksBridgeError {
  if (isJwksBridgeError(error)) return error
  throw error
}

async function fetchKeySet(fetchImpl: FetchFunction, url: string, limits: FetchLimits) {
  const outcome = await fetchJsonDocument(
    fetchImpl,
    url,
    JWKS_MEDIA_TYPES,
    limits,
    {},
    'ERR_JWKS_FETCH_FAILED',
  )
  // No validators were sent, so the library only ever returns 200 here.
  if (outcome.status !== 200) throw new JwksBridgeError('ERR_JWKS_FETCH_FAILED', 'unexpected 304 answer')
  return outcome
}

async function discover(
  fetchImpl: FetchFunction,
  target: { issuer: string; configurationUrl: string },
  limits: FetchLimits,
): Promise<LoadedKeySet> {
  let jwksUri: string
  try {
    // The same accepted type, issuer match and jwks_uri rules as the verifier's discovery.
    const outcome = await fetchJsonDocument(
      fetchImpl,
      target.configurationUrl,
      ['application/json'],
      limits,
      {},
      'ERR_DISCOVERY_FAILED',
    )
    if (outcome.status !== 200) throw new JwksBridgeError('ERR_DISCOVERY_FAILED', 'unexpected 304 answer')
    jwksUri = processDiscoveryDocument(outcome.body, target.issuer)
  } catch (error) {
    throw new LoadFailure([
      { what: 'discovery document', url: target.configurationUrl, error: asLibraryError(error) },
    ])
  }
  const loaded = await loadFrom(fetchImpl, jwksUri, limits)
  return { ...loaded, discovery: { url: target.configurationUrl, issuer: target.issuer } }
}

async function loadFrom(fetchImpl: FetchFunction, url: string, limits: FetchLimits): Promise<LoadedKeySet> {
  try {
    const outcome = await fetchKeySet(fetchImpl, url, limits)
    return {
      url,
      discovery: undefined,
      document: outcome.body,
      headers: {
        cacheControl: outcome.cacheControl,
        age: outcome.age,
        etag: outcome.validators.etag !== undefined,
        lastModified: outcome.validators.lastModified !== undefined,
      },
    }
  } catch (error) {
    throw new LoadFailure([{ what: 'key set', url, error: asLibraryError(error) }])
  }
}

// Failures where no server answered: trying discovery on the same host would only fail the same
// way (and, for a timeout, make the user wait twice).
function isTransportFailure(error: JwksBridgeError): boolean {
  return error.reason === 'timeout' || (error.reason ?? '').startsWith('network error')
}

/**
 * Fetches the key set the target names, under the verifier's fetch rules (no redirects, bounded
 * time and size, accepted media types only, strict JSON).
 *
 * For a plain URL: fetched as a key set first; when the server answers with something that is not a
 * key set (an error status, a redirect, another media type, a JSON document without a "keys"
 * array), the URL is taken as an issuer and discovery is tried. Throws LoadFailure listing each
 * failed step.
 */
export async function loadKeySetDocument(
  fetchImpl: FetchFunction,
  target: Target,
  limits: FetchLimits,
): Promise<LoadedKeySet> {
  if (target.kind === 'discovery') return discover(fetchImpl, target, limits)
  let first: FailedStep
  try {
    const loaded = await loadFrom(fetchImpl, target.url, limits)
    if (Array.isArray(loaded.document.keys)) return loaded
    first = {
      what: 'key set',
      url: target.url,
      error: new JwksBridgeError('ERR_KEYSET_INVALID', 'key set has no "keys" array'),
    }
  } catch (error) {
    if (!(error instanceof LoadFailure)) throw error
    first = error.steps[0] as FailedStep
    if (isTransportFailure(first.error)) throw error
  }
  try {
    const fallback = { issuer: target.issuer, configurationUrl: discoveryUrl(target.issuer) }
    return await discover(fetchImpl, fallback, limits)
  } catch (error) {
    if (!(error instanceof LoadFailure)) throw error
    throw new LoadFailure([first, ...error.steps])
  }
}
