/**
 * createBridge options: types, eager validation (ERR_INVALID_OPTIONS at start-up, not a 500 on the
 * first sign-in) and defaults.
 */
import { invalidOptions } from '../errors.js'
import type { PolicyOptions, VerifierOptions } from '../options.js'
import type { IdentityStore, SessionStore } from '../stores/types.js'
import { createVerifier, type Verifier } from '../verifier.js'
import { type CookieConfig, cookieOptionProblem, DEFAULT_COOKIE_NAME } from './cookies.js'
import { logoutVerifierOptions } from './logout-verifier.js'
import { genericProfile } from './profiles.js'
import { normalizeOrigin } from './request-guard.js'
import type { SessionPolicy } from './sessions.js'
import type { BridgeLogger, TokenProfile } from './types.js'

export interface BridgeOptions {
  /**
   * How sign-in tokens are verified: a Verifier from `createVerifier`, or its options. Given options,
   * the bridge creates the verifier and adds the profile's `verifierOptions` (yours win, required
   * claims are merged); given a Verifier, the profile's `check` still runs but its verifier options
   * cannot be applied.
   */
  verifier: Verifier | VerifierOptions
  identities: IdentityStore
  sessions: SessionStore
  /** Which tokens sign someone in. Default: the `generic` profile (iss, sub, exp required). */
  profile?: TokenProfile
  /** Where the handoff (PUT/POST) and sign-out (DELETE) live. Default `/auth`. */
  authPath?: string
  /** Mount the OpenID Connect Back-Channel Logout endpoint. Default false. */
  backChannelLogout?: boolean
  /** Default `/auth/backchannel-logout`. */
  backChannelLogoutPath?: string
  /**
   * How logout tokens are verified. Default: derived from the sign-in verifier's options, the profile's
   * included (same issuers, keys and audience; `typ` logout+jwt; `iat`, `jti`, `events`, `aud`
   * required). Required when `verifier` is a Verifier instance, whose keys the bridge cannot see.
   */
  logoutVerifier?: Verifier | VerifierOptions
  /** Oldest sign-in token accepted, from `iat`: the replay guard's age limit. Default 120. */
  maxTokenAgeSeconds?: number
  /** Claims copied into the identity at each sign-in. Default `['email', 'name', 'email_verified']`. */
  claimsSnapshot?: readonly string[]
  /** A session ends this long after sign-in, whatever the activity. Default 7 days. */
  absoluteLifetimeSeconds?: number
  /** A session ends after this long without a request. Default 24 hours. */
  idleTimeoutSeconds?: number
  /** Activity is written at most once per this interval. Default 1 hour; below `idleTimeoutSeconds`. */
  touchIntervalSeconds?: number
  /** Session cookie: base name (default `jwks-bridge-session`; the bridge adds `__Host-`) and domain. */
  cookie?: { name?: string; domain?: string }
  /** Count `X-Forwarded-Proto: https` as https. Only behind a proxy that sets it. Default false. */
  trustProxy?: boolean
  /** Origins besides the request's own allowed to sign in and out (e.g. `https://www.example.com`). */
  allowedOrigins?: readonly string[]
  /**
   * Require the CSRF token (`X-CSRF-Token` matching the pre-session cookie from `csrfTokenFor`).
   * Default true: without it, a cross-site form from a browser that sends neither `Origin` nor
   * `Sec-Fetch-Site` passes the request guard (login CSRF). Pass `false` only for a bridge that no
   * browser reaches.
   */
  csrf?: boolean
  /** Largest handoff or logout body. Default 16384. */
  maxBodyBytes?: number
  /** Clock in milliseconds since the epoch. Default `Date.now`. */
  nowMs?: () => number
  /** Structured logger (pino-compatible). Never receives a token or secret. */
  logger?: BridgeLogger
}

export interface BridgeConfig {
  verifier: Verifier
  logoutVerifier: Verifier | undefined
  /** Verifiers the bridge created and must close. */
  ownedVerifiers: Verifier[]
  identities: IdentityStore
  sessions: SessionStore
  profile: TokenProfile
  authPath: string
  backChannelLogoutPath: string | undefined
  maxTokenAgeSeconds: number
  claimsSnapshot: readonly string[]
  session: SessionPolicy
  cookie: CookieConfig
  trustProxy: boolean
  allowedOrigins: ReadonlySet<string>
  csrf: boolean
  maxBodyBytes: number
  nowMs: () => number
  logger: BridgeLogger | undefined
}

