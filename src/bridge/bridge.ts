/**
 * createBridge: the framework-agnostic bridge. Adapters turn their framework's request into a
 * BridgeRequest, call `handle` (bridge routes) or `authenticate` (every other request), and send the
 * BridgeResponse back.
 */
import { invalidOptions, isJwksBridgeError } from '../errors.js'
import type { Identity } from '../stores/types.js'
import { backChannelLogout } from './backchannel-logout.js'
import { configurationWarner } from './config-warning.js'
import { readCookie, sessionCookieName } from './cookies.js'
import { corsHeaders, corsOrigin, preflight } from './cors.js'
import { type CsrfToken, issueCsrfToken } from './csrf.js'
import { forwardAuthCheck, identityHeaders } from './forward-auth.js'
import { type HandoffProgress, handoff } from './handoff.js'
import { errorResponse } from './http-status.js'
import { type BridgeOptions, resolveBridgeOptions } from './options.js'
import { checkTransport, isSecureRequest } from './request-guard.js'
import { validateSession } from './sessions.js'
import { signOut } from './sign-out.js'
import type { Authenticated, BridgeRequest, BridgeResponse } from './types.js'

export type { BridgeEvent, BridgeEventListener } from './events.js'
export type { BridgeOptions } from './options.js'

export interface Bridge {
  /** Answers a bridge route (handoff, sign-out, their CORS preflight, back-channel logout); undefined for any other request. */
  handle(req: BridgeRequest): Promise<BridgeResponse | undefined>
  /** Whether `handle` answers this method and path (adapters read the body only for these). */
  isRoute(method: string, path: string): boolean
  /** The request's identity and session from its session cookie, or null. Rejects only when a store fails. */
  authenticate(req: BridgeRequest): Promise<Authenticated | null>
  /** Whether the request has a live session (for `<meta name="has-session">`). */
  hasSession(req: BridgeRequest): Promise<boolean>
  /** The CSRF token for `<meta name="csrf-token">`, and the cookies to send with the page. Needs `csrf: true`. */
  csrfTokenFor(req: BridgeRequest): CsrfToken
  /** Ends every session of an identity; returns how many. */
  signOutEverywhere(identityId: string): Promise<number>
  /** Deletes expired and idle sessions (and expired replay records); returns how many sessions. */
  cleanupExpired(): Promise<number>
  /** The routes, for adapters that register them. `checkPath` (GET, HEAD) is the forward-auth check. */
  readonly routes: { authPath: string; backChannelLogoutPath: string | undefined; checkPath: string }
  /**
   * The identity as the forward-auth headers (lower-case names, values safe for a header), for a
   * proxy that forwards the request to a backend.
   */
  identityHeaders(identity: Identity): Record<string, string>
  /** Every forward-auth header name (lower case): a proxy removes the client's copies of these. */
  readonly identityHeaderNames: readonly string[]
  /** Largest body a bridge route accepts, for adapters that read bodies. */
  readonly maxBodyBytes: number
  /** Stops the background work of verifiers the bridge created from options. */
  close(): void
}

function pathOf(target: string): string {
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}

/**
 * Creates the bridge. Options are checked now; a mistake throws ERR_INVALID_OPTIONS.
 *
 * @example
 * const bridge = createBridge({
 *   verifier: { issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/jwks.json' },
 *   identities, sessions, profile: tokenProfile('generic'), csrf: true,
 * })
 * const response = await bridge.handle(request) // undefined: not a bridge route
 */
