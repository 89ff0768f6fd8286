/**
 * `createResourceServer` options: their types, and their validation (eager, in the factory; unknown
 * keys refused) with the shared checks of lib/options.ts. The verifier's own options pass through to
 * `createVerifier`, which checks them under its rules.
 */
import { type Algorithm, algorithmSpec, SUPPORTED_ALGORITHMS } from '../jose/algorithms.js'
import { DEFAULT_MAX_TOKEN_LENGTH } from '../jose/compact.js'
import { isLoopbackHost } from '../lib/loopback.js'
import {
  functionOption,
  isPlainObject,
  nonEmptyString,
  oneOf,
  optionError,
  optionNames,
  readOptions,
  refuseUnknownKeys,
  seconds,
  stringList,
} from '../lib/options.js'
import {
  VERIFIER_KEYS as ALL_VERIFIER_KEYS,
  type IssuerOptions,
  ISSUER_KEYS as VERIFIER_ISSUER_KEYS,
  type VerifierOptions,
} from '../verifier/options.js'
import { SIGNATURE_THREAD_POOL_MODES, type SignatureThreadPoolMode } from '../verifier/signature-pool.js'
import { ACCESS_TOKEN_PROFILES, type AccessTokenProfile, verifierRulesFor } from './access-token.js'
import type { DpopMode } from './challenge.js'

/** The one store method the DPoP replay guard needs: every session store has it (memory, SQLite, PostgreSQL, Redis). */
export interface ReplayStore {
  markTokenUsed(key: string, expiresAtMs: number): Promise<boolean>
}

/** Issuer options, less what the resource server sets itself (`audience` is the resource, `typ` the profile's). */
export type ResourceIssuerOptions = Omit<IssuerOptions, 'audience' | 'typ'>

export interface ResourceServerOptions extends Omit<VerifierOptions, 'audience' | 'typ' | 'issuers'> {
  /**
   * This API's identifier (RFC 8707 resource indicator, RFC 9728 `resource`): an absolute https URL
   * without fragment (http for loopback hosts). Every access token must name it in `aud`.
   */
  resource: string
  issuers?: readonly ResourceIssuerOptions[]
  /** RFC 9449 DPoP: 'off' (Bearer only), 'allowed' (default: both), 'required' (DPoP only). */
  dpop?: DpopMode
  /** Algorithms a DPoP proof may use. Default every supported one (all asymmetric). */
  dpopAlgorithms?: readonly Algorithm[]
  /** Oldest DPoP proof accepted, from its `iat`, in seconds. Default 60. */
  dpopMaxAgeSeconds?: number
  /** Leeway for the client's clock when checking a proof's `iat`, in seconds. Default 5. */
  dpopClockToleranceSeconds?: number
  /**
   * Where DPoP proof signatures are checked, as `signatureThreadPool` says for access tokens: `'auto'`
   * (the default) on libuv's thread pool for ECDSA and EdDSA proofs while the process has fewer than
   * its cap of verifications there (RSA proofs inline), `true` always on the pool, `false` on the event
   * loop. A client signs a new proof for every request, so unlike an access token (verified once, then
   * cached) a proof's signature costs every DPoP request: for ES256, most of what it costs the loop.
   */
  dpopProofThreadPool?: SignatureThreadPoolMode
  /**
   * Server-provided nonces (RFC 9449 §9): every proof must carry a recent one. `secret` (at least 32
   * bytes, the same on every instance) signs them; a nonce lives one to two `lifetimeSeconds` (default 300).
   */
  dpopNonce?: { secret: Uint8Array | string; lifetimeSeconds?: number }
  /**
   * Where used proof `jti`s are remembered (RFC 9449 §11.1): a session store of this package (SQLite,
   * PostgreSQL, Redis) shared by every instance, so that a proof replayed to another instance is refused.
   * Default: this process's memory, right only for a single instance.
   */
  replayStore?: ReplayStore
  /** Scopes every request needs (all of them). Routes can ask for more. */
  scopes?: readonly string[]
  /** `rfc9068` (default), `generic` or `cognito`; see `AccessTokenProfile`. */
  accessTokenProfile?: AccessTokenProfile
  /** RFC 9728 `authorization_servers`. Default: the configured issuers. */
  authorizationServers?: readonly string[]
  /** RFC 9728 `scopes_supported`. Default: `scopes`, when given. */
  scopesSupported?: readonly string[]
  /** RFC 9728 `resource_name`. */
  resourceName?: string
  /** RFC 9728 `resource_documentation`: a URL. */
  resourceDocumentation?: string
  /** RFC 6750 §3 `realm` of the challenges. */
  realm?: string
}