const KNOWN = new Set([
  'verifier',
  'identities',
  'sessions',
  'profile',
  'authPath',
  'backChannelLogout',
  'backChannelLogoutPath',
  'logoutVerifier',
  'maxTokenAgeSeconds',
  'claimsSnapshot',
  'absoluteLifetimeSeconds',
  'idleTimeoutSeconds',
  'touchIntervalSeconds',
  'cookie',
  'trustProxy',
  'allowedOrigins',
  'csrf',
  'maxBodyBytes',
  'nowMs',
  'logger',
])

const SESSION_METHODS = [
  'create',
  'get',
  'touch',
  'delete',
  'deleteByIdentity',
  'deleteByProviderSession',
  'deleteExpired',
  'markTokenUsed',
] as const
const IDENTITY_METHODS = ['upsert', 'get', 'findBySubject'] as const

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function isVerifier(value: unknown): value is Verifier {
  return isObject(value) && typeof value.verify === 'function'
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return isObject(value) || typeof value === 'function'
    ? names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
    : false
}

function seconds(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidOptions(`${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}`)
  }
  return value
}

function path(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  // An exact path: no query, fragment or whitespace, so matching is a plain string comparison.
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(value)) {
    throw invalidOptions(`${name} must be a path starting with "/" (no query or fragment)`)
  }
  return value
}

function profileOption(value: unknown): TokenProfile {
  if (value === undefined) return genericProfile()
  if (!isObject(value) || typeof value.name !== 'string' || typeof value.check !== 'function') {
    throw invalidOptions(
      'profile must be a TokenProfile ({ name, check(result) }), e.g. tokenProfile("generic")',
    )
  }
  if (value.verifierOptions !== undefined && !isObject(value.verifierOptions)) {
    throw invalidOptions('profile.verifierOptions must be an object')
  }
  return value as unknown as TokenProfile
}

function union(a: unknown, b: readonly string[] | undefined): unknown {
  if (b === undefined) return a
  if (a === undefined) return [...b]
  if (!Array.isArray(a)) return a // createVerifier reports the bad type
  return [...new Set([...(a as string[]), ...b])]
}

/**
 * The sign-in verifier's options: the app's, with the profile's policy filling what the app left
 * unset. Required claims are merged (the profile's are a floor), at the top and for each issuer. The
 * token cache is off unless set.
 */
export function withProfilePolicy(
  options: VerifierOptions,
  profile: Partial<PolicyOptions> | undefined,
  nowMs: (() => number) | undefined,
): VerifierOptions {
  const merged: Record<string, unknown> = { ...options }
  if (merged.nowMs === undefined && nowMs !== undefined) merged.nowMs = nowMs
  // Sign-in tokens are single use: a cached result could only serve a replay, which is refused anyway,
  // so the cache would cost a SHA-256 and an entry per sign-in for nothing. Yours wins if you set it.
  if (merged.tokenCache === undefined) merged.tokenCache = false
  if (profile === undefined) return merged as unknown as VerifierOptions
  for (const [key, value] of Object.entries(profile)) {
    if (key === 'requiredClaims') merged.requiredClaims = union(merged.requiredClaims, profile.requiredClaims)
    else if (merged[key] === undefined) merged[key] = value
  }
  if (Array.isArray(merged.issuers)) {
    merged.issuers = (merged.issuers as unknown[]).map((issuer) =>
      isObject(issuer) && issuer.requiredClaims !== undefined
        ? { ...issuer, requiredClaims: union(issuer.requiredClaims, profile.requiredClaims) }
        : issuer,
    )
  }
  return merged as unknown as VerifierOptions
}

