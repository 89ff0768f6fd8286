import { invalidOptions } from '../errors.js'
import { isLoopbackHost } from '../lib/loopback.js'
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
  /**
   * DANGEROUS. Accept an issuer whose host is not loopback (127.0.0.0/8, ::1, localhost), e.g.
   * `https://dev.example.com/dev-issuer`: anyone who can reach that address signs in under any name.
   * For a throwaway test network only; never behind a public proxy. When set, a process warning
   * (code `JWKS_BRIDGE_DEV_ISSUER_EXPOSED`) is emitted. NODE_ENV=production is refused regardless.
   */
  dangerouslyAllowNonLoopbackIssuer?: boolean
}

/** The code of the process warning emitted when the loopback guard is turned off. */
export const DEV_ISSUER_EXPOSED_WARNING = 'JWKS_BRIDGE_DEV_ISSUER_EXPOSED'

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
  /** The loopback guard is off (`dangerouslyAllowNonLoopbackIssuer`). */
  guardOff: boolean
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
  'dangerouslyAllowNonLoopbackIssuer',
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

/**
 * Refuses an issuer whose host is not loopback. The provider signs anyone in under any name, so it is
 * safe only where nobody else can reach it; an app behind a reverse proxy listens on 127.0.0.1 yet is
 * public, so the listening address proves nothing: the issuer URL is where browsers reach it.
 */
function refuseNonLoopbackIssuer(url: URL, dangerouslyAllow: unknown): void {
  if (dangerouslyAllow !== undefined && typeof dangerouslyAllow !== 'boolean') {
    throw invalidOptions('dangerouslyAllowNonLoopbackIssuer must be true or false')
  }
  if (dangerouslyAllow === true || isLoopbackHost(url.hostname)) return
  throw invalidOptions(
    `issuer host ${JSON.stringify(url.hostname)} is not loopback: the development identity provider ` +
      'signs anyone in under any name, so it serves only 127.0.0.0/8, ::1 or localhost. Trust a real ' +
      'identity provider for a public site; for a throwaway test network only, set ' +
      'dangerouslyAllowNonLoopbackIssuer: true (startDevIssuer: allowNonLoopback; CLI: ' +
      '--allow-non-loopback; reference app: DANGEROUSLY_EXPOSE_DEV_ISSUER=true)',
  )
}

/**
 * The warning for a provider whose loopback guard is off. Loud on purpose: whoever reads the
 * process's output learns that anyone who reaches it signs in as anyone.
 */
export function warnGuardOff(origin: string): void {
  process.emitWarning(
    `the development identity provider at ${origin} signs anyone in under any name and its loopback ` +
      'guard is turned off (dangerouslyAllowNonLoopbackIssuer, --allow-non-loopback or ' +
      'DANGEROUSLY_EXPOSE_DEV_ISSUER): anyone who reaches it signs in as anyone. ' +
      'Never expose it on a public address; configure a real identity provider instead.',
    { code: DEV_ISSUER_EXPOSED_WARNING },
  )
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
  refuseNonLoopbackIssuer(url, options.dangerouslyAllowNonLoopbackIssuer)

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
    guardOff: options.dangerouslyAllowNonLoopbackIssuer === true,
  }
}
