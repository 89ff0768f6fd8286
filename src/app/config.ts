import type { ForwardAuthOptions } from '../bridge/forward-auth-options.js'
import { invalidOptions } from '../errors.js'
import { type Algorithm, algorithmSpec } from '../jose/algorithms.js'
import { isLoopbackHost } from '../lib/loopback.js'
import type { AccessTokenProfile } from '../resource-server/access-token.js'
import type { DpopMode } from '../resource-server/challenge.js'
import { parsePublicPaths } from './public-paths.js'
import { type ClusterSeed, parseClusterSeeds } from './redis-client.js'

/** The reference app's settings, read from the environment (see docs/operations.md "Configuration"). */
export interface AppConfig {
  port: number
  host: string
  /** The app's own origin as the browser sees it, e.g. http://127.0.0.1:3000. */
  publicUrl: string
  /** Undefined: use the built-in development identity provider. */
  issuer: { url: string; jwksUri: string | undefined } | undefined
  audience: string | undefined
  algorithms: Algorithm[]
  profile: 'generic' | 'oidc-id-token' | 'supertokens'
  /** PostgreSQL for identities and sessions; undefined: SQLite under ./data/. */
  databaseUrl: string | undefined
  sqlitePath: string
  /** Redis for sessions and the replay guard. */
  redisUrl: string | undefined
  /** A Redis Cluster instead (REDIS_CLUSTER_NODES, comma-separated host:port seeds). */
  redisClusterNodes?: ClusterSeed[] | undefined
  trustProxy: boolean
  production: boolean
  /** Mount the development identity provider at /dev-issuer (only without ISSUER_URL, never in production). */
  devIssuer: boolean
  /**
   * DANGEROUSLY_EXPOSE_DEV_ISSUER=true: the development provider's loopback guard is off (it then
   * warns at start). Never in production.
   */
  devIssuerExposed?: boolean
  /** PostgreSQL schema for the tables (DATABASE_SCHEMA); undefined: the connection's search_path. */
  databaseSchema?: string | undefined
  /** Prefix of every Redis key the app writes (REDIS_PREFIX). Default `jwks-bridge:`. */
  redisPrefix?: string
  /**
   * `/metrics` (METRICS): 'auto' (default) serves it when prom-client is installed, 'on' requires it,
   * 'off' turns it off.
   */
  metrics?: 'auto' | 'on' | 'off'
  /** When set (METRICS_TOKEN), `/metrics` needs `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined
  /** How long a shutdown may wait for in-flight requests (SHUTDOWN_TIMEOUT_SECONDS). Default 10 s. */
  shutdownTimeoutMs?: number
  /**
   * Time between two cleanups of expired sessions and replay records (CLEANUP_INTERVAL_SECONDS).
   * Default 300; 0 turns the cleanup off (another process must then clean the stores).
   */
  cleanupIntervalSeconds?: number
  /**
   * What a Redis whose maxmemory-policy may evict keys gets at start (REDIS_EVICTION): 'warn' (default)
   * logs it, 'refuse' stops the app.
   */
  redisEviction?: 'warn' | 'refuse'
  /** With API_RESOURCE: `GET /api/me` takes access tokens (Bearer or DPoP) for this resource. */
  api?: ApiConfig | undefined
  /** Reverse-proxy mode (UPSTREAM_URL): every request the app does not answer goes to the upstream. */
  proxy?: ProxyConfig | undefined
  /** Identity header names (AUTH_SUBJECT_HEADER, ...): the forward-auth check's and the proxy's. */
  forwardAuth?: ForwardAuthOptions
}

/** The app as an OAuth 2.0 resource server (API_RESOURCE, API_SCOPES, API_DPOP, API_TOKEN_PROFILE). */
export interface ApiConfig {
  /** This API's identifier: every access token's `aud` must name it (RFC 8707, RFC 9068). */
  resource: string
  /** Scopes every API request needs. */
  scopes: string[]
  dpop: DpopMode
  profile: AccessTokenProfile
}

