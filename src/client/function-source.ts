import type { TokenSource } from './token-source.js'

/**
 * Token source from plain functions, for any provider whose SDK hands out a JWT.
 *
 * @param getToken returns the JWT, or nothing when no one is signed in with the provider
 * @param refresh makes the provider issue a new token (then getToken is asked again); without it a
 *   token refused as too old or replayed is not retried
 * @param signOut ends the provider's session, for `signOut()`
 *
 * @example
 * functionSource(() => auth0.getTokenSilently(), () => auth0.getTokenSilently({ cacheMode: 'off' }))
 */
export function functionSource(
  getToken: TokenSource['getToken'],
  refresh?: () => unknown,
  signOut?: () => unknown,
): TokenSource {
  return { getToken, refresh, signOut }
}
