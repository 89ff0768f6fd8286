import { invalidOptions } from '../errors.js'
import { type Algorithm, algorithmSpec } from '../jose/algorithms.js'
import { isLoopbackHost } from '../keys/url-policy.js'

/** The reference app's settings, read from the environment (see README "Configuration"). */
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
  trustProxy: boolean
  production: boolean
  /** Mount the development identity provider at /dev-issuer (only without ISSUER_URL, never in production). */
  devIssuer: boolean
}

const PROFILES = ['generic', 'oidc-id-token', 'supertokens'] as const

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
  if (devIssuer && !isLoopbackHost(host) && env.ALLOW_DEV_ISSUER_ON_NETWORK !== 'true') {
    throw invalidOptions(
      'the development identity provider only runs on a loopback HOST; set ISSUER_URL to trust a real provider',
    )
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
    trustProxy: env.TRUST_PROXY === 'true',
    production,
    devIssuer,
  }
}