/** Validates createBridge options and builds the verifiers. */
export function resolveBridgeOptions(options: BridgeOptions): BridgeConfig {
  if (!isObject(options)) throw invalidOptions('createBridge options must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw invalidOptions(`unknown createBridge option "${key}"`)
  }
  if (!hasMethods(options.identities, IDENTITY_METHODS)) {
    throw invalidOptions(`identities must be an IdentityStore (${IDENTITY_METHODS.join(', ')})`)
  }
  if (!hasMethods(options.sessions, SESSION_METHODS)) {
    throw invalidOptions(`sessions must be a SessionStore (${SESSION_METHODS.join(', ')})`)
  }
  if (options.nowMs !== undefined && typeof options.nowMs !== 'function') {
    throw invalidOptions('nowMs must be a function')
  }
  const logger = options.logger
  if (logger !== undefined && !hasMethods(logger, ['info', 'warn', 'error'])) {
    throw invalidOptions('logger must have info, warn and error methods')
  }
  for (const name of ['trustProxy', 'csrf', 'backChannelLogout'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw invalidOptions(`${name} must be a boolean`)
    }
  }
  const profile = profileOption(options.profile)
  const authPath = path(options.authPath, 'authPath', '/auth')
  const logoutOn = options.backChannelLogout === true
  if (!logoutOn && (options.backChannelLogoutPath !== undefined || options.logoutVerifier !== undefined)) {
    throw invalidOptions('backChannelLogoutPath and logoutVerifier need backChannelLogout: true')
  }
  const logoutPath = path(options.backChannelLogoutPath, 'backChannelLogoutPath', '/auth/backchannel-logout')
  if (logoutOn && logoutPath === authPath) {
    throw invalidOptions('backChannelLogoutPath must differ from authPath')
  }

  const maxTokenAgeSeconds = seconds(options.maxTokenAgeSeconds, 'maxTokenAgeSeconds', 120)
  const absolute = seconds(options.absoluteLifetimeSeconds, 'absoluteLifetimeSeconds', 7 * 86400)
  const idle = seconds(options.idleTimeoutSeconds, 'idleTimeoutSeconds', 86400)
  const touch = seconds(options.touchIntervalSeconds, 'touchIntervalSeconds', Math.min(3600, idle / 2), true)
  // Activity written less often than the idle timeout would let active sessions expire as idle.
  if (touch >= idle) throw invalidOptions('touchIntervalSeconds must be below idleTimeoutSeconds')

  const snapshot = options.claimsSnapshot ?? ['email', 'name', 'email_verified']
  if (!Array.isArray(snapshot) || snapshot.some((name) => typeof name !== 'string' || name.length === 0)) {
    throw invalidOptions('claimsSnapshot must be an array of claim names')
  }

  const cookie = options.cookie ?? {}
  if (!isObject(cookie)) throw invalidOptions('cookie must be { name?, domain? }')
  const cookieName = cookie.name ?? DEFAULT_COOKIE_NAME
  const cookieProblem = cookieOptionProblem(cookieName, cookie.domain)
  if (cookieProblem !== undefined) throw invalidOptions(cookieProblem)

  const origins = options.allowedOrigins ?? []
  if (!Array.isArray(origins)) throw invalidOptions('allowedOrigins must be an array of origins')
  const allowedOrigins = new Set<string>()
  for (const origin of origins) {
    const normalized = typeof origin === 'string' ? normalizeOrigin(origin) : undefined
    if (normalized === undefined) {
      throw invalidOptions('allowedOrigins entries must be origins like "https://app.example.com"')
    }
    allowedOrigins.add(normalized)
  }

  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024
  if (typeof maxBodyBytes !== 'number' || !Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw invalidOptions('maxBodyBytes must be a positive integer')
  }

  // Verifiers last: everything cheap is checked before one is created.
  const ownedVerifiers: Verifier[] = []
  const build = (value: VerifierOptions): Verifier => {
    const verifier = createVerifier(value)
    ownedVerifiers.push(verifier)
    return verifier
  }
  if (!isVerifier(options.verifier) && !isObject(options.verifier)) {
    throw invalidOptions('verifier must be a Verifier (createVerifier) or its options')
  }
  // The profile's policy (e.g. the OIDC profile's audience, the client id) applies to logout tokens too:
  // a logout token addressed to another client of the same provider must not end our sessions (§2.6).
  const signInOptions = isVerifier(options.verifier)
    ? undefined
    : withProfilePolicy(options.verifier, profile.verifierOptions, options.nowMs)
  const verifier = signInOptions === undefined ? (options.verifier as Verifier) : build(signInOptions)
  let logoutVerifier: Verifier | undefined
  if (logoutOn) {
    const given = options.logoutVerifier
    if (isVerifier(given)) logoutVerifier = given
    else if (given !== undefined) {
      if (!isObject(given)) throw invalidOptions('logoutVerifier must be a Verifier or its options')
      logoutVerifier = build(logoutVerifierOptions(given, options.nowMs))
    } else if (signInOptions === undefined) {
      throw invalidOptions(
        'backChannelLogout with a Verifier instance needs logoutVerifier: the bridge cannot see its keys',
      )
    } else logoutVerifier = build(logoutVerifierOptions(signInOptions, options.nowMs))
  }

  return {
    verifier,
    logoutVerifier,
    ownedVerifiers,
    identities: options.identities,
    sessions: options.sessions,
    profile,
    authPath,
    backChannelLogoutPath: logoutOn ? logoutPath : undefined,
    maxTokenAgeSeconds,
    claimsSnapshot: Object.freeze([...snapshot]),
    session: {
      absoluteLifetimeMs: absolute * 1000,
      idleTimeoutMs: idle * 1000,
      touchIntervalMs: touch * 1000,
    },
    cookie: { name: cookieName, domain: cookie.domain },
    trustProxy: options.trustProxy === true,
    allowedOrigins,
    // On unless turned off explicitly: the safe setting is the default (login CSRF, see above).
    csrf: options.csrf !== false,
    maxBodyBytes,
    nowMs: options.nowMs ?? Date.now,
    logger,
  }
}
