import { signCompact } from '../jose/sign.js'
import type { JsonWebKeySet } from '../verifier/options.js'
import { tokenParts } from './claims.js'
import {
  cookieValues,
  type DevIssuerRequest,
  type DevIssuerResponse,
  empty,
  fromSameOrigin,
  html,
  json,
  readForm,
  single,
  splitPath,
} from './http.js'
import { KeyRing, TooManyKeysError } from './key-ring.js'
import {
  type DevIssuerAlgorithm,
  type DevIssuerConfig,
  type DevIssuerOptions,
  type DevIssuerProfile,
  resolveDevIssuerOptions,
  warnGuardOff,
} from './options.js'
import { safeReturnTo } from './return-to.js'
import { type ProviderSession, SessionTable } from './sessions.js'
import { signInPage } from './sign-in-page.js'
import { checkUserName } from './user-name.js'

/** The provider's own session cookie (scoped to the issuer's path, so it never reaches the app). */
export const DEV_ISSUER_COOKIE = 'dev_issuer_session'

export interface DevIssuer {
  /** The issuer, exactly as configured: the `iss` of every token. */
  readonly issuer: string
  /** The issuer's path without a trailing slash ('' at the root): route this prefix to `handle`. */
  readonly basePath: string
  readonly alg: DevIssuerAlgorithm
  readonly profile: DevIssuerProfile
  /** `<issuer>/.well-known/openid-configuration` */
  readonly discoveryUrl: string
  /** The discovery document's `jwks_uri` (`/jwt/jwks.json` for the supertokens profile). */
  readonly jwksUrl: string
  /** The sign-in page (the discovery document's `authorization_endpoint`). */
  readonly signInUrl: string
  /**
   * `GET` here returns `200 { jwt }` for the browser's provider session, and `204` with no body when
   * nobody is signed in (the normal state of a page, not an error: a poller needs no error handling).
   */
  readonly tokenUrl: string
  /** `POST` here ends the provider session. */
  readonly signOutUrl: string
  /** `POST` here rotates the signing key. */
  readonly rotateUrl: string
  /** Whether `path` (without query) is this provider's to answer. */
  matches(path: string): boolean
  /** Answers one request; never throws for a bad request (it answers 4xx). */
  handle(request: DevIssuerRequest): Promise<DevIssuerResponse>
  /** The published key set, after dropping retired keys whose tokens have all expired. */
  jwks(): JsonWebKeySet
  /** Makes a new signing key; the previous one stays published until its tokens expire. */
  rotateKeys(): Promise<{ kid: string; kids: string[] }>
  /** The sign-in page URL that comes back to `returnTo` (a path or URL on the issuer's origin). */
  signInUrlFor(returnTo: string): string
}

const JWKS_CACHE = 'public, max-age=60'

/**
 * A local identity provider for development and tests: OpenID discovery, a key set, a sign-in page
 * that takes a user name, and a token endpoint for the signed-in browser. Anyone who reaches it signs
 * in under any name, so it refuses NODE_ENV=production and an issuer whose host is not loopback
 * (unless `dangerouslyAllowNonLoopbackIssuer`, which emits a process warning). Framework-agnostic: it
 * answers plain requests, so an app can mount it under a path and `startDevIssuer` can serve it alone.
 *
 * @example
 * const devIssuer = createDevIssuer({ issuer: 'http://127.0.0.1:3000/dev-issuer' })
 * // in the app's router: if (devIssuer.matches(path)) reply(await devIssuer.handle({ method, path, headers, body }))
 */
export function createDevIssuer(options: DevIssuerOptions): DevIssuer {
  const config = resolveDevIssuerOptions(options)
  if (config.guardOff) warnGuardOff(config.origin)
  return new Provider(config)
}

class Provider implements DevIssuer {
  readonly issuer: string
  readonly basePath: string
  readonly alg: DevIssuerAlgorithm
  readonly profile: DevIssuerProfile
  readonly discoveryUrl: string
  readonly jwksUrl: string
  readonly signInUrl: string
  readonly tokenUrl: string
  readonly signOutUrl: string
  readonly rotateUrl: string
  readonly #config: DevIssuerConfig
  readonly #keys: KeyRing
  readonly #sessions: SessionTable

