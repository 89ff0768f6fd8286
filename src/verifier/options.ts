import { type Algorithm, algorithmSpec, SUPPORTED_ALGORITHMS } from '../jose/algorithms.js'
import { DEFAULT_MAX_TOKEN_LENGTH } from '../jose/compact.js'
import { normalizeTyp } from '../jose/header.js'
import { DEFAULT_KEY_SET_LIMITS, type KeySetLimits } from '../jose/key-set.js'
import type { JwtPolicy } from '../jose/verify-jwt.js'
import type { KeySetEvent } from '../keys/events.js'
import type { FetchFunction } from '../keys/http-fetch.js'
import type { KeySetCache } from '../keys/key-set-cache.js'
import { checkKeySetUrl } from '../keys/url-policy.js'
import {
  booleanOption,
  functionOption,
  isPlainObject,
  oneOf,
  optionError,
  optionNames,
  positiveInteger,
  readOptions,
  refuseUnknownKeys,
  seconds,
  stringList,
} from '../lib/options.js'
import { SIGNATURE_THREAD_POOL_MODES, type SignatureThreadPoolMode } from './signature-pool.js'

/** A JSON Web Key Set document, as published at a provider's `jwks_uri`. */
export interface JsonWebKeySet {
  keys: readonly Record<string, unknown>[]
}

/** Options that can be given once for all issuers and overridden per issuer. */
export interface PolicyOptions {
  /** Accepted algorithms, exact names. Default `['RS256']`. HS* and `none` do not exist here. */
  algorithms?: readonly Algorithm[]
  /** Accepted audience(s): the token's `aud` must contain one of them. */
  audience?: string | readonly string[]
  /** Expected `typ` header, e.g. `at+jwt` (case-insensitive, `application/` optional). */
  typ?: string
  /** Claims that must be present, in addition to `exp` (see `requireExp`). */
  requiredClaims?: readonly string[]
  /** Require `exp`. Default true; turning it off accepts tokens that never expire. */
  requireExp?: boolean
  /** Leeway for `exp`, `nbf`, `iat` and the token age, in seconds. Default 0. */
  clockToleranceSeconds?: number
  /** Refuse tokens whose `iat` is older than this, in seconds. Requires `iat`. */
  maxTokenAgeSeconds?: number
  /** Names of `crit` header extensions the application understands. Default none. */
  criticalHeaders?: readonly string[]
  /** Smallest RSA modulus accepted, in bits; at least 2048 (the default). */
  minRsaModulusBits?: number
  /** Largest RSA modulus accepted, in bits. Default 8192. */
  maxRsaModulusBits?: number
  /** Most keys a key set may hold. Default 100. */
  maxKeys?: number
}

/** How a remote key set is fetched and kept. Defaults in brackets. */
export interface RemoteKeySetOptions {
  /** Longest time a fetched set counts as fresh; `Cache-Control: max-age` may shorten it. [600] */
  cacheMaxAgeSeconds?: number
  /** Shortest freshness, whatever `Cache-Control` says (bounds refetch traffic). [30] */
  cacheMinAgeSeconds?: number
  /** Least time between two fetches caused by unknown kids. [30] */
  cooldownSeconds?: number
  /** How long the last good set keeps serving past its freshness while refreshes fail. [86400] */
  maxStaleSeconds?: number
  /** Bound on a whole fetch, headers and body. [5000] */
  timeoutMs?: number
  /** Largest key set or discovery document accepted. [262144] */
  maxResponseBytes?: number
  /** First wait after a failed fetch; doubles per failure, with jitter. [1] */
  retryBaseSeconds?: number
  /** Longest wait between retries. [60] */
  retryMaxSeconds?: number
  /** Most kids remembered as absent from the set (the flood guard). [10000] */
  maxUnknownKids?: number
}

export interface IssuerOptions extends PolicyOptions, RemoteKeySetOptions {
  /** Exact value of the `iss` claim. */
  issuer: string
  /** The issuer's public keys, given directly. */
  jwks?: JsonWebKeySet
  /**
   * The key set URL. https only (http only for 127.0.0.0/8, ::1, localhost). When neither this nor
   * `jwks` is given, the URL is discovered from `<issuer>/.well-known/openid-configuration`.
   */
  jwksUri?: string | URL
}

