import { invalidOptions } from '../errors.js'
import {
  functionOption,
  integerInRange,
  oneOf,
  optionError,
  optionNames,
  readOptions,
} from '../lib/options.js'

/** Signing algorithms the development provider can use. */
export type DevIssuerAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

/**
 * The shape of the tokens it mints:
 * - `generic`: an OpenID-style token, `{ iss, sub, aud?, iat, exp, sid }`;
 * - `supertokens`: a SuperTokens V5 access token (header `version: "5"`, `kid: "d-<millis>"`,
 *   `sessionHandle`, `rsub`, `tId`, `refreshTokenHash1`...), as supertokens-node >= 14 issues them.
 */
export type DevIssuerProfile = 'generic' | 'supertokens'

export const DEV_ISSUER_ALGORITHMS: readonly DevIssuerAlgorithm[] = Object.freeze(['RS256', 'ES256', 'EdDSA'])
export const DEV_ISSUER_PROFILES: readonly DevIssuerProfile[] = Object.freeze(['generic', 'supertokens'])

export interface DevIssuerOptions {
  /**
   * The issuer URL: the tokens' `iss`, and the base of every endpoint. When mounted in an app, e.g.
   * `http://127.0.0.1:3000/dev-issuer`. No query, fragment or credentials.
   */
  issuer: string
  /** Signing algorithm. Default `RS256`; the `supertokens` profile allows only RS256, as SuperTokens. */
  alg?: DevIssuerAlgorithm
  /** Token shape. Default `generic`. */
  profile?: DevIssuerProfile
  /** Lifetime of each token (`exp - iat`), in seconds. Default 3600, at most 86400. */
  tokenLifetimeSeconds?: number
  /** Put in the tokens' `aud` when given. */
  audience?: string
  /** Clock, in milliseconds since the epoch. Default `Date.now`. */
  nowMs?: () => number
  /** Where NODE_ENV is read. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>
}

/** Options after validation. */
export interface DevIssuerConfig {
  /** Exactly as given: the `iss` of every token. */
  issuer: string
  /** The issuer URL without a trailing slash: endpoint URLs are `${base}/...`. */
  base: string
  /** The issuer's origin (scheme, host, port). */
  origin: string
  /** The issuer's path without a trailing slash: '' at the root, e.g. '/dev-issuer' when mounted. */
  basePath: string
  /** Whether the issuer is served over https (the session cookie then gets `Secure`). */
  secure: boolean
  alg: DevIssuerAlgorithm
  profile: DevIssuerProfile
  tokenLifetimeSeconds: number
  audience: string | undefined
  nowMs: () => number
}

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
const MAX_TOKEN_LIFETIME_SECONDS = 86_400

const WHERE = 'createDevIssuer'
const DEV_ISSUER_KEYS = optionNames<DevIssuerOptions>()([
  'issuer',
  'alg',
  'profile',
  'tokenLifetimeSeconds',
  'audience',
  'nowMs',
  'env',
])

/**
 * Refuses to run in production. Anyone who can reach this provider signs in as anyone they like by
 * typing a name: a deployment that mounted it by mistake would accept forged identities
 * (the better-auth rule: development defaults are refused when NODE_ENV=production).
 */
export function refuseProduction(env: Readonly<Record<string, string | undefined>>): void {
  if (env.NODE_ENV === 'production') {
    throw invalidOptions(
      'the development identity provider refuses to run with NODE_ENV=production: it signs anyone in ' +
        'under any name; configure a real identity provider (ISSUER_URL) instead',
    )
  }
}

export function resolveDevIssuerOptions(options: DevIssuerOptions): DevIssuerConfig {
  // Unknown names are refused: a misspelt `audiance` would mint tokens without the audience asked for.
  readOptions(WHERE, options, DEV_ISSUER_KEYS)
  refuseProduction(options.env ?? process.env)

  if (typeof options.issuer !== 'string') throw optionError(WHERE, 'issuer must be a URL string')
  let url: URL
  try {
    url = new URL(options.issuer)
  } catch {
    throw optionError(WHERE, 'issuer is not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw optionError(WHERE, 'issuer must be an http: or https: URL')
  }
  if (url.username !== '' || url.password !== '') {
    throw optionError(WHERE, 'issuer must not contain credentials')
  }
  // OpenID Connect Discovery 1.0 §3: the issuer has no query or fragment component.
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(options.issuer)) {
    throw optionError(WHERE, 'issuer must not contain a query or a fragment')
  }
  const basePath = url.pathname.replace(/\/+$/, '')

  const alg = oneOf(WHERE, 'alg', options.alg, DEV_ISSUER_ALGORITHMS, 'RS256')
  const profile = oneOf(WHERE, 'profile', options.profile, DEV_ISSUER_PROFILES, 'generic')
  // SuperTokens signs access tokens with RS256 only (core JWTSigningFunctions); another algorithm
  // would make tokens no SuperTokens deployment ever issues.
  if (profile === 'supertokens' && alg !== 'RS256') {
    throw optionError(WHERE, 'the supertokens profile signs with RS256 only, as SuperTokens does; drop alg')
  }

  const lifetime = integerInRange(
    WHERE,
    'tokenLifetimeSeconds',
    options.tokenLifetimeSeconds,
    DEFAULT_TOKEN_LIFETIME_SECONDS,
    1,
    MAX_TOKEN_LIFETIME_SECONDS,
  )
  if (options.audience !== undefined && (typeof options.audience !== 'string' || options.audience === '')) {
    throw optionError(WHERE, 'audience must be a non-empty string when given')
  }
  const nowMs = functionOption<() => number>(WHERE, 'nowMs', options.nowMs)

  return {
    issuer: options.issuer,
    base: `${url.origin}${basePath}`,
    origin: url.origin,
    basePath,
    secure: url.protocol === 'https:',
    alg,
    profile,
    tokenLifetimeSeconds: lifetime,
    audience: options.audience,
    nowMs: nowMs ?? Date.now,
  }
}