function apiConfig(env: Record<string, string | undefined>): ApiConfig | undefined {
  const resource = env.API_RESOURCE || undefined
  const others = ['API_SCOPES', 'API_DPOP', 'API_TOKEN_PROFILE'].filter((name) => env[name])
  if (resource === undefined) {
    // A setting that would do nothing is a mistake better caught at start.
    if (others.length > 0) throw invalidOptions(`${others.join(', ')} need API_RESOURCE`)
    return undefined
  }
  const dpop = (env.API_DPOP || 'allowed') as DpopMode
  if (!['off', 'allowed', 'required'].includes(dpop))
    throw invalidOptions('API_DPOP must be off, allowed or required')
  const profile = (env.API_TOKEN_PROFILE || 'rfc9068') as AccessTokenProfile
  if (!['rfc9068', 'generic', 'cognito'].includes(profile)) {
    throw invalidOptions('API_TOKEN_PROFILE must be rfc9068, generic or cognito')
  }
  // Space- or comma-separated, as scopes are written in tokens (RFC 6749 §3.3) or in lists.
  const scopes = (env.API_SCOPES ?? '').split(/[\s,]+/).filter((scope) => scope.length > 0)
  return { resource, scopes, dpop, profile }
}

/** The reverse proxy's settings (docs/forward-auth.md). */
export interface ProxyConfig {
  /** The upstream's origin, e.g. http://127.0.0.1:4000 (UPSTREAM_URL). */
  upstream: string
  /** Path prefixes that reach the upstream without a session (PUBLIC_PATHS). */
  publicPaths: readonly string[]
  /** Bound on connecting to the upstream and on waiting for its headers (UPSTREAM_TIMEOUT_SECONDS). */
  timeoutMs: number
  /** INJECT_META_TAGS=true: the proxy writes the meta tags into the upstream's HTML pages. */
  injectMetaTags?: boolean
}

const PROFILES = ['generic', 'oidc-id-token', 'supertokens'] as const

// What createPostgresStores accepts: a plain identifier, never quoted or interpolated SQL.
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
// Printable ASCII without spaces: a prefix ends up in every key and in `SCAN MATCH` patterns.
const REDIS_PREFIX = /^[!-~]{1,64}$/

function metricsSetting(value: string | undefined): 'auto' | 'on' | 'off' {
  if (value === undefined || value === '') return 'auto'
  if (value === 'true') return 'on'
  if (value === 'false') return 'off'
  throw invalidOptions('METRICS must be true or false (unset: served when prom-client is installed)')
}

function metricsToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  // A bearer token (RFC 6750 §2.1 b64token), long enough not to be guessed.
  if (!/^[A-Za-z0-9\-._~+/]{16,256}=*$/.test(value)) {
    throw invalidOptions('METRICS_TOKEN must be 16 to 256 token characters (letters, digits, -._~+/)')
  }
  return value
}

/** A number of seconds from the environment (above 0, at most an hour), in milliseconds. */
function secondsAsMs(value: string | undefined, name: string, fallbackMs: number): number {
  if (value === undefined || value === '') return fallbackMs
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0 || n > 3600) {
    throw invalidOptions(`${name} must be a number of seconds above 0 (at most 3600)`)
  }
  return Math.round(n * 1000)
}

const EXPOSE = 'DANGEROUSLY_EXPOSE_DEV_ISSUER'
const TO_FIX = `set ISSUER_URL to trust a real identity provider (or, on a throwaway test network only, ${EXPOSE}=true)`

/** The escape hatch, spelled out in full or not at all. */
function exposeDevIssuer(env: Record<string, string | undefined>): boolean {
  if (env.ALLOW_DEV_ISSUER_ON_NETWORK !== undefined && env.ALLOW_DEV_ISSUER_ON_NETWORK !== '') {
    throw invalidOptions(`ALLOW_DEV_ISSUER_ON_NETWORK is gone; ${TO_FIX}`)
  }
  const value = env[EXPOSE]
  if (value === undefined || value === '') return false
  if (value !== 'true') throw invalidOptions(`${EXPOSE} must be true or unset`)
  return true
}

/**
 * The development provider signs anyone in under any name, so it runs only where nobody else can
 * reach it. The listening HOST alone proves nothing: an app behind a reverse proxy listens on
 * 127.0.0.1 and is public. So the URL browsers use (PUBLIC_URL) must be loopback too, and a trusted
 * proxy (TRUST_PROXY) means the app is reached through another machine: refused.
 */