export interface ResourceServerConfig {
  /** The identifier exactly as configured. */
  resource: string
  resourceUrl: URL
  verifierOptions: VerifierOptions
  dpop: DpopMode
  dpopAlgorithms: readonly Algorithm[]
  dpopMaxAgeSeconds: number
  dpopClockToleranceSeconds: number
  dpopProofThreadPool: SignatureThreadPoolMode
  dpopNonce: { secret: Uint8Array; lifetimeSeconds: number } | undefined
  replayStore: ReplayStore | undefined
  scopes: readonly string[]
  profile: AccessTokenProfile
  authorizationServers: readonly string[]
  scopesSupported: readonly string[] | undefined
  resourceName: string | undefined
  resourceDocumentation: string | undefined
  realm: string | undefined
  maxTokenLength: number
  nowMs: () => number
}

const WHERE = 'createResourceServer'

const OWN_KEYS = optionNames<Omit<ResourceServerOptions, keyof VerifierOptions>>()([
  'resource',
  'dpop',
  'dpopAlgorithms',
  'dpopMaxAgeSeconds',
  'dpopClockToleranceSeconds',
  'dpopProofThreadPool',
  'dpopNonce',
  'replayStore',
  'scopes',
  'accessTokenProfile',
  'authorizationServers',
  'scopesSupported',
  'resourceName',
  'resourceDocumentation',
  'realm',
])

/** Set by the resource server itself: `aud` is the resource, `typ` the profile's. */
const SET_HERE = ['audience', 'typ']
// createVerifier's options that are the caller's to give.
const VERIFIER_KEYS = ALL_VERIFIER_KEYS.filter((key) => !SET_HERE.includes(key))
const ISSUER_KEYS = VERIFIER_ISSUER_KEYS.filter((key) => !SET_HERE.includes(key))
const KNOWN = [...OWN_KEYS, ...VERIFIER_KEYS]
const NONCE_KEYS = ['secret', 'lifetimeSeconds']
const DPOP_MODES: readonly DpopMode[] = ['off', 'allowed', 'required']

/** `audience` and `typ` are verifier options, but not the caller's here: say what to do instead. */
function refuseSetHere(value: Record<string, unknown>, prefix: string): void {
  if (Object.hasOwn(value, 'audience')) {
    throw optionError(WHERE, `${prefix}audience is not an option here: every token must name the resource`)
  }
  if (Object.hasOwn(value, 'typ')) {
    throw optionError(WHERE, `${prefix}typ is not an option here: choose accessTokenProfile`)
  }
}

/** RFC 8707 §2 and RFC 9728 §1.2: an absolute URL, https (http only on loopback), no fragment. */
function resourceUrl(value: unknown): URL {
  if (typeof value !== 'string' || value.length === 0) {
    throw optionError(
      WHERE,
      'resource is required: this API\'s identifier, an https URL such as "https://api.example.com"',
    )
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw optionError(
      WHERE,
      'resource must be an absolute URL (RFC 8707 §2), such as "https://api.example.com"',
    )
  }
  if (value.includes('#')) throw optionError(WHERE, 'resource must not have a fragment (RFC 8707 §2)')
  const loopback = url.protocol === 'http:' && isLoopbackHost(url.hostname)
  if (url.protocol !== 'https:' && !loopback) {
    throw optionError(WHERE, 'resource must be an https URL (http only for 127.0.0.0/8, ::1 and localhost)')
  }
  return url
}

function scopeList(value: unknown, name: string): string[] | undefined {
  const list = stringList(WHERE, name, value)
  // RFC 6749 §3.3 scope-token: printable ASCII without space, quote or backslash.
  if (list?.some((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
    throw optionError(
      WHERE,
      `${name}: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)`,
    )
  }
  return list
}

/** A duration of at least one second (fractions allowed). */
function atLeastOneSecond(value: unknown, name: string, fallback: number): number {
  const result = seconds(WHERE, name, value, fallback)
  if (result < 1) throw optionError(WHERE, `${name} must be at least 1 second`)
  return result
}

function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : nonEmptyString(WHERE, name, value)
}

function dpopNonce(value: unknown): ResourceServerConfig['dpopNonce'] {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) throw optionError(WHERE, 'dpopNonce must be { secret, lifetimeSeconds? }')
  refuseUnknownKeys(WHERE, value, NONCE_KEYS, 'dpopNonce.')
  const secret = typeof value.secret === 'string' ? Buffer.from(value.secret, 'utf8') : value.secret
  // A shorter secret could be guessed, and with it any nonce forged for any slot.
  if (!(secret instanceof Uint8Array) || secret.length < 32) {
    throw optionError(
      WHERE,
      'dpopNonce.secret must be at least 32 bytes (a string or a Uint8Array), the same on every instance',
    )
  }
  return {
    secret,
    lifetimeSeconds: atLeastOneSecond(value.lifetimeSeconds, 'dpopNonce.lifetimeSeconds', 300),
  }
}

