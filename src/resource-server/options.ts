/**
 * `createResourceServer` options: their types, and their validation (eager, in the factory; unknown
 * keys refused). Self-contained on purpose; the verifier's own options pass through to
 * `createVerifier`, which checks them under its rules.
 */
import { invalidOptions } from '../errors.js'
import { type Algorithm, algorithmSpec, SUPPORTED_ALGORITHMS } from '../jose/algorithms.js'
import { DEFAULT_MAX_TOKEN_LENGTH } from '../jose/compact.js'
import { isLoopbackHost } from '../lib/loopback.js'
import type { IssuerOptions, VerifierOptions } from '../verifier/options.js'
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

const OWN_KEYS = [
  'resource',
  'dpop',
  'dpopAlgorithms',
  'dpopMaxAgeSeconds',
  'dpopClockToleranceSeconds',
  'dpopNonce',
  'replayStore',
  'scopes',
  'accessTokenProfile',
  'authorizationServers',
  'scopesSupported',
  'resourceName',
  'resourceDocumentation',
  'realm',
] as const

// createVerifier's options that are the caller's to give (audience and typ are the resource server's).
const VERIFIER_KEYS = [
  'issuer',
  'jwks',
  'jwksUri',
  'issuers',
  'algorithms',
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
  'maxTokenLength',
  'tokenCache',
  'signatureThreadPool',
  'nowMs',
  'onKeyRejected',
  'fetch',
  'keySetCache',
  'onEvent',
] as const

const ISSUER_KEYS = new Set<string>(
  VERIFIER_KEYS.filter(
    (key) =>
      ![
        'issuers',
        'maxTokenLength',
        'tokenCache',
        'signatureThreadPool',
        'nowMs',
        'onKeyRejected',
        'fetch',
        'keySetCache',
        'onEvent',
      ].includes(key),
  ),
)
const KNOWN = new Set<string>([...OWN_KEYS, ...VERIFIER_KEYS])

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function refuseUnknown(raw: Record<string, unknown>, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(raw)) {
    if (known.has(key)) continue
    const shown = JSON.stringify(key.slice(0, 40))
    if (key === 'audience') {
      throw invalidOptions(
        `${where}audience is not an option of createResourceServer: every token must name the resource`,
      )
    }
    if (key === 'typ')
      throw invalidOptions(`${where}typ is not an option of createResourceServer: choose accessTokenProfile`)
    throw invalidOptions(`${where}unknown option ${shown}`)
  }
}

/** RFC 8707 §2 and RFC 9728 §1.2: an absolute URL, https (http only on loopback), no fragment. */
function resourceUrl(value: unknown): URL {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidOptions(
      'resource is required: this API\'s identifier, an https URL such as "https://api.example.com"',
    )
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidOptions('resource must be an absolute URL (RFC 8707 §2), such as "https://api.example.com"')
  }
  if (value.includes('#')) throw invalidOptions('resource must not have a fragment (RFC 8707 §2)')
  const loopback = url.protocol === 'http:' && isLoopbackHost(url.hostname)
  if (url.protocol !== 'https:' && !loopback) {
    throw invalidOptions('resource must be an https URL (http only for 127.0.0.0/8, ::1 and localhost)')
  }
  return url
}

function stringArray(value: unknown, name: string, allowEmpty = true): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw invalidOptions(`${name} must be an array of non-empty strings`)
  }
  if (!allowEmpty && value.length === 0) throw invalidOptions(`${name} must not be empty`)
  return [...value] as string[]
}

function scopeList(value: unknown, name: string): string[] | undefined {
  const list = stringArray(value, name)
  // RFC 6749 §3.3 scope-token: printable ASCII without space, quote or backslash.
  if (list?.some((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
    throw invalidOptions(
      `${name}: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)`,
    )
  }
  return list
}

function seconds(value: unknown, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalidOptions(`${name} must be a finite number of seconds >= ${min}`)
  }
  return value
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0)
    throw invalidOptions(`${name} must be a non-empty string`)
  return value
}

function dpopNonce(value: unknown): ResourceServerConfig['dpopNonce'] {
  if (value === undefined) return undefined
  if (!isObject(value)) throw invalidOptions('dpopNonce must be { secret, lifetimeSeconds? }')
  refuseUnknown(value, new Set(['secret', 'lifetimeSeconds']), 'dpopNonce.')
  const secret = typeof value.secret === 'string' ? Buffer.from(value.secret, 'utf8') : value.secret
  // A shorter secret could be guessed, and with it any nonce forged for any slot.
  if (!(secret instanceof Uint8Array) || secret.length < 32) {
    throw invalidOptions(
      'dpopNonce.secret must be at least 32 bytes (a string or a Uint8Array), the same on every instance',
    )
  }
  return { secret, lifetimeSeconds: seconds(value.lifetimeSeconds, 'dpopNonce.lifetimeSeconds', 300, 1) }
}