  constructor(config: DevIssuerConfig) {
    this.#config = config
    this.issuer = config.issuer
    this.basePath = config.basePath
    this.alg = config.alg
    this.profile = config.profile
    this.discoveryUrl = `${config.base}/.well-known/openid-configuration`
    // SuperTokens' backend SDK announces and serves its keys at <apiBasePath>/jwt/jwks.json.
    this.jwksUrl = `${config.base}${config.profile === 'supertokens' ? '/jwt/jwks.json' : '/.well-known/jwks.json'}`
    this.signInUrl = `${config.base}/sign-in`
    this.tokenUrl = `${config.base}/token`
    this.signOutUrl = `${config.base}/sign-out`
    this.rotateUrl = `${config.base}/rotate`
    this.#keys = new KeyRing(config.alg, config.profile, config.nowMs)
    this.#sessions = new SessionTable(config.nowMs)
  }

  matches(path: string): boolean {
    const base = this.basePath
    return base === '' || path === base || path.startsWith(`${base}/`) || path.startsWith(`${base}?`)
  }

  jwks(): JsonWebKeySet {
    return { keys: this.#keys.publish() }
  }

  async rotateKeys(): Promise<{ kid: string; kids: string[] }> {
    const ringKey = this.#keys.rotate()
    return { kid: ringKey.key.kid, kids: this.#keys.kids() }
  }

  signInUrlFor(returnTo: string): string {
    return `${this.signInUrl}?${new URLSearchParams({ return_to: returnTo })}`
  }

  async handle(request: DevIssuerRequest): Promise<DevIssuerResponse> {
    const { path, query } = splitPath(request)
    if (!this.matches(path)) return json(404, { error: 'not found' })
    const route = path.slice(this.basePath.length)
    const method = request.method.toUpperCase()
    const read = method === 'GET' || method === 'HEAD'
    switch (route) {
      case '':
      case '/':
        return read ? empty(303, { location: `${this.basePath}/sign-in` }) : notAllowed('GET, HEAD')
      case '/.well-known/openid-configuration':
        return read ? this.#discovery() : notAllowed('GET, HEAD')
      case '/.well-known/jwks.json':
      case '/jwt/jwks.json':
        return read ? this.#jwks() : notAllowed('GET, HEAD')
      case '/sign-in':
        if (read) return this.#signInPage(request, query)
        return method === 'POST' ? this.#signIn(request) : notAllowed('GET, HEAD, POST')
      case '/token':
        return method === 'GET' ? this.#token(request) : notAllowed('GET')
      case '/sign-out':
        return method === 'POST' ? this.#signOut(request) : notAllowed('POST')
      case '/rotate':
        return method === 'POST' ? this.#rotate(request) : notAllowed('POST')
      default:
        return json(404, { error: 'not found' })
    }
  }

  #discovery(): DevIssuerResponse {
    const document = {
      issuer: this.issuer,
      jwks_uri: this.jwksUrl,
      authorization_endpoint: this.signInUrl,
      token_endpoint: this.tokenUrl,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.alg],
      claims_supported:
        this.profile === 'supertokens'
          ? ['iss', 'sub', 'iat', 'exp', 'tId', 'rsub', 'sessionHandle', 'refreshTokenHash1']
          : ['iss', 'sub', 'iat', 'exp', 'sid'],
    }
    return json(200, document, { 'cache-control': JWKS_CACHE, 'access-control-allow-origin': '*' })
  }

