/**
 * createTestIssuer: an identity provider in memory for an app's own tests. It holds real key pairs,
 * publishes the public keys as a JWK Set, and mints real signed tokens shaped like the chosen
 * provider's, so tests drive the real verification and handoff without any identity provider.
 */
import { randomBytes } from 'node:crypto'
import { supertokensIssuer } from '../bridge/profiles/supertokens.js'
import {
  defaultClaims,
  defaultHeader,
  logoutClaims,
  logoutHeader,
  type ShapeContext,
  TEST_ISSUER_PROFILES,
  type TestIssuerProfile,
} from '../dev-issuer/token-shapes.js'
import { invalidOptions } from '../errors.js'
import type { Algorithm } from '../jose/algorithms.js'
import {
  generateSigningKey,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKey,
  signCompact,
} from '../jose/sign.js'
import {
  functionOption,
  nonEmptyString,
  oneOf,
  optionError,
  optionNames,
  positiveInteger,
  readOptions,
} from '../lib/options.js'
import { withoutUndefined } from '../lib/without-undefined.js'
import type { JsonWebKeySet } from '../verifier/options.js'
import { type RunningServer, startIssuerServer } from './serve.js'

/** The algorithms a test issuer signs with (one per key family). */
export type TestIssuerAlgorithm = SigningAlgorithm

export const TEST_ISSUER_ALGORITHMS: readonly TestIssuerAlgorithm[] = SIGNING_ALGORITHMS

export interface TestIssuerOptions {
  /**
   * The `iss` of every token. Default: a name under `.invalid` (RFC 2606) until `serve()` is called,
   * which then makes the server's URL the issuer (plus `/auth` for SuperTokens) so discovery works.
   */
  issuer?: string
  /** Signing algorithm. Default RS256; SuperTokens supports only RS256. */
  alg?: TestIssuerAlgorithm
  /** Shape of the tokens. Default `generic`. */
  profile?: TestIssuerProfile
  /** `aud` of the tokens. Default none; `test-client` for `oidc-id-token`; SuperTokens has no aud. */
  audience?: string
  /** `sub` when `sign()` is given none. Default `test-user`. */
  subject?: string
  /** `exp - iat` of minted tokens. Default 3600 (SuperTokens' and most providers' default). */
  lifetimeSeconds?: number
  /** Clock for `iat`/`exp` (and SuperTokens `d-<ms>` kids), ms since the epoch. Default `Date.now`. */
  nowMs?: () => number
}

/** What `createVerifier` needs to trust this issuer: pass it as is, or as one of `issuers`. */
export interface TestIssuerVerifierOptions {
  issuer: string
  jwks?: JsonWebKeySet
  jwksUri?: string
  algorithms: Algorithm[]
  audience?: string
}

export interface LogoutTokenOptions {
  /** The provider session id to end. At least one of `sid` and `sub` is required (§2.4). */
  sid?: string
  /** The subject whose sessions end (all of them when no `sid`). */
  sub?: string
  /** `aud`. Default: the issuer's audience, else `test-client`. */
  aud?: string
  /** Extra or replacement claims (undefined removes one). */
  claims?: Record<string, unknown>
  /** Extra or replacement header members (undefined removes one). */
  header?: Record<string, unknown>
}

export interface ServedTestIssuer {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** The issuer the tokens carry (the server URL unless an issuer was given). */
  issuer: string
  /** Where the key set is served (`…/.well-known/jwks.json`; SuperTokens `…/jwt/jwks.json`). */
  jwksUri: string
  /** `<issuer path>/.well-known/openid-configuration` on this server. */
  discoveryUrl: string
  /** Options for createVerifier with the key set URL; `{ discovery: true }` leaves it to discovery. */
  verifierOptions(options?: { discovery?: boolean }): TestIssuerVerifierOptions
  /** Requests the server has answered (key set and discovery fetches). */
  requests(): number
  close(): Promise<void>
}