/** A key of a key set that was skipped, reported through `onKeyRejected`. Never carries key material. */
export interface KeyRejectedEvent {
  issuer: string
  index: number
  kid: string | undefined
  code: string
  reason: string
}

export interface VerifierOptions extends PolicyOptions, RemoteKeySetOptions {
  /** One issuer: its exact `iss` value. Use `issuers` for several. */
  issuer?: string
  jwks?: JsonWebKeySet
  jwksUri?: string | URL
  /** Several issuers, each with its own keys and policy; top-level policy options are their defaults. */
  issuers?: readonly IssuerOptions[]
  /** Longest token accepted, in characters, checked before any decoding. Default 16384. */
  maxTokenLength?: number
  /** The verified-token cache: on by default with 1000 entries; `false` turns it off. */
  tokenCache?: false | { maxEntries?: number }
  /**
   * Where signatures are checked. `false` (the default): on the event loop. `true`: always on libuv's
   * thread pool (`crypto.verify` with a callback), the loop free while OpenSSL works, at the price of a
   * hand-off to a pool thread and back. `'auto'`: on the pool only where that pays, ECDSA and EdDSA
   * (50 µs and more each on the loop; RSA's 20 µs stay inline, the hand-off costs about as much), and
   * only while fewer than 16 verifications per pool thread (UV_THREADPOOL_SIZE, default 4) are on it,
   * so a burst never queues long behind others. Worth it where a verification comes with other work
   * and cores are spare, as a sign-in; on a bearer-token hot path, inline is faster.
   *
   * @example
   * createVerifier({ issuer, jwksUri, algorithms: ['ES256'], signatureThreadPool: 'auto' })
   */
  signatureThreadPool?: SignatureThreadPoolMode
  /** Clock for every time check, in milliseconds since the epoch. Default `Date.now`. */
  nowMs?: () => number
  /** Called for each key of a set that cannot be used (it is skipped; the others still work). */
  onKeyRejected?: (event: KeyRejectedEvent) => void
  /** A `fetch` to use for key sets and discovery (proxies, instrumentation). Default: global fetch. */
  fetch?: FetchFunction
  /** Where fetched key sets are shared (see `createRedisKeySetCache`). Default: this process only. */
  keySetCache?: KeySetCache
  /** Key set events: fetches, revalidations, rotations, refused floods, stale serving, failures. */
  onEvent?: (event: KeySetEvent) => void
}

/** Remote key set settings after validation, in milliseconds. */
export interface RemoteConfig {
  /** Undefined: discover it from the issuer. */
  jwksUri: string | undefined
  cacheMaxAgeMs: number
  cacheMinAgeMs: number
  cooldownMs: number
  maxStaleMs: number
  timeoutMs: number
  maxResponseBytes: number
  retryBaseMs: number
  retryMaxMs: number
  maxUnknownKids: number
}

/** The validated, normalized form of one issuer's options. */
export interface IssuerConfig {
  issuer: string
  /** Exactly one of `jwks` and `remote` is set. */
  jwks: JsonWebKeySet | undefined
  remote: RemoteConfig | undefined
  policy: JwtPolicy
  limits: KeySetLimits
}

export interface VerifierConfig {
  issuers: IssuerConfig[]
  maxTokenLength: number
  tokenCacheEntries: number
  signatureThreadPool: SignatureThreadPoolMode
  nowMs: () => number
  onKeyRejected: ((event: KeyRejectedEvent) => void) | undefined
  fetch: FetchFunction | undefined
  keySetCache: KeySetCache | undefined
  onEvent: ((event: KeySetEvent) => void) | undefined
}

const WHERE = 'createVerifier'

/**
 * What `createVerifier` uses for an option that is not given. docs/verifier.md's option table and the
 * CLI (`jwks-bridge jwks`) read these rather than keeping copies.
 */
