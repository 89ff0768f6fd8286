import { invalidOptions } from '../../errors.js'
import {
  type CommonProfileOptions,
  checkClaimValues,
  claimValuesOption,
  isPlainObject,
  profileMismatch,
  readOptions,
  refuseEventTokens,
  requireIdentifier,
  requireNumber,
  stringListOption,
  type TokenProfile,
} from './common.js'

export interface SupertokensProfileOptions extends CommonProfileOptions {
  /** Accepted tenant ids (`tId`). Default: any tenant. */
  tenantIds?: readonly string[]
  /** Require the EmailVerification claim `st-ev` with `v: true`. Default false. */
  requireEmailVerified?: boolean
}

const OPTIONS = ['tenantIds', 'requireEmailVerified', 'claimValues'] as const

/**
 * The claims every SuperTokens session access token carries as strings since token version 5 (core
 * `AccessTokenInfo`; supertokens-node `validateAccessTokenStructure` requires the same). A token signed
 * by the same keys without them is something else: a `JWT.createJWT()` token has no `sessionHandle`.
 */
const SESSION_STRING_CLAIMS = ['sessionHandle', 'refreshTokenHash1', 'rsub', 'tId'] as const

/**
 * The `supertokens` profile: a SuperTokens session access token (supertokens-node 14+, core 5+, the
 * version 3-5 JWT shape). Subject = `sub` (the primary user id); provider session id = `sessionHandle`.
 * Use it with the issuer and key set from `supertokensIssuer()`.
 *
 * @example
 * const { issuer, jwksUri } = supertokensIssuer({ apiDomain: 'https://api.example.com' })
 * const profile = supertokensProfile()
 * const verifier = createVerifier({ issuer, jwksUri, ...profile.verifierOptions })
 */
export function supertokensProfile(options?: SupertokensProfileOptions): TokenProfile {
  const raw = readOptions(options, 'supertokens', OPTIONS)
  const tenants = stringListOption(raw.tenantIds, 'supertokens: tenantIds')
  if (raw.requireEmailVerified !== undefined && typeof raw.requireEmailVerified !== 'boolean') {
    throw invalidOptions('supertokens: requireEmailVerified must be a boolean')
  }
  const requireEmailVerified = raw.requireEmailVerified === true
  const claimValues = claimValuesOption(raw.claimValues, 'supertokens')

  return Object.freeze({
    name: 'supertokens',
    // The verifier refuses other algorithms and types before touching a key.
    verifierOptions: Object.freeze({
      algorithms: Object.freeze(['RS256' as const]),
      typ: 'JWT',
      requireExp: true,
    }),
    check(result) {
      const { header, payload } = result
      // A logout or security event token signed by the same keys never signs anyone in, even one
      // typed "JWT": the `events` claim gives it away (security catalogue E3, as every profile does).
      refuseEventTokens(result)
      // SuperTokens signs access tokens with RS256 only; pinning it keeps a key of the set from being
      // used with another algorithm (RFC 8725 §3.1), even if the verifier allows several.
      if (header.alg !== 'RS256')
        throw profileMismatch('alg', 'a SuperTokens access token is signed with RS256')
      // supertokens-node (recipe/session/jwt.js) requires typ "JWT" exactly for token version 3+.
      if (header.typ !== 'JWT') throw profileMismatch('typ', 'a SuperTokens access token has typ "JWT"')
      // Token versions 3+ always name their key (`d-<millis>` dynamic, `s-<uuid>` static).
      if (typeof header.kid !== 'string')
        throw profileMismatch('kid', 'a SuperTokens access token names its key')
      // A header without `version` is read as 3+ by the SDK; versions 1-2 are the legacy payload
      // (`userId`, no `sub`) that this profile does not understand.
      const version = header.version
      if (
        version !== undefined &&
        (typeof version !== 'string' || !/^[1-9][0-9]{0,3}$/.test(version) || Number(version) < 3)
      ) {
        throw profileMismatch('version', 'the SuperTokens access token version is not 3 or later')
      }
      // Token confusion (identity-providers.md §1.3, §4.4): OAuth2 provider access tokens (stt 1) and
      // ID tokens (stt 2) are signed by the same key set, usually with the same iss. Only a session
      // token (stt absent or 0) may sign someone in; the SDK's validateAccessTokenStructure agrees.
      if (Object.hasOwn(payload, 'stt') && payload.stt !== 0) {
        throw profileMismatch('stt', 'not a session access token (stt must be absent or 0)')
      }
      // The SDK adds iss = apiDomain + apiBasePath; the verifier compared it with the issuer.
      requireIdentifier(payload, 'iss')
      requireNumber(payload, 'exp')
      requireNumber(payload, 'iat')
      const subject = requireIdentifier(payload, 'sub')
      for (const claim of SESSION_STRING_CLAIMS) requireIdentifier(payload, claim)
      const sessionHandle = payload.sessionHandle as string
      if (tenants !== undefined && !tenants.includes(payload.tId as string)) {
        throw profileMismatch('tId', 'the token belongs to another tenant')
      }
      if (requireEmailVerified) {
        const ev = payload['st-ev']
        if (!isPlainObject(ev) || ev.v !== true) throw profileMismatch('st-ev', 'the email is not verified')
      }
      checkClaimValues(payload, claimValues)
      return { subject, providerSessionId: sessionHandle }
    },
  } satisfies TokenProfile)
}

export interface SupertokensIssuerOptions {
  /** The SuperTokens `appInfo.apiDomain`, an origin such as `https://api.example.com`. */
  apiDomain: string
  /** The SuperTokens `appInfo.apiBasePath`. Default `/auth`. */
  apiBasePath?: string
}

/**
 * The issuer and key set URL of a SuperTokens backend: `iss` = apiDomain + apiBasePath (the backend
 * SDK's OpenId recipe), key set at `iss + '/jwt/jwks.json'` (recipe/jwt/constants.js).
 *
 * @example
 * supertokensIssuer({ apiDomain: 'https://api.example.com' })
 * // { issuer: 'https://api.example.com/auth', jwksUri: 'https://api.example.com/auth/jwt/jwks.json' }
 */
export function supertokensIssuer(options: SupertokensIssuerOptions): { issuer: string; jwksUri: string } {
  if (!isPlainObject(options)) throw invalidOptions('supertokensIssuer needs { apiDomain }')
  const { apiDomain, apiBasePath = '/auth' } = options
  if (typeof apiDomain !== 'string') throw invalidOptions('supertokensIssuer: apiDomain must be a string')
  let url: URL
  try {
    url = new URL(apiDomain)
  } catch {
    throw invalidOptions(
      'supertokensIssuer: apiDomain must be an absolute URL such as https://api.example.com',
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidOptions('supertokensIssuer: apiDomain must be an http(s) URL')
  }
  // apiDomain is an origin in SuperTokens (NormalisedURLDomain); a path here belongs in apiBasePath.
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw invalidOptions('supertokensIssuer: apiDomain must be an origin (no path, query or credentials)')
  }
  if (typeof apiBasePath !== 'string' || /[?#\s]/.test(apiBasePath)) {
    throw invalidOptions('supertokensIssuer: apiBasePath must be a path such as /auth')
  }
  // NormalisedURLPath: a leading slash, no trailing slash, and "/" means no path at all.
  const trimmed = apiBasePath.replace(/\/+$/, '')
  const path = trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`
  const issuer = `${url.origin}${path}`
  return { issuer, jwksUri: `${issuer}/jwt/jwks.json` }
}
