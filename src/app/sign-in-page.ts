/**
 * The sign-in page (`GET /auth/sign-in?return_to=/path`): where the forward-auth check and the reverse
 * proxy send a browser without a session. It carries the meta tags and the browser script, so that the
 * handoff happens here for pages the app does not render; once the session exists, it sends the
 * browser back to `return_to` (a path on this origin only: never an open redirect, CWE-601).
 */
import { isSafeReturnPath } from '../bridge/forward-auth.js'
import { escapeHtml, renderHead } from './pages.js'

/** Where to go after signing in: `return_to` if it is a safe path on this origin, else `/`. */
export function returnPath(query: unknown, signInPath: string): string {
  const value = (query as { return_to?: unknown } | undefined)?.return_to
  if (typeof value !== 'string' || !isSafeReturnPath(value)) return '/'
  // Back to the sign-in page itself would loop.
  if (value === signInPath || value.startsWith(`${signInPath}?`)) return '/'
  return value
}

export interface SignInPage {
  csrfToken: string
  authenticationUrl: string
  devIssuerPath: string | undefined
  /** The provider's sign-in link, when the app knows one (the development provider). */
  signInUrl: string | undefined
  /** Where the starter script and style live (`<authPath>/app.js`, `<authPath>/app.css`). */
  assetsBase: string
}

export function renderSignInPage(page: SignInPage): string {
  const link =
    page.signInUrl === undefined
      ? '<p>Sign in with your identity provider; this page hands its token to the app.</p>'
      : `<p><a id="sign-in" href="${escapeHtml(page.signInUrl)}">Sign in</a></p>`
  const head = renderHead({
    title: 'Sign in',
    authenticationUrl: page.authenticationUrl,
    signedIn: false,
    csrfToken: page.csrfToken,
    devIssuerPath: page.devIssuerPath,
    assetsBase: page.assetsBase,
  })
  return `${head}
  <body>
    <main>
      <h1>Sign in</h1>
      <p id="status">You are not signed in.</p>
      ${link}
    </main>
  </body>
</html>
`
}
