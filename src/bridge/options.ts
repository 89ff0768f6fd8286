/**
 * createBridge options: types, eager validation (ERR_INVALID_OPTIONS at start-up, not a 500 on the
 * first sign-in) and defaults.
 */
import { invalidOptions } from '../errors.js'
import {
  functionOption,
  isPlainObject,
  optionNames,
  positiveInteger,
  readOptions,
  seconds,
  stringList,
} from '../lib/options.js'
import type { IdentityStore, SessionStore } from '../stores/types.js'
import type { PolicyOptions, VerifierOptions } from '../verifier/options.js'
import { createVerifier, type Verifier } from '../verifier/verifier.js'
import { type CookieConfig, cookieOptionProblem, DEFAULT_COOKIE_NAME } from './cookies.js'
import { eventLogger } from './event-log.js'
import { type BridgeEventListener, createEmitter, type Emit } from './events.js'
import {
  type ForwardAuthConfig,
  type ForwardAuthOptions,
  resolveForwardAuth,
} from './forward-auth-options.js'
import { type LogoutRules, resolveLogout } from './logout-verifier.js'
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
  /**
   * Mount the OpenID Connect Back-Channel Logout endpoint. Default false. Needs your client id as the
   * audience (the verifier's or the profile's `audience`), else createBridge throws.
   */
  backChannelLogout?: boolean
  /** Default `/auth/backchannel-logout`. */
  backChannelLogoutPath?: string
  /**
   * How logout tokens are verified. Default: derived from the sign-in verifier's options, the profile's
   * included (same issuers, keys and audience; `typ` logout+jwt; `iat`, `jti`, `events`, `aud` and
   * `exp` required). Required when `verifier` is a Verifier instance, whose keys the bridge cannot see.
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
  /**
   * The forward-auth check (`GET <authPath>/check`): identity header names, the claims sent, and the
   * sign-in path browsers are sent to. See docs/forward-auth.md.
   */
  forwardAuth?: ForwardAuthOptions
  /**
   * Called with each BridgeEvent (src/bridge/events.ts): sign-ins, refusals, sign-outs, logouts,
   * session validations, sessions ended. Synchronous, on the request's path: keep it cheap. If it
   * throws, the request is answered as if it had not.
   */
  onEvent?: BridgeEventListener
}

export interface BridgeConfig {
  verifier: Verifier
  logoutVerifier: Verifier | undefined
  /** What the bridge checks on logout tokens itself (audience, expiry), whatever the logout verifier. */
  logoutRules: LogoutRules | undefined
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
  /** `GET <authPath>/check`. */
  checkPath: string
  forwardAuth: ForwardAuthConfig
  /** The logger and `onEvent` as one emitter; undefined when there is neither (nothing is built then). */
  emit: Emit | undefined
  /**
   * Whether session validations are timed and emitted: only for `onEvent` (the logger has no use for
   * them), so that a bridge with a logger alone pays nothing per request.
   */
  emitValidations: boolean
}

const WHERE = 'createBridge'

/** `maxBodyBytes` when not given; also the fetch adapters' cap for a form body they scan for a token. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024

/** Every createBridge option; the compiler checks the list against BridgeOptions both ways. */
const BRIDGE_KEYS = optionNames<BridgeOptions>()([
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
  'forwardAuth',
  'onEvent',
])

const COOKIE_KEYS = optionNames<NonNullable<BridgeOptions['cookie']>>()(['name', 'domain'])

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

export function isVerifier(value: unknown): value is Verifier {
  return isPlainObject(value) && typeof value.verify === 'function'
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return isPlainObject(value) || typeof value === 'function'
    ? names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
    : false
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
  if (!isPlainObject(value) || typeof value.name !== 'string' || typeof value.check !== 'function') {
    throw invalidOptions(
      'profile must be a TokenProfile ({ name, check(result) }), e.g. tokenProfile("generic")',
    )
  }
  if (value.verifierOptions !== undefined && !isPlainObject(value.verifierOptions)) {
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
      isPlainObject(issuer) && issuer.requiredClaims !== undefined
        ? { ...issuer, requiredClaims: union(issuer.requiredClaims, profile.requiredClaims) }
        : issuer,
    )
  }
  return merged as unknown as VerifierOptions
}