  #jwks(): DevIssuerResponse {
    // RFC 7517 §8.5.1 registers application/jwk-set+json. The set is public: any origin may read it,
    // as SuperTokens' own endpoint allows.
    return json(200, this.jwks(), {
      'content-type': 'application/jwk-set+json',
      'cache-control': JWKS_CACHE,
      'access-control-allow-origin': '*',
    })
  }

  #session(request: DevIssuerRequest): ProviderSession | undefined {
    for (const value of cookieValues(request, DEV_ISSUER_COOKIE)) {
      const session = this.#sessions.find(value)
      if (session !== undefined) return session
    }
    return undefined
  }

  #page(status: number, input: Omit<Parameters<typeof signInPage>[0], 'action'>): DevIssuerResponse {
    return html(status, signInPage({ action: this.#formAction(), ...input }))
  }

  #formAction(): string {
    return `${this.basePath}/sign-in`
  }

  #signInPage(request: DevIssuerRequest, query: URLSearchParams): DevIssuerResponse {
    const signedInAs = this.#session(request)?.subject
    const given = single(query, 'return_to')
    if (given === undefined) return this.#page(200, { returnTo: undefined, signedInAs })
    if (given === null || safeReturnTo(given, this.#config.origin) === undefined) {
      return this.#page(400, { returnTo: undefined, signedInAs, error: RETURN_TO_REFUSED })
    }
    return this.#page(200, { returnTo: given, signedInAs })
  }

  #signIn(request: DevIssuerRequest): DevIssuerResponse {
    if (!fromSameOrigin(request, this.#config.origin)) {
      return this.#page(403, {
        returnTo: undefined,
        error: 'Sign-in refused: the form was sent from another site.',
      })
    }
    const read = readForm(request)
    if (!read.ok) return json(read.status, { error: read.error })
    const given = single(read.form, 'return_to')
    let location = this.#formAction()
    if (given !== undefined) {
      const returnTo = given === null ? undefined : safeReturnTo(given, this.#config.origin)
      if (returnTo === undefined) return this.#page(400, { returnTo: undefined, error: RETURN_TO_REFUSED })
      location = returnTo
    }
    const rawName = single(read.form, 'username')
    const userName = checkUserName(rawName ?? '')
    if (!userName.ok) {
      return this.#page(400, {
        returnTo: given ?? undefined,
        userName: typeof rawName === 'string' ? rawName : undefined,
        error: userName.error,
      })
    }
    // A new session on every sign-in, the old one ended (OWASP Session Management: renew the session
    // id on any privilege change, against fixation).
    for (const value of cookieValues(request, DEV_ISSUER_COOKIE)) this.#sessions.delete(value)
    const { cookieValue } = this.#sessions.create(userName.value)
    return empty(303, { location, 'set-cookie': this.#cookie(cookieValue, false) })
  }

  #token(request: DevIssuerRequest): DevIssuerResponse {
    if (!fromSameOrigin(request, this.#config.origin)) {
      return json(403, { error: 'tokens are handed only to pages of this origin' })
    }
    const session = this.#session(request)
    // Nobody signed in is the normal state of a page, not an error: 204 keeps browser consoles
    // quiet (a 401 is logged as a failed resource on every signed-out page).
    if (session === undefined) return empty(204, { 'cache-control': 'no-store' })
    return json(200, { jwt: this.#mint(session) })
  }

  #mint(session: ProviderSession): string {
    const config = this.#config
    const ringKey = this.#keys.current
    const { header, payload } = tokenParts({
      profile: config.profile,
      alg: ringKey.key.alg,
      kid: ringKey.key.kid,
      issuer: config.issuer,
      subject: session.subject,
      sessionId: session.handle,
      audience: config.audience,
      nowSeconds: Math.floor(config.nowMs() / 1000),
      lifetimeSeconds: config.tokenLifetimeSeconds,
    })
    // Recorded before the token leaves: the key stays published until this token has expired.
    this.#keys.noteSigned(ringKey, payload.exp as number)
    return signCompact(ringKey.key, header, payload)
  }

  #signOut(request: DevIssuerRequest): DevIssuerResponse {
    if (!fromSameOrigin(request, this.#config.origin)) {
      return json(403, { error: 'sign-out is accepted only from pages of this origin' })
    }
    for (const value of cookieValues(request, DEV_ISSUER_COOKIE)) this.#sessions.delete(value)
    return empty(204, { 'set-cookie': this.#cookie('', true) })
  }

  async #rotate(request: DevIssuerRequest): Promise<DevIssuerResponse> {
    if (!fromSameOrigin(request, this.#config.origin)) {
      return json(403, { error: 'rotation is accepted only from this origin or from tools' })
    }
    try {
      return json(200, await this.rotateKeys())
    } catch (error) {
      if (error instanceof TooManyKeysError) return json(409, { error: error.message })
      throw error
    }
  }

  /**
   * The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
   * sub-requests, RFC 6265bis §8.8), scoped to the issuer's path (the app never receives it), Secure
   * when the issuer is https. A session cookie: it ends with the browser, the session itself after
   * 12 hours.
   */
  #cookie(value: string, clear: boolean): string {
    const parts = [
      `${DEV_ISSUER_COOKIE}=${value}`,
      `Path=${this.basePath === '' ? '/' : this.basePath}`,
      'HttpOnly',
      'SameSite=Lax',
    ]
    if (this.#config.secure) parts.push('Secure')
    if (clear) parts.push('Max-Age=0')
    return parts.join('; ')
  }
}

const RETURN_TO_REFUSED =
  'The return address was refused: it must be a path or a URL on this site. Sign in, and you will land on the sign-in page.'

function notAllowed(allow: string): DevIssuerResponse {
  return json(405, { error: `method not allowed; use ${allow}` }, { allow })
}