/** Validates the options and derives the verifier's: `aud` = resource, `typ` and claims by profile. */
export function resolveResourceServerOptions(options: ResourceServerOptions): ResourceServerConfig {
  if (!isObject(options)) throw invalidOptions('options must be an object')
  const raw = options as unknown as Record<string, unknown>
  refuseUnknown(raw, KNOWN, '')
  const resource = resourceUrl(raw.resource)
  const dpop = raw.dpop ?? 'allowed'
  if (dpop !== 'off' && dpop !== 'allowed' && dpop !== 'required') {
    throw invalidOptions('dpop must be "off", "allowed" or "required"')
  }
  const dpopAlgorithms = stringArray(raw.dpopAlgorithms, 'dpopAlgorithms', false) ?? [...SUPPORTED_ALGORITHMS]
  for (const name of dpopAlgorithms) {
    if (algorithmSpec(name) === undefined) {
      throw invalidOptions(
        `dpopAlgorithms: ${JSON.stringify(name.slice(0, 32))} is not one of ${SUPPORTED_ALGORITHMS.join(', ')}`,
      )
    }
  }
  const profile = raw.accessTokenProfile ?? 'rfc9068'
  if (!ACCESS_TOKEN_PROFILES.includes(profile as AccessTokenProfile)) {
    throw invalidOptions(`accessTokenProfile must be one of ${ACCESS_TOKEN_PROFILES.join(', ')}`)
  }
  const replayStore = raw.replayStore as ReplayStore | undefined
  if (replayStore !== undefined && typeof replayStore?.markTokenUsed !== 'function') {
    throw invalidOptions(
      'replayStore must have markTokenUsed(key, expiresAtMs) (every session store of jwks-bridge has it)',
    )
  }
  const resourceDocumentation = optionalString(raw.resourceDocumentation, 'resourceDocumentation')
  if (resourceDocumentation !== undefined && !URL.canParse(resourceDocumentation)) {
    throw invalidOptions('resourceDocumentation must be an absolute URL')
  }
  // The identifier exactly as given: tokens name it as the client asked for it (RFC 8707 §2), and
  // `aud` is compared as a string (RFC 7519 §4.1.3).
  const verifierOptions = verifierOptionsFor(raw, raw.resource as string, profile as AccessTokenProfile)
  const issuers: string[] = Array.isArray(raw.issuers)
    ? (raw.issuers as { issuer?: unknown }[]).map((item) => String(item?.issuer))
    : [String(raw.issuer)]
  const scopes = scopeList(raw.scopes, 'scopes') ?? []
  if (raw.nowMs !== undefined && typeof raw.nowMs !== 'function')
    throw invalidOptions('nowMs must be a function')
  return {
    resource: raw.resource as string,
    resourceUrl: resource,
    verifierOptions,
    dpop,
    dpopAlgorithms: dpopAlgorithms as Algorithm[],
    dpopMaxAgeSeconds: seconds(raw.dpopMaxAgeSeconds, 'dpopMaxAgeSeconds', 60, 1),
    dpopClockToleranceSeconds: seconds(raw.dpopClockToleranceSeconds, 'dpopClockToleranceSeconds', 5),
    dpopNonce: dpopNonce(raw.dpopNonce),
    replayStore,
    scopes,
    profile: profile as AccessTokenProfile,
    authorizationServers: stringArray(raw.authorizationServers, 'authorizationServers', false) ?? issuers,
    scopesSupported:
      scopeList(raw.scopesSupported, 'scopesSupported') ?? (scopes.length > 0 ? scopes : undefined),
    resourceName: optionalString(raw.resourceName, 'resourceName'),
    resourceDocumentation,
    realm: optionalString(raw.realm, 'realm'),
    maxTokenLength: typeof raw.maxTokenLength === 'number' ? raw.maxTokenLength : DEFAULT_MAX_TOKEN_LENGTH,
    nowMs: (raw.nowMs as (() => number) | undefined) ?? Date.now,
  }
}

function verifierOptionsFor(
  raw: Record<string, unknown>,
  audience: string,
  profile: AccessTokenProfile,
): VerifierOptions {
  const rules = verifierRulesFor(profile)
  const withRules = (claims: unknown, where: string): string[] => [
    ...new Set([...(stringArray(claims, `${where}requiredClaims`) ?? []), ...rules.requiredClaims]),
  ]
  const verifier: Record<string, unknown> = {}
  for (const key of VERIFIER_KEYS) if (raw[key] !== undefined) verifier[key] = raw[key]
  verifier.requiredClaims = withRules(raw.requiredClaims, '')
  if (rules.audience) verifier.audience = audience
  if (rules.typ !== undefined) verifier.typ = rules.typ
  if (raw.issuers !== undefined) {
    if (!Array.isArray(raw.issuers)) throw invalidOptions('issuers must be a non-empty array')
    verifier.issuers = raw.issuers.map((item: unknown, index: number) => {
      if (!isObject(item)) throw invalidOptions(`issuers[${index}] must be an object`)
      refuseUnknown(item, ISSUER_KEYS, `issuers[${index}].`)
      // A per-issuer requiredClaims replaces the top-level list in the verifier: the profile's claims
      // are added to it too, so that no issuer escapes them.
      if (item.requiredClaims === undefined) return item
      return { ...item, requiredClaims: withRules(item.requiredClaims, `issuers[${index}].`) }
    })
  }
  return verifier as VerifierOptions
}
