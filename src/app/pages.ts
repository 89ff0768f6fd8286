import type { Identity } from '../stores/types.js'

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export interface HomePage {
  identity: Identity | null
  csrfToken: string
  authenticationUrl: string
  /** The development provider's path, when it is mounted (the browser script gets tokens there). */
  devIssuerPath: string | undefined
  /** Where the sign-in link goes, when the app knows one. */
  signInUrl: string | undefined
  issuer: string
}

export interface PageHead {
  title: string
  authenticationUrl: string
  signedIn: boolean
  csrfToken: string
  /** The development provider's path, when it is mounted (the browser script gets tokens there). */
  devIssuerPath: string | undefined
  /** Where the starter script and style live: `/assets`, or the authentication URL's path. */
  assetsBase: string
}

/**
 * The document up to `</head>`, the same on every page of the app. The meta tags are the contract with
 * the browser script: authentication-url, has-session, csrf-token. No inline script (the CSP forbids it).
 */
export function renderHead(head: PageHead): string {
  const meta = [
    `<meta name="authentication-url" content="${escapeHtml(head.authenticationUrl)}">`,
    `<meta name="has-session" content="${head.signedIn ? 'true' : 'false'}">`,
    `<meta name="csrf-token" content="${escapeHtml(head.csrfToken)}">`,
    // Turbo must not restore a signed-out page from its cache after sign-in (identity-providers §5).
    head.signedIn ? '' : '<meta name="turbo-cache-control" content="no-cache">',
    head.devIssuerPath === undefined
      ? ''
      : `<meta name="dev-issuer" content="${escapeHtml(head.devIssuerPath)}">`,
  ]
    .filter(Boolean)
    .join('\n    ')
  const assets = escapeHtml(head.assetsBase)
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(head.title)}</title>
    ${meta}
    <link rel="stylesheet" href="${assets}/app.css">
    <script src="/assets/jwks-bridge-client.min.js" defer></script>
    <script src="${assets}/app.js" defer></script>
  </head>`
}

/** The reference app's one page (its head: `renderHead`). */
export function renderHome(page: HomePage): string {
  const signedIn = page.identity !== null
  const body = signedIn
    ? signedInSection(page.identity as Identity)
    : `<p id="status">You are not signed in.</p>
      ${
        page.signInUrl === undefined
          ? '<p>Sign in with your identity provider on this page; the browser script hands its token to the app.</p>'
          : `<p><a id="sign-in" href="${escapeHtml(page.signInUrl)}">Sign in</a></p>`
      }`
  const head = renderHead({
    title: 'jwks-bridge reference app',
    authenticationUrl: page.authenticationUrl,
    signedIn,
    csrfToken: page.csrfToken,
    devIssuerPath: page.devIssuerPath,
    assetsBase: '/assets',
  })
  return `${head}
  <body>
    <main>
      <h1>jwks-bridge</h1>
      <p class="issuer">Trusting tokens from <code>${escapeHtml(page.issuer)}</code></p>
      ${body}
    </main>
  </body>
</html>
`
}

function signedInSection(identity: Identity): string {
  return `<p id="status">Signed in as <strong id="subject">${escapeHtml(identity.subject)}</strong></p>
      <dl>
        <dt>Identity</dt><dd><code id="identity-id">${escapeHtml(identity.id)}</code></dd>
        <dt>Issuer</dt><dd><code>${escapeHtml(identity.issuer)}</code></dd>
        <dt>First sign-in</dt><dd>${new Date(identity.createdAtMs).toISOString()}</dd>
      </dl>
      <p><button id="sign-out" type="button">Sign out</button></p>`
}

/** Starts the browser script with the development provider as token source, and wires sign-out. */
export const APP_SCRIPT = `(function () {
  'use strict'
  var bridge = window.JwksBridge
  if (!bridge) return
  var meta = document.querySelector('meta[name="dev-issuer"]')
  var source = meta ? bridge.devIssuerSource(meta.getAttribute('content')) : undefined
  if (source) bridge.start({ source: source })
  var button = document.getElementById('sign-out')
  if (button) {
    button.addEventListener('click', function () {
      bridge.signOut(source ? { source: source } : {})
    })
  }
})()
`

export const APP_CSS = `body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 40rem; padding: 0 1rem; }
code { font-size: 0.9em; } dt { font-weight: 600; } .issuer { color: #555; }
`
