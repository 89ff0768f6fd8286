import { handOff, pageAction } from './decide.js'
import {
  authenticationUrl,
  find,
  META_NOT_UNIQUE,
  meta,
  metaElement,
  refreshPage,
  send,
  setMarker,
  takeMarker,
  warn,
} from './page.js'
import type { TokenSource } from './token-source.js'

export interface StartOptions {
  /** Where the provider's JWT comes from: superTokensSource, devIssuerSource, functionSource, or your own. */
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
  /** Called with an error code (never a token) when a handoff fails. Default: console.warn. */
  onError?: (code: string) => void
}

// Module state, shared by every start() call on this page (and across Turbo visits, which keep it).
let options: StartOptions | undefined
let listening = false
let busy = false
/**
 * The page that last sent a token, as its body and has-session elements. Turbo renders a new body on
 * every visit, but keeps a head meta tag equal to the new page's (isEqualNode), so the meta element
 * alone does not tell two visits apart; a morphing refresh keeps the body and swaps a changed meta.
 * The same body and meta element again is the same rendered page (a repeated turbo:load or start()).
 */
let posted: { body: Element | undefined; meta: Element } | undefined

/**
 * Hand the identity provider's JWT to the server when the page says it has no session, then show
 * the page again with the new session. Runs now (or at DOMContentLoaded) and on every `turbo:load`;
 * calling it again only replaces the options.
 *
 * @example
 * import Session from 'supertokens-web-js/recipe/session'
 * import { start, superTokensSource } from 'jwks-bridge/client'
 * start({ source: superTokensSource(Session) })
 */
export function start(startOptions: StartOptions): Promise<void> {
  options = startOptions
  if (!listening) {
    listening = true
    document.addEventListener('turbo:load', () => void run())
  }
  if (document.readyState !== 'loading') return run()
  return new Promise((resolve) =>
    document.addEventListener('DOMContentLoaded', () => resolve(run()), { once: true }),
  )
}

async function run(): Promise<void> {
  if (!options || busy) return
  const { source, onError = warn } = options
  let hasSession: HTMLMetaElement | undefined
  let url: string | undefined
  let csrf: string | undefined
  try {
    hasSession = metaElement('has-session')
    // One handoff at a time, and never a second one for a visit that already sent a token.
    if (!hasSession || (posted?.meta === hasSession && posted.body === body())) return
    const action = pageAction(hasSession.content, takeMarker())
    if (action === 'skip') return
    if (action !== 'hand-off') return onError(action)
    // Everything the request takes from the page is read before the provider is asked for a token.
    url = authenticationUrl(options)
    if (!url) return onError('ERR_AUTHENTICATION_URL')
    csrf = meta('csrf-token')
  } catch {
    return onError(META_NOT_UNIQUE)
  }
  busy = true
  try {
    const result = await handOff(source, (token) => {
      posted = { body: body(), meta: hasSession }
      return send('PUT', url, csrf, token)
    })
    if (result === 'ok') {
      setMarker()
      refreshPage()
    } else if (result !== 'none') {
      onError(result)
    }
  } finally {
    busy = false
  }
}

/** The body element, not `document.body`: see find. */
const body = () => find('body')[0]