export interface TestIssuer {
  readonly issuer: string
  readonly alg: TestIssuerAlgorithm
  readonly profile: TestIssuerProfile
  readonly audience: string | undefined
  /** The kid new tokens are signed with. */
  readonly kid: string
  /** The public key set: the signing key and every rotated key not yet retired. A fresh copy. */
  readonly jwks: JsonWebKeySet
  /**
   * A real signed token. `claims` and `header` are merged over the profile's defaults; a member set to
   * undefined is removed (e.g. `sign({ sessionHandle: undefined })`).
   */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): string
  /** An OpenID Connect Back-Channel Logout token (typ logout+jwt, events, jti, iat, no nonce). */
  signLogoutToken(options: LogoutTokenOptions): string
  /** A new signing key; the previous ones stay published until `retire()`. Returns the new kid. */
  rotate(): string
  /** Stops publishing `kid`, or every key but the signing one. Returns the kids removed. */
  retire(kid?: string): string[]
  /** `{ issuer, jwks, algorithms, audience? }` for createVerifier (a snapshot of the key set). */
  verifierOptions(): TestIssuerVerifierOptions
  /** Serves discovery and the key set over HTTP on 127.0.0.1. Once per issuer. */
  serve(): Promise<ServedTestIssuer>
}

const DEFAULT_ISSUER = 'https://test-issuer.invalid'
const DEFAULT_SUPERTOKENS_DOMAIN = 'https://api.test-issuer.invalid'
const DEFAULT_OIDC_AUDIENCE = 'test-client'
const WHERE = 'createTestIssuer'
const TEST_ISSUER_KEYS = optionNames<TestIssuerOptions>()([
  'issuer',
  'alg',
  'profile',
  'audience',
  'subject',
  'lifetimeSeconds',
  'nowMs',
])
const LOGOUT_TOKEN_KEYS = optionNames<LogoutTokenOptions>()(['sid', 'sub', 'aud', 'claims', 'header'])

/**
 * @example
 * const idp = createTestIssuer({ profile: 'supertokens' })
 * const verifier = createVerifier(idp.verifierOptions())
 * await verifier.verify(idp.sign({ sub: 'user-1' }))
 */