export function createBridge(options: BridgeOptions): Bridge {
  const config = resolveBridgeOptions(options)
  // Without a logger, a refusal caused by the configuration would otherwise show nowhere.
  const warnConfiguration = config.logger === undefined ? configurationWarner() : undefined

  async function guarded(
    route: 'handoff' | 'sign-out',
    req: BridgeRequest,
    run: (progress: HandoffProgress | undefined) => Promise<BridgeResponse>,
  ): Promise<BridgeResponse> {
    const emit = config.emit
    // Whether the token passed the verifier, for the refusal event; nothing to build when nobody listens.
    const progress: HandoffProgress | undefined = emit === undefined ? undefined : { verified: undefined }
    try {
      return await run(progress)
    } catch (error) {
      const response = errorResponse(error, { vary: 'Origin, Sec-Fetch-Site' })
      if (response === undefined || !isJwksBridgeError(error)) {
        // Not a refusal we planned: the framework's error handling takes it. Only the class name is
        // reported; a message from elsewhere is not known to be free of secrets.
        emit?.({
          type: 'refusal',
          route,
          code: 'error',
          status: 500,
          error: error instanceof Error ? error.name : typeof error,
          verified: progress?.verified,
          requestId: req.requestId,
        })
        throw error
      }
      if (response.status >= 500) warnConfiguration?.(error)
      emit?.({
        type: 'refusal',
        route,
        code: error.code,
        status: response.status,
        claim: error.claim,
        reason: error.reason,
        verified: progress?.verified,
        requestId: req.requestId,
      })
      return response
    }
  }

  /**
   * A bridge route's answer, with the CORS headers that let an allowed page on another origin read it
   * (cors.ts): refusals too, so that its script reports their code rather than a network error.
   */
  async function withCors(req: BridgeRequest, response: Promise<BridgeResponse>): Promise<BridgeResponse> {
    const answered = await response
    const origin = corsOrigin(req, isSecureRequest(req, config.trustProxy), config.allowedOrigins)
    if (origin !== undefined) Object.assign(answered.headers, corsHeaders(origin))
    return answered
  }

  function route(
    method: string,
    path: string,
  ): 'sign-in' | 'sign-out' | 'preflight' | 'logout' | 'check' | undefined {
    const verb = method.toUpperCase()
    if (path === config.checkPath) {
      if (verb === 'GET' || verb === 'HEAD') return 'check'
    } else if (path === config.authPath) {
      if (verb === 'PUT' || verb === 'POST') return 'sign-in'
      if (verb === 'DELETE') return 'sign-out'
      // The CORS preflight of a page on an allowed origin (cors.ts).
      if (verb === 'OPTIONS') return 'preflight'
    } else if (path === config.backChannelLogoutPath && verb === 'POST') return 'logout'
    return undefined
  }

  // A closure rather than a method, so that `const { authenticate } = bridge` works too.
  async function authenticate(req: BridgeRequest): Promise<Authenticated | null> {
    const secure = isSecureRequest(req, config.trustProxy)
    const token = readCookie(req.headers.cookie, sessionCookieName(config.cookie, secure))
    // No cookie, no store round trip: most anonymous requests cost nothing.
    if (token === undefined) return null
    const nowMs = Math.floor(config.nowMs())
    const emit = config.emit
    if (emit === undefined || !config.emitValidations) {
      return validateSession(config.sessions, config.identities, token, nowMs, config.session)
    }
    // Timed for the `session-validated` event: two clock reads and the event, no closure.
    const startMs = performance.now()
    let auth: Authenticated | null
    try {
      auth = await validateSession(
        config.sessions,
        config.identities,
        token,
        nowMs,
        config.session,
        emit,
        req.requestId,
      )
    } catch (error) {
      const durationMs = performance.now() - startMs
      emit({ type: 'session-validated', result: 'error', durationMs, requestId: req.requestId })
      throw error
    }
    const durationMs = performance.now() - startMs
    emit({
      type: 'session-validated',
      result: auth === null ? 'invalid' : 'valid',
      durationMs,
      requestId: req.requestId,
    })
    return auth
  }

  const checkDeps = {
    forwardAuth: config.forwardAuth,
    trustProxy: config.trustProxy,
    authenticate,
    logger: config.logger,
  }

  return {
    async handle(req) {
      switch (route(req.method, pathOf(req.path))) {
        case 'sign-in':
          return withCors(
            req,
            guarded('handoff', req, (progress) => handoff(config, req, progress)),
          )
        case 'sign-out':
          return withCors(
            req,
            guarded('sign-out', req, () => signOut(config, req)),
          )
        case 'preflight':
          return preflight(req, isSecureRequest(req, config.trustProxy), config.allowedOrigins)
        case 'logout':
          return backChannelLogout(config, req)
        case 'check':
          return forwardAuthCheck(checkDeps, req)
        default:
          return undefined
      }
    },

    isRoute(method, path) {
      return route(method, pathOf(path)) !== undefined
    },

    authenticate,

    async hasSession(req) {
      return (await authenticate(req)) !== null
    },

    csrfTokenFor(req) {
      if (!config.csrf)
        throw invalidOptions('csrfTokenFor needs the CSRF token on (this bridge has csrf: false)')
      const secure = isSecureRequest(req, config.trustProxy)
      checkTransport(req, secure, config.trustProxy)
      return issueCsrfToken(req, secure, config.cookie)
    },

    async signOutEverywhere(identityId) {
      if (typeof identityId !== 'string' || identityId.length === 0) {
        throw invalidOptions('signOutEverywhere needs an identity id')
      }
      const ended = await config.sessions.deleteByIdentity(identityId)
      config.emit?.({ type: 'sessions-ended', reason: 'sign-out-everywhere', identityId, count: ended })
      return ended
    },

    async cleanupExpired() {
      const removed = await config.sessions.deleteExpired(
        Math.floor(config.nowMs()),
        config.session.idleTimeoutMs,
      )
      config.emit?.({ type: 'sessions-ended', reason: 'cleanup', count: removed })
      return removed
    },

    routes: Object.freeze({
      authPath: config.authPath,
      backChannelLogoutPath: config.backChannelLogoutPath,
      checkPath: config.checkPath,
    }),
    identityHeaders: (identity) => identityHeaders(identity, config.forwardAuth),
    identityHeaderNames: config.forwardAuth.allHeaders,
    maxBodyBytes: config.maxBodyBytes,

    close() {
      for (const verifier of config.ownedVerifiers) verifier.close()
    },
  }
}