export const VERIFIER_DEFAULTS = Object.freeze({
  algorithms: Object.freeze(['RS256'] as const),
  requireExp: true,
  clockToleranceSeconds: 0,
  minRsaModulusBits: DEFAULT_KEY_SET_LIMITS.minRsaModulusBits,
  maxRsaModulusBits: DEFAULT_KEY_SET_LIMITS.maxRsaModulusBits,
  maxKeys: DEFAULT_KEY_SET_LIMITS.maxKeys,
  cacheMaxAgeSeconds: 600,
  cacheMinAgeSeconds: 30,
  cooldownSeconds: 30,
  maxStaleSeconds: 86400,
  timeoutMs: 5000,
  maxResponseBytes: 262144,
  retryBaseSeconds: 1,
  retryMaxSeconds: 60,
  maxUnknownKids: 10000,
  maxTokenLength: DEFAULT_MAX_TOKEN_LENGTH,
  tokenCache: Object.freeze({ maxEntries: 1000 }),
  signatureThreadPool: false as SignatureThreadPoolMode,
}) satisfies Partial<Required<VerifierOptions>>

/** The options given once for all issuers and overridable per issuer (merged in `issuerConfig`). */
const POLICY_KEYS = optionNames<PolicyOptions & RemoteKeySetOptions>()([
  'algorithms',
  'audience',
  'typ',
  'requiredClaims',
  'requireExp',
  'clockToleranceSeconds',
  'maxTokenAgeSeconds',
  'criticalHeaders',
  'minRsaModulusBits',
  'maxRsaModulusBits',
  'maxKeys',
  'cacheMaxAgeSeconds',
  'cacheMinAgeSeconds',
  'cooldownSeconds',
  'maxStaleSeconds',
  'timeoutMs',
  'maxResponseBytes',
  'retryBaseSeconds',
  'retryMaxSeconds',
  'maxUnknownKids',
])

/** The names `createVerifier` knows in an `issuers` entry (the resource server takes them too, less two). */
export const ISSUER_KEYS = optionNames<IssuerOptions>()([...POLICY_KEYS, 'issuer', 'jwks', 'jwksUri'])

/** The names `createVerifier` knows (the resource server passes them through, less `audience` and `typ`). */
export const VERIFIER_KEYS = optionNames<VerifierOptions>()([
  ...POLICY_KEYS,
  'issuer',
  'jwks',
  'jwksUri',
  'issuers',
  'maxTokenLength',
  'tokenCache',
  'signatureThreadPool',
  'nowMs',
  'onKeyRejected',
  'fetch',
  'keySetCache',
  'onEvent',
])

function algorithms(value: unknown, path: string): Set<string> {
  const list = value === undefined ? VERIFIER_DEFAULTS.algorithms : value
  if (!Array.isArray(list) || list.length === 0)
    throw optionError(WHERE, `${path}algorithms must be a non-empty array`)
  for (const name of list) {
    if (typeof name !== 'string' || !algorithmSpec(name)) {
      const shown = JSON.stringify(String(name).slice(0, 32))
      const why = /^HS/i.test(String(name))
        ? ' (symmetric algorithms are not supported: a key set holds public keys)'
        : String(name).toLowerCase() === 'none'
          ? ' (unsigned tokens are never accepted)'
          : ''
      throw optionError(
        WHERE,
        `${path}algorithms: ${shown} is not one of ${SUPPORTED_ALGORITHMS.join(', ')}${why}`,
      )
    }
  }
  return new Set(list as string[])
}

function issuerString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw optionError(WHERE, `${path}issuer must be a non-empty string (the exact "iss" value)`)
  }
  return value
}

function jwksOption(value: unknown, path: string): JsonWebKeySet | undefined {
  if (value === undefined) return undefined
  if (!isPlainObject(value) || !Array.isArray(value.keys))
    throw optionError(WHERE, `${path}jwks must be { keys: [...] }`)
  return value as unknown as JsonWebKeySet
}