export function createTestIssuer(options: TestIssuerOptions = {}): TestIssuer {
  readOptions(WHERE, options, TEST_ISSUER_KEYS, { optional: true })
  const profile = oneOf(WHERE, 'profile', options.profile, TEST_ISSUER_PROFILES, 'generic')
  const alg = oneOf(WHERE, 'alg', options.alg, TEST_ISSUER_ALGORITHMS, 'RS256')
  if (profile === 'supertokens' && alg !== 'RS256') {
    throw optionError(WHERE, 'SuperTokens signs access tokens with RS256 only')
  }
  if (profile === 'supertokens' && options.audience !== undefined) {
    throw optionError(WHERE, 'SuperTokens access tokens have no aud')
  }
  let audience =
    options.audience === undefined ? undefined : nonEmptyString(WHERE, 'audience', options.audience)
  if (profile === 'oidc-id-token') audience ??= DEFAULT_OIDC_AUDIENCE
  const explicitIssuer = options.issuer !== undefined
  let issuer = explicitIssuer
    ? nonEmptyString(WHERE, 'issuer', options.issuer)
    : profile === 'supertokens'
      ? supertokensIssuer({ apiDomain: DEFAULT_SUPERTOKENS_DOMAIN }).issuer
      : DEFAULT_ISSUER
  const subject =
    options.subject === undefined ? 'test-user' : nonEmptyString(WHERE, 'subject', options.subject)
  const lifetimeSeconds = positiveInteger(WHERE, 'lifetimeSeconds', options.lifetimeSeconds, 3600)
  const nowMs = functionOption<() => number>(WHERE, 'nowMs', options.nowMs) ?? Date.now

  const published: SigningKey[] = []
  const kidPrefix = randomBytes(6).toString('base64url')
  let counter = 0
  function newKid(): string {
    counter += 1
    if (profile !== 'supertokens') return `test-${kidPrefix}-${counter}`
    // SuperTokens dynamic keys are named "d-" + creation time in ms (AccessTokenSigningKey.java).
    let ms = Math.floor(nowMs())
    while (published.some((key) => key.kid === `d-${ms}`)) ms += 1
    return `d-${ms}`
  }
  let current = generateSigningKey(alg, newKid())
  published.push(current)

  function context(): ShapeContext {
    return {
      profile,
      issuer,
      audience,
      alg,
      kid: current.kid,
      nowSeconds: Math.floor(nowMs() / 1000),
      lifetimeSeconds,
      defaultSubject: subject,
    }
  }
  const publicSet = (): JsonWebKeySet => ({ keys: published.map((key) => ({ ...key.publicJwk })) })
  let server: RunningServer | undefined

  const testIssuer: TestIssuer = {
    get issuer() {
      return issuer
    },
    alg,
    profile,
    audience,
    get kid() {
      return current.kid
    },
    get jwks() {
      return publicSet()
    },
    sign(claims = {}, header = {}) {
      const ctx = context()
      const payload = withoutUndefined({ ...defaultClaims(ctx, claims), ...claims })
      return signCompact(current, withoutUndefined({ ...defaultHeader(ctx), ...header }), payload)
    },
    signLogoutToken(logout) {
      readOptions('signLogoutToken', logout, LOGOUT_TOKEN_KEYS)
      const { sid, sub } = logout
      if (sid !== undefined) nonEmptyString('signLogoutToken', 'sid', sid)
      if (sub !== undefined) nonEmptyString('signLogoutToken', 'sub', sub)
      if (sid === undefined && sub === undefined) {
        throw invalidOptions('signLogoutToken: a logout token names a sid, a sub or both')
      }
      const aud = logout.aud ?? audience ?? DEFAULT_OIDC_AUDIENCE
      const ctx = context()
      const payload = withoutUndefined({ ...logoutClaims(ctx, aud, sid, sub), ...logout.claims })
      return signCompact(current, withoutUndefined({ ...logoutHeader(ctx), ...logout.header }), payload)
    },
    rotate() {
      current = generateSigningKey(alg, newKid())
      published.push(current)
      return current.kid
    },
    retire(kid) {
      if (kid === current.kid)
        throw invalidOptions('retire: the signing key cannot be retired; rotate() first')
      const removed = published.filter((key) => key !== current && (kid === undefined || key.kid === kid))
      for (const key of removed) published.splice(published.indexOf(key), 1)
      return removed.map((key) => key.kid)
    },
    verifierOptions() {
      const out: TestIssuerVerifierOptions = { issuer, jwks: publicSet(), algorithms: [alg] }
      if (audience !== undefined) out.audience = audience
      return out
    },
    async serve() {
      if (server !== undefined) throw invalidOptions('serve: this test issuer is already served')
      let routes = new Map<string, () => unknown>()
      const running = await startIssuerServer({ routes: () => routes })
      server = running
      if (!explicitIssuer) {
        issuer =
          profile === 'supertokens' ? supertokensIssuer({ apiDomain: running.url }).issuer : running.url
      }
      // The issuer's own path (SuperTokens: /auth) prefixes the documents, as at a real provider; an
      // explicit issuer on another host is served under its path too, and at the root.
      const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '')
      const jwksPath = `${issuerPath}${profile === 'supertokens' ? '/jwt/jwks.json' : '/.well-known/jwks.json'}`
      const jwksUri = `${running.url}${jwksPath}`
      const discoveryPath = `${issuerPath}/.well-known/openid-configuration`
      const discovery = () => ({
        issuer,
        jwks_uri: jwksUri,
        id_token_signing_alg_values_supported: [alg],
        subject_types_supported: ['public'],
        response_types_supported: ['id_token'],
      })
      routes = new Map<string, () => unknown>([
        [discoveryPath, discovery],
        ['/.well-known/openid-configuration', discovery],
        [jwksPath, publicSet],
        ['/.well-known/jwks.json', publicSet],
      ])
      return {
        url: running.url,
        issuer,
        jwksUri,
        discoveryUrl: `${running.url}${discoveryPath}`,
        verifierOptions(served = {}) {
          const out: TestIssuerVerifierOptions = { issuer, algorithms: [alg] }
          if (served.discovery === true && new URL(issuer).origin !== running.url) {
            // Discovery starts from the issuer URL, which this server does not answer for.
            throw invalidOptions(
              'verifierOptions: discovery needs the served URL as the issuer (omit `issuer`)',
            )
          }
          if (served.discovery !== true) out.jwksUri = jwksUri
          if (audience !== undefined) out.audience = audience
          return out
        },
        requests: running.requests,
        close: running.close,
      }
    },
  }
  return Object.freeze(testIssuer)
}