/** Validates createBridge options and builds the verifiers. */
export function resolveBridgeOptions(options: BridgeOptions): BridgeConfig {
  // Unknown names are refused: a misspelt `crsf: true` would otherwise leave the CSRF token off.
  readOptions(WHERE, options, BRIDGE_KEYS)
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
  const onEvent = functionOption<BridgeEventListener>(WHERE, 'onEvent', options.onEvent)
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

  const maxTokenAgeSeconds = seconds(WHERE, 'maxTokenAgeSeconds', options.maxTokenAgeSeconds, 120, false)
  const absolute = seconds(
    WHERE,
    'absoluteLifetimeSeconds',
    options.absoluteLifetimeSeconds,
    7 * 86400,
    false,
  )
  const idle = seconds(WHERE, 'idleTimeoutSeconds', options.idleTimeoutSeconds, 86400, false)
  const touch = seconds(WHERE, 'touchIntervalSeconds', options.touchIntervalSeconds, Math.min(3600, idle / 2))
  // Activity written less often than the idle timeout would let active sessions expire as idle.
  if (touch >= idle) throw invalidOptions('touchIntervalSeconds must be below idleTimeoutSeconds')

  const snapshot = stringList(WHERE, 'claimsSnapshot', options.claimsSnapshot) ?? [
    'email',
    'name',
    'email_verified',
  ]

  // Names checked here, values by cookieOptionProblem below.
  const cookie: NonNullable<BridgeOptions['cookie']> = readOptions(WHERE, options.cookie, COOKIE_KEYS, {
    name: 'cookie',
    optional: true,
  })
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

  const maxBodyBytes = positiveInteger(WHERE, 'maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES)

  // Under the authentication URL, where other tooling (proxy configurations) expects it.
  const checkPath = `${authPath.replace(/\/+$/, '')}/check`
  if (logoutOn && logoutPath === checkPath) {
    throw invalidOptions(`backChannelLogoutPath must differ from ${checkPath} (the forward-auth check)`)
  }
  const forwardAuth = resolveForwardAuth(options.forwardAuth, snapshot)

  // Verifiers last: everything cheap is checked before one is created.
  const ownedVerifiers: Verifier[] = []
  const build = (value: VerifierOptions): Verifier => {
    const verifier = createVerifier(value)
    ownedVerifiers.push(verifier)
    return verifier
  }
  if (!isVerifier(options.verifier) && !isPlainObject(options.verifier)) {
    throw invalidOptions('verifier must be a Verifier (createVerifier) or its options')
  }
  // The profile's policy (e.g. the OIDC profile's audience, the client id) applies to logout tokens too:
  // a logout token addressed to another client of the same provider must not end our sessions (§2.6).
  const signInOptions = isVerifier(options.verifier)
    ? undefined
    : withProfilePolicy(options.verifier, profile.verifierOptions, options.nowMs)
  const verifier = signInOptions === undefined ? (options.verifier as Verifier) : build(signInOptions)
  // Back-channel logout needs the client id as audience (OIDC Back-Channel Logout 1.0 §2.6): the rule
  // and the logout verifier's policy live in logout-verifier.ts.
  const logout = logoutOn
    ? resolveLogout({ given: options.logoutVerifier, signInOptions, profile, nowMs: options.nowMs, build })
    : undefined

  return {
    verifier,
    logoutVerifier: logout?.verifier,
    logoutRules: logout?.rules,
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
    checkPath,
    forwardAuth,
    emit: createEmitter(onEvent, logger === undefined ? undefined : eventLogger(logger), logger),
    emitValidations: onEvent !== undefined,
  }
}
