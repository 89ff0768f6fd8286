import { looksLikeJwt, type TokenSource } from './token-source.js'

/**
 * The part of `supertokens-web-js/recipe/session` (or `supertokens-website`) the script uses.
 * Structural, so that no SuperTokens package is needed to build or type-check this one.
 */
export interface SuperTokensSessionLike {
  doesSessionExist(): Promise<boolean>
  /** supertokens-web-js for supertokens-node >= 14: the access token, itself a JWT. */
  getAccessToken?(): Promise<string | undefined>
  /** Legacy (supertokens-node <= 13 with `jwt: { enable: true }`): the payload, with a separate JWT in `.jwt`. */
  getAccessTokenPayloadSecurely?(): Promise<unknown>
  attemptRefreshingSession(): Promise<boolean>
  signOut(): Promise<void>
}

/**
 * Token source for SuperTokens. Since supertokens-node 14 the access token is a JWT
 * (`Session.getAccessToken()`); in cookie mode the backend must set
 * `exposeAccessTokenToFrontendInCookieBasedAuth: true` for the script to read it, and the source
 * reports ERR_ACCESS_TOKEN_NOT_EXPOSED when a session exists but no token can be read.
 *
 * @example
 * import Session from 'supertokens-web-js/recipe/session'
 * start({ source: superTokensSource(Session) })
 */
export function superTokensSource(session: SuperTokensSessionLike): TokenSource {
  return {
    async getToken() {
      if (!(await session.doesSessionExist())) return undefined
      const token = await session.getAccessToken?.()
      if (looksLikeJwt(token)) return token
      // Legacy setups put a separately signed JWT in payload.jwt. The payload itself is the decoded,
      // unsigned front-token ("securely" means "not expired", not "verified"): it is never sent.
      const payload = await session.getAccessTokenPayloadSecurely?.()
      const legacy = (payload as { jwt?: unknown } | null | undefined)?.jwt
      if (looksLikeJwt(legacy)) return legacy
      throw new Error('ERR_ACCESS_TOKEN_NOT_EXPOSED')
    },
    refresh: () => session.attemptRefreshingSession(),
    signOut: () => session.signOut(),
  }
}