function refuseExposedDevIssuer(host: string, publicUrl: string, trustProxy: boolean): void {
  if (!isLoopbackHost(host)) {
    throw invalidOptions(
      `HOST ${JSON.stringify(host)} is not loopback and the development identity provider (no ISSUER_URL) signs anyone in under any name; ${TO_FIX}`,
    )
  }
  let publicHost: string
  try {
    publicHost = new URL(publicUrl).hostname
  } catch {
    throw invalidOptions('PUBLIC_URL must be a URL, e.g. http://127.0.0.1:3000')
  }
  if (!isLoopbackHost(publicHost)) {
    throw invalidOptions(
      `PUBLIC_URL's host ${JSON.stringify(publicHost)} is not loopback and the development identity provider (no ISSUER_URL) signs anyone in under any name; ${TO_FIX}`,
    )
  }
  if (trustProxy) {
    throw invalidOptions(
      `TRUST_PROXY=true puts the app behind a proxy, and the development identity provider (no ISSUER_URL) signs anyone in under any name; ${TO_FIX}`,
    )
  }
}

function cleanupSeconds(value: string | undefined): number {
  if (value === undefined || value === '') return 300
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0 || n > 86_400) {
    throw invalidOptions('CLEANUP_INTERVAL_SECONDS must be a whole number of seconds from 0 (off) to 86400')
  }
  return n
}

function clusterNodes(value: string | undefined): ClusterSeed[] | undefined {
  if (!value) return undefined
  const seeds = parseClusterSeeds(value)
  if (seeds === undefined) {
    throw invalidOptions(
      'REDIS_CLUSTER_NODES must be comma-separated host:port pairs, e.g. 10.0.0.1:6379,10.0.0.2:6379',
    )
  }
  return seeds
}

function redisEviction(value: string | undefined): 'warn' | 'refuse' {
  if (value === undefined || value === '' || value === 'warn') return 'warn'
  if (value === 'refuse') return 'refuse'
  throw invalidOptions('REDIS_EVICTION must be warn or refuse')
}

function upstreamUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidOptions('UPSTREAM_URL must be a URL like http://127.0.0.1:4000')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidOptions('UPSTREAM_URL must be an http:// or https:// URL')
  }
  // Credentials in the URL would be logged and sent on every request; a path would have to be
  // rewritten on every Location header: an origin only.
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw invalidOptions(
      'UPSTREAM_URL must be an origin only (scheme, host, port), e.g. http://127.0.0.1:4000',
    )
  }
  return url.origin
}

/** AUTH_CLAIM_HEADERS: `claim=Header-Name` pairs, comma-separated; names are checked by createBridge. */
function claimHeaders(value: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of value.split(',')) {
    const [claim, header, extra] = pair.split('=').map((part) => part.trim())
    if (!claim || !header || extra !== undefined) {
      throw invalidOptions(
        'AUTH_CLAIM_HEADERS must be claim=Header-Name pairs, e.g. email=X-Auth-Email,name=X-Auth-Name',
      )
    }
    out[claim] = header
  }
  return out
}

function forwardAuthOptions(env: Record<string, string | undefined>): ForwardAuthOptions {
  const options: ForwardAuthOptions = { signInPath: SIGN_IN_PATH }
  if (env.AUTH_SUBJECT_HEADER) options.subjectHeader = env.AUTH_SUBJECT_HEADER
  if (env.AUTH_ISSUER_HEADER) options.issuerHeader = env.AUTH_ISSUER_HEADER
  if (env.AUTH_IDENTITY_ID_HEADER) options.identityIdHeader = env.AUTH_IDENTITY_ID_HEADER
  if (env.AUTH_CLAIM_HEADERS) options.claimHeaders = claimHeaders(env.AUTH_CLAIM_HEADERS)
  return options
}

/** The reference app's sign-in page, where the check and the proxy send browsers without a session. */
export const SIGN_IN_PATH = '/auth/sign-in'

function proxyConfig(env: Record<string, string | undefined>): ProxyConfig | undefined {
  const publicPaths = parsePublicPaths(env.PUBLIC_PATHS)
  if (!env.UPSTREAM_URL) {
    if (publicPaths.length > 0) throw invalidOptions('PUBLIC_PATHS needs UPSTREAM_URL (the reverse proxy)')
    if (env.INJECT_META_TAGS) throw invalidOptions('INJECT_META_TAGS needs UPSTREAM_URL (the reverse proxy)')
    return undefined
  }
  const inject = env.INJECT_META_TAGS ?? ''
  if (inject !== '' && inject !== 'true' && inject !== 'false') {
    throw invalidOptions('INJECT_META_TAGS must be true or false')
  }
  return {
    upstream: upstreamUrl(env.UPSTREAM_URL),
    publicPaths,
    timeoutMs: secondsAsMs(env.UPSTREAM_TIMEOUT_SECONDS, 'UPSTREAM_TIMEOUT_SECONDS', 30_000),
    injectMetaTags: inject === 'true',
  }
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw invalidOptions(`${name} must be a port number (0-65535)`)
  return n
}

