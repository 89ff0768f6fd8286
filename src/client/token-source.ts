/**
 * Where the browser script gets the identity provider's JWT. Any object of this shape works; the
 * factories in this folder build one for SuperTokens, the development provider and any function.
 *
 * @example
 * const source: TokenSource = { getToken: () => auth0.getTokenSilently() }
 */
export interface TokenSource {
  /** The provider's current JWT, or nothing when no one is signed in with the provider. */
  getToken(): Promise<string | null | undefined> | string | null | undefined
  /**
   * Make the provider issue a fresh token. Called at most once per page, when the server refuses a
   * token as too old or already used; `getToken()` is asked again afterwards.
   */
  refresh?(): unknown
  /** End the provider's own session (used by `signOut`). */
  signOut?(): unknown
}

/**
 * A compact JWS: three base64url segments, the signature not empty. Checked before anything is
 * sent so that an SDK value that is not a signed token (an unsigned payload object, an opaque
 * string) never reaches the server as if it were proof of identity.
 */
export function looksLikeJwt(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value)
}