function issuerConfig(
  own: Record<string, unknown>,
  defaults: Record<string, unknown>,
  path: string,
): IssuerConfig {
  const merged: Record<string, unknown> = { ...defaults }
  for (const key of POLICY_KEYS) if (own[key] !== undefined) merged[key] = own[key]
  const issuer = issuerString(own.issuer, path)
  const audience = stringList(WHERE, `${path}audience`, merged.audience, { allowSingle: true })
  // An empty list would refuse every token: a configuration mistake, caught here rather than as 401s.
  if (audience !== undefined && audience.length === 0)
    throw optionError(WHERE, `${path}audience must not be empty`)
  const requiredClaims =
    stringList(WHERE, `${path}requiredClaims`, merged.requiredClaims, {
      allowSingle: true,
    }) ?? []
  if (booleanOption(WHERE, `${path}requireExp`, merged.requireExp, VERIFIER_DEFAULTS.requireExp)) {
    if (!requiredClaims.includes('exp')) requiredClaims.unshift('exp')
  }
  if (merged.typ !== undefined && (typeof merged.typ !== 'string' || merged.typ.length === 0)) {
    throw optionError(WHERE, `${path}typ must be a non-empty string`)
  }
  const maxTokenAgeSeconds =
    merged.maxTokenAgeSeconds === undefined
      ? undefined
      : seconds(WHERE, `${path}maxTokenAgeSeconds`, merged.maxTokenAgeSeconds, 0)
  const minRsaModulusBits = positiveInteger(
    WHERE,
    `${path}minRsaModulusBits`,
    merged.minRsaModulusBits,
    VERIFIER_DEFAULTS.minRsaModulusBits,
  )
  // RFC 7518 §3.3: 2048 bits or larger MUST be used. The floor can be raised, never lowered.
  if (minRsaModulusBits < 2048) throw optionError(WHERE, `${path}minRsaModulusBits cannot be below 2048`)
  const maxRsaModulusBits = positiveInteger(
    WHERE,
    `${path}maxRsaModulusBits`,
    merged.maxRsaModulusBits,
    VERIFIER_DEFAULTS.maxRsaModulusBits,
  )
  if (maxRsaModulusBits < minRsaModulusBits) {
    throw optionError(WHERE, `${path}maxRsaModulusBits must be at least minRsaModulusBits`)
  }
  const jwks = jwksOption(own.jwks, path)
  if (jwks !== undefined && own.jwksUri !== undefined)
    throw optionError(WHERE, `${path}give jwks or jwksUri, not both`)
  return {
    issuer,
    jwks,
    remote: jwks === undefined ? remoteConfig(own, merged, issuer, path) : undefined,
    policy: {
      algorithms: algorithms(merged.algorithms, path),
      criticalHeaders: new Set(
        stringList(WHERE, `${path}criticalHeaders`, merged.criticalHeaders, { allowSingle: true }),
      ),
      typ: typeof merged.typ === 'string' ? normalizeTyp(merged.typ) : undefined,
      issuer,
      audience: audience === undefined ? undefined : new Set(audience),
      requiredClaims,
      clockToleranceSeconds: seconds(
        WHERE,
        `${path}clockToleranceSeconds`,
        merged.clockToleranceSeconds,
        VERIFIER_DEFAULTS.clockToleranceSeconds,
      ),
      maxTokenAgeSeconds,
    },
    limits: {
      ...DEFAULT_KEY_SET_LIMITS,
      minRsaModulusBits,
      maxRsaModulusBits,
      maxKeys: positiveInteger(WHERE, `${path}maxKeys`, merged.maxKeys, VERIFIER_DEFAULTS.maxKeys),
    },
  }
}

function remoteConfig(
  own: Record<string, unknown>,
  merged: Record<string, unknown>,
  issuer: string,
  path: string,
): RemoteConfig {
  let jwksUri: string | undefined
  if (own.jwksUri !== undefined) jwksUri = checkKeySetUrl(own.jwksUri, `${WHERE}: ${path}jwksUri`).href
  // Discovery: the issuer is then a URL too, under the same rules.
  else
    checkKeySetUrl(issuer, `${WHERE}: ${path}issuer (no jwks or jwksUri given, so it is used for discovery)`)
  const ms = (name: keyof typeof VERIFIER_DEFAULTS & `${string}Seconds`) =>
    seconds(WHERE, `${path}${name}`, merged[name], VERIFIER_DEFAULTS[name]) * 1000
  const count = (name: 'timeoutMs' | 'maxResponseBytes' | 'maxUnknownKids') =>
    positiveInteger(WHERE, `${path}${name}`, merged[name], VERIFIER_DEFAULTS[name])
  const cacheMaxAgeMs = ms('cacheMaxAgeSeconds')
  const cacheMinAgeMs = Math.min(ms('cacheMinAgeSeconds'), cacheMaxAgeMs)
  const retryBaseMs = ms('retryBaseSeconds')
  return {
    jwksUri,
    cacheMaxAgeMs,
    cacheMinAgeMs,
    cooldownMs: ms('cooldownSeconds'),
    maxStaleMs: ms('maxStaleSeconds'),
    timeoutMs: count('timeoutMs'),
    maxResponseBytes: count('maxResponseBytes'),
    retryBaseMs,
    retryMaxMs: Math.max(retryBaseMs, ms('retryMaxSeconds')),
    maxUnknownKids: count('maxUnknownKids'),
  }
}