/** Validates the options and derives the verifier's: `aud` = resource, `typ` and claims by profile. */
export function resolveResourceServerOptions(options: ResourceServerOptions): ResourceServerConfig {
  if (isPlainObject(options)) refuseSetHere(options, '')
  const raw = readOptions(WHERE, options, KNOWN)
  const resource = resourceUrl(raw.resource)
  const dpop = oneOf(WHERE, 'dpop', raw.dpop, DPOP_MODES, 'allowed')
  const dpopAlgorithms = stringList(WHERE, 'dpopAlgorithms', raw.dpopAlgorithms, { allowEmpty: false }) ?? [
    ...SUPPORTED_ALGORITHMS,
  ]
  for (const name of dpopAlgorithms) {
    if (algorithmSpec(name) === undefined) {
      throw optionError(
        WHERE,
        `dpopAlgorithms: ${JSON.stringify(name.slice(0, 32))} is not one of ${SUPPORTED_ALGORITHMS.join(', ')}`,
      )
    }
  }
  const profile = oneOf(WHERE, 'accessTokenProfile', raw.accessTokenProfile, ACCESS_TOKEN_PROFILES, 'rfc9068')
  const replayStore = raw.replayStore as ReplayStore | undefined
  if (replayStore !== undefined && typeof replayStore?.markTokenUsed !== 'function') {
    throw optionError(
      WHERE,
      'replayStore must have markTokenUsed(key, expiresAtMs) (every session store of jwks-bridge has it)',
    )
  }
  const resourceDocumentation = optionalString(raw.resourceDocumentation, 'resourceDocumentation')
  if (resourceDocumentation !== undefined && !URL.canParse(resourceDocumentation)) {
    throw optionError(WHERE, 'resourceDocumentation must be an absolute URL')
  }
  // The identifier exactly as given: tokens name it as the client asked for it (RFC 8707 §2), and
  // `aud` is compared as a string (RFC 7519 §4.1.3).
  const verifierOptions = verifierOptionsFor(raw, raw.resource as string, profile)
  const issuers: string[] = Array.isArray(raw.issuers)
    ? (raw.issuers as { issuer?: unknown }[]).map((item) => String(item?.issuer))
    : [String(raw.issuer)]
  const scopes = scopeList(raw.scopes, 'scopes') ?? []
  return {
    resource: raw.resource as string,
    resourceUrl: resource,
    verifierOptions,
    dpop,
    dpopAlgorithms: dpopAlgorithms as Algorithm[],
    dpopMaxAgeSeconds: atLeastOneSecond(raw.dpopMaxAgeSeconds, 'dpopMaxAgeSeconds', 60),
    dpopClockToleranceSeconds: seconds(WHERE, 'dpopClockToleranceSeconds', raw.dpopClockToleranceSeconds, 5),
    dpopProofThreadPool: oneOf(
      WHERE,
      'dpopProofThreadPool',
      raw.dpopProofThreadPool,
      SIGNATURE_THREAD_POOL_MODES,
      'auto',
    ),
    dpopNonce: dpopNonce(raw.dpopNonce),
    replayStore,
    scopes,
    profile,
    authorizationServers:
      stringList(WHERE, 'authorizationServers', raw.authorizationServers, { allowEmpty: false }) ?? issuers,
    scopesSupported:
      scopeList(raw.scopesSupported, 'scopesSupported') ?? (scopes.length > 0 ? scopes : undefined),
    resourceName: optionalString(raw.resourceName, 'resourceName'),
    resourceDocumentation,
    realm: optionalString(raw.realm, 'realm'),
    maxTokenLength: typeof raw.maxTokenLength === 'number' ? raw.maxTokenLength : DEFAULT_MAX_TOKEN_LENGTH,
    nowMs: functionOption<() => number>(WHERE, 'nowMs', raw.nowMs) ?? Date.now,
  }
}

function verifierOptionsFor(
  raw: Record<string, unknown>,
  audience: string,
  profile: AccessTokenProfile,
): VerifierOptions {
  const rules = verifierRulesFor(profile)
  const withRules = (claims: unknown, where: string): string[] => [
    ...new Set([...(stringList(WHERE, `${where}requiredClaims`, claims) ?? []), ...rules.requiredClaims]),
  ]
  const verifier: Record<string, unknown> = {}
  for (const key of VERIFIER_KEYS) if (raw[key] !== undefined) verifier[key] = raw[key]
  verifier.requiredClaims = withRules(raw.requiredClaims, '')
  if (rules.audience) verifier.audience = audience
  if (rules.typ !== undefined) verifier.typ = rules.typ
  if (raw.issuers !== undefined) {
    if (!Array.isArray(raw.issuers)) throw optionError(WHERE, 'issuers must be a non-empty array')
    verifier.issuers = raw.issuers.map((item: unknown, index: number) => {
      const prefix = `issuers[${index}].`
      if (!isPlainObject(item)) throw optionError(WHERE, `issuers[${index}] must be an object`)
      refuseSetHere(item, prefix)
      refuseUnknownKeys(WHERE, item, ISSUER_KEYS, prefix)
      // A per-issuer requiredClaims replaces the top-level list in the verifier: the profile's claims
      // are added to it too, so that no issuer escapes them.
      if (item.requiredClaims === undefined) return item
      return { ...item, requiredClaims: withRules(item.requiredClaims, prefix) }
    })
  }
  return verifier as VerifierOptions
}