/**
 * Reads and checks the app's configuration. Throws ERR_INVALID_OPTIONS naming the variable at fault,
 * so a mistake stops the app at start rather than failing sign-ins later.
 */
export function readConfig(env: Record<string, string | undefined>): AppConfig {
  const production = env.NODE_ENV === 'production'
  const host = env.HOST || '127.0.0.1'
  const listenPort = port(env.PORT, 'PORT', 3000)
  const shownHost = host.includes(':') ? `[${host}]` : host
  const publicUrl = (env.PUBLIC_URL || `http://${shownHost}:${listenPort}`).replace(/\/+$/, '')
  const issuerUrl = env.ISSUER_URL || undefined
  if (production && issuerUrl === undefined) {
    throw invalidOptions(
      'ISSUER_URL is required with NODE_ENV=production (the development provider never runs there)',
    )
  }
  const algorithms = (env.ALGORITHMS || 'RS256').split(',').map((a) => a.trim())
  for (const name of algorithms) {
    if (algorithmSpec(name) === undefined)
      throw invalidOptions(`ALGORITHMS: ${JSON.stringify(name)} is not supported`)
  }
  const profile = (env.TOKEN_PROFILE || 'generic') as AppConfig['profile']
  if (!PROFILES.includes(profile)) throw invalidOptions(`TOKEN_PROFILE must be one of ${PROFILES.join(', ')}`)
  if (profile === 'oidc-id-token' && !env.AUDIENCE)
    throw invalidOptions('TOKEN_PROFILE=oidc-id-token needs AUDIENCE')
  const devIssuer = issuerUrl === undefined
  const devIssuerExposed = devIssuer && exposeDevIssuer(env)
  if (devIssuer && !devIssuerExposed) refuseExposedDevIssuer(host, publicUrl, env.TRUST_PROXY === 'true')
  const databaseSchema = env.DATABASE_SCHEMA || undefined
  if (databaseSchema !== undefined && !SCHEMA_NAME.test(databaseSchema)) {
    throw invalidOptions('DATABASE_SCHEMA must be a plain identifier: letters, digits and _, at most 63')
  }
  const redisPrefix = env.REDIS_PREFIX || 'jwks-bridge:'
  if (!REDIS_PREFIX.test(redisPrefix)) {
    throw invalidOptions('REDIS_PREFIX must be 1 to 64 printable characters without spaces')
  }
  const redisClusterNodes = clusterNodes(env.REDIS_CLUSTER_NODES)
  if (redisClusterNodes !== undefined && env.REDIS_URL) {
    throw invalidOptions('set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both')
  }
  return {
    port: listenPort,
    host,
    publicUrl,
    issuer: issuerUrl === undefined ? undefined : { url: issuerUrl, jwksUri: env.JWKS_URI || undefined },
    audience: env.AUDIENCE || undefined,
    algorithms: algorithms as Algorithm[],
    profile,
    databaseUrl: env.DATABASE_URL || undefined,
    sqlitePath: env.SQLITE_PATH || './data/jwks-bridge.sqlite',
    redisUrl: env.REDIS_URL || undefined,
    ...(redisClusterNodes === undefined ? {} : { redisClusterNodes }),
    trustProxy: env.TRUST_PROXY === 'true',
    production,
    devIssuer,
    ...(devIssuerExposed ? { devIssuerExposed } : {}),
    databaseSchema,
    redisPrefix,
    metrics: metricsSetting(env.METRICS),
    metricsToken: metricsToken(env.METRICS_TOKEN),
    shutdownTimeoutMs: secondsAsMs(env.SHUTDOWN_TIMEOUT_SECONDS, 'SHUTDOWN_TIMEOUT_SECONDS', 10_000),
    cleanupIntervalSeconds: cleanupSeconds(env.CLEANUP_INTERVAL_SECONDS),
    redisEviction: redisEviction(env.REDIS_EVICTION),
    api: apiConfig(env),
    proxy: proxyConfig(env),
    forwardAuth: forwardAuthOptions(env),
  }
}