/** Validates `createVerifier` options eagerly: a mistake is a thrown ERR_INVALID_OPTIONS, not a 401 later. */
export function resolveVerifierOptions(options: VerifierOptions): VerifierConfig {
  // Unknown names are refused: a misspelt `audiance` would otherwise leave the audience unchecked.
  const raw = readOptions(WHERE, options, VERIFIER_KEYS)
  const defaults: Record<string, unknown> = {}
  for (const key of POLICY_KEYS) if (raw[key] !== undefined) defaults[key] = raw[key]
  let issuers: IssuerConfig[]
  if (raw.issuers !== undefined) {
    if (raw.issuer !== undefined || raw.jwks !== undefined || raw.jwksUri !== undefined) {
      throw optionError(WHERE, 'give either issuer (with its keys) or issuers, not both')
    }
    if (!Array.isArray(raw.issuers) || raw.issuers.length === 0)
      throw optionError(WHERE, 'issuers must be a non-empty array')
    issuers = raw.issuers.map((item: unknown, index: number) => {
      const path = `issuers[${index}].`
      if (!isPlainObject(item)) throw optionError(WHERE, `issuers[${index}] must be an object`)
      refuseUnknownKeys(WHERE, item, ISSUER_KEYS, path)
      return issuerConfig(item, defaults, path)
    })
    const names = new Set(issuers.map((i) => i.issuer))
    if (names.size !== issuers.length) throw optionError(WHERE, 'issuers lists the same issuer twice')
  } else {
    issuers = [issuerConfig(raw, defaults, '')]
  }
  const cache = raw.tokenCache
  let tokenCacheEntries: number = VERIFIER_DEFAULTS.tokenCache.maxEntries
  if (cache === false) tokenCacheEntries = 0
  else if (cache !== undefined && cache !== true) {
    if (!isPlainObject(cache)) throw optionError(WHERE, 'tokenCache must be false or { maxEntries }')
    refuseUnknownKeys(WHERE, cache, ['maxEntries'], 'tokenCache.')
    tokenCacheEntries = positiveInteger(WHERE, 'tokenCache.maxEntries', cache.maxEntries, tokenCacheEntries)
  }
  const keySetCache = raw.keySetCache as KeySetCache | undefined
  if (
    keySetCache !== undefined &&
    (typeof keySetCache?.get !== 'function' || typeof keySetCache?.set !== 'function')
  ) {
    throw optionError(WHERE, 'keySetCache must have get(url) and set(url, entry, keepMs)')
  }
  return {
    issuers,
    fetch: functionOption<FetchFunction>(WHERE, 'fetch', raw.fetch),
    keySetCache,
    onEvent: functionOption<NonNullable<VerifierConfig['onEvent']>>(WHERE, 'onEvent', raw.onEvent),
    maxTokenLength: positiveInteger(
      WHERE,
      'maxTokenLength',
      raw.maxTokenLength,
      VERIFIER_DEFAULTS.maxTokenLength,
    ),
    tokenCacheEntries,
    signatureThreadPool: oneOf(
      WHERE,
      'signatureThreadPool',
      raw.signatureThreadPool,
      SIGNATURE_THREAD_POOL_MODES,
      VERIFIER_DEFAULTS.signatureThreadPool,
    ),
    nowMs: functionOption<() => number>(WHERE, 'nowMs', raw.nowMs) ?? Date.now,
    onKeyRejected: functionOption<NonNullable<VerifierConfig['onKeyRejected']>>(
      WHERE,
      'onKeyRejected',
      raw.onKeyRejected,
    ),
  }
}
