import { replyCode } from './decide.js'
import { authenticationUrl, META_NOT_UNIQUE, meta, refreshPage, send, takeMarker, warn } from './page.js'
import type { TokenSource } from './token-source.js'

export interface SignOutOptions {
  /** The provider whose session ends too (its `signOut`, when it has one). */
  source: TokenSource
  /** Overrides `<meta name="authentication-url">`. Must be on the page's origin. */
  authenticationUrl?: string
  /**
   * true: `authenticationUrl` (this option, never the page's meta tag) may be on another origin of the
   * same site (SPA on app.example.com, bridge on api.example.com; a dev server on another port). The
   * bridge lists the page's origin in `allowedOrigins`. Only the app's own code can send the token to
   * another origin: markup cannot. Default false.
   */
  crossOrigin?: boolean
  /** Called with an error code for each part that failed. Default: console.warn. */
  onError?: (code: string) => void
  /**
   * false when the provider's sign-out navigates away itself (Auth0 and Keycloak redirect to their
   * logout endpoints): a reload here would cancel that navigation. Default true.
   */
  reload?: boolean
}

/**
 * End both sessions, then show the page again: DELETE the app's session at the authentication URL
 * (with the CSRF header), then the provider's (e.g. SuperTokens `Session.signOut()`). The provider's
 * session ends even when the app's request fails: otherwise the next page would sign the user in
 * again with the provider's token.
 *
 * @example
 * button.onclick = () => signOut({ source: superTokensSource(Session) })
 */
export async function signOut(signOutOptions: SignOutOptions): Promise<void> {
  const { source, onError = warn } = signOutOptions
  let code: string
  try {
    const url = authenticationUrl(signOutOptions)
    code = url ? replyCode(await send('DELETE', url, meta('csrf-token'))) : 'ERR_AUTHENTICATION_URL'
  } catch {
    // A meta tag not exactly once in <head>: no DELETE (where to, with whose CSRF token?); the
    // provider's session still ends, as for any failure of the app's request.
    code = META_NOT_UNIQUE
  }
  if (code) onError(code)
  try {
    await source.signOut?.()
  } catch {
    onError('ERR_TOKEN_SOURCE')
  }
  takeMarker()
  if (signOutOptions.reload !== false) refreshPage()
}
