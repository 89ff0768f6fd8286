// The DOM side of the browser script: meta tags, requests to the authentication endpoint, the
// refresh after a change of session, and a per-tab marker that stops reload loops.
import type { Reply } from './decide.js'
import { sameOriginUrl } from './same-origin-url.js'

/** A meta tag the script relies on is not exactly one element, in `<head>`. */
export const META_NOT_UNIQUE = 'ERR_META_TAG_NOT_UNIQUE'

/**
 * The elements a selector matches in the document. From Document.prototype: the document's own
 * properties are clobbered by named elements in the body (`<img name="querySelectorAll">`, and
 * `<form name="head">` for `document.head`, `<img name="body">` for `document.body`).
 */
export function find(selector: string): NodeListOf<Element> {
  return Document.prototype.querySelectorAll.call(document, selector)
}

/**
 * The page's one `<meta name="...">`, or undefined when it has none. HTML injection (user content, no
 * script needed) can add a meta tag anywhere, before or after the real one: rather than guess which
 * is real, a second one, or one outside `<head>` (`:root>head`, see find), makes this throw
 * META_NOT_UNIQUE after a console error naming the tag, and nothing is sent. Turbo merges head meta
 * tags on every render, so they are read again at each run.
 */
export function metaElement(name: string): HTMLMetaElement | undefined {
  const found = find(`meta[name="${name}"]`)
  const first = found[0] as HTMLMetaElement | undefined
  if (found.length > 1 || (first && !first.matches(':root>head>*'))) {
    console.error(`jwks-bridge: <meta name="${name}"> must be in <head>, once`)
    throw new Error(META_NOT_UNIQUE)
  }
  return first
}

export function meta(name: string): string | undefined {
  return metaElement(name)?.content
}

/**
 * The authentication URL from the options or the page, absolute, only when it is on this page's
 * origin, or when it is the `authenticationUrl` option and `crossOrigin` is on. The token is a bearer
 * credential: markup (an injected meta tag) must never send it elsewhere, so only the app's own code
 * can name another origin. Undefined otherwise; throws META_NOT_UNIQUE.
 */
export function authenticationUrl(options: {
  authenticationUrl?: string | undefined
  crossOrigin?: boolean | undefined
}): string | undefined {
  const given = options.authenticationUrl
  return sameOriginUrl(given ?? meta('authentication-url'), options.crossOrigin && !!given)
}

/**
 * One request to the authentication endpoint (an absolute URL from authenticationUrl), with
 * credentials (`include`: for the page's own origin the same as `same-origin`; for an opted-in other
 * origin, what lets its bridge read and set its cookie), `X-CSRF-Token` when the page has a csrf-token
 * (read by the caller, before anything is sent). Never throws: a network failure is status 0.
 */
export async function send(
  method: string,
  url: string,
  csrf: string | undefined,
  token?: string,
): Promise<Reply> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (csrf) headers['X-CSRF-Token'] = csrf
  let body: string | undefined
  if (token) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify({ jwt: token })
  }
  try {
    const response = await fetch(url, { method, headers, body, credentials: 'include' })
    let code: string | undefined
    if (!response.ok) {
      try {
        code = ((await response.json()) as { error: { code: string } }).error.code
      } catch {
        // no JSON error body: the status alone is reported
      }
    }
    return { status: response.status, code }
  } catch {
    return { status: 0 }
  }
}

interface TurboLike {
  cache?: { clear(): void }
  /** Turbo 7 */
  clearCache?(): void
  visit(location: string, options: { action: 'replace' }): void
}

/**
 * Show the page as the server now renders it. With Hotwire Turbo: clear its snapshot cache first
 * (a cached page still says has-session="false" and would start a second handoff on Back), then a
 * replace visit, which adds no history entry. Without Turbo: a full reload.
 */
export function refreshPage(): void {
  const turbo = (window as unknown as { Turbo?: TurboLike }).Turbo
  // Without Turbo, `<img id="Turbo">` in the body makes window.Turbo an element (DOM clobbering):
  // only an object that can visit is taken for Turbo, else the page would not be shown again.
  if (typeof turbo?.visit === 'function') {
    turbo.cache ? turbo.cache.clear() : turbo.clearCache?.()
    turbo.visit(location.href, { action: 'replace' })
  } else {
    location.reload()
  }
}

const MARKER = 'jwks-bridge:handed-off'
let markerInMemory = false

/**
 * Read and clear the "handed off, now refreshing" marker. It lives in sessionStorage (this tab only)
 * to survive location.reload(); in memory as well, for storage that throws (sandboxed frames).
 */
export function takeMarker(): boolean {
  let marked = markerInMemory
  markerInMemory = false
  try {
    marked = sessionStorage.getItem(MARKER) !== null || marked
    sessionStorage.removeItem(MARKER)
  } catch {
    // storage unavailable: the in-memory marker still covers Turbo visits
  }
  return marked
}

export function setMarker(): void {
  markerInMemory = true
  try {
    sessionStorage.setItem(MARKER, '1')
  } catch {
    // storage unavailable: see takeMarker
  }
}

export function warn(code: string): void {
  // The code only: never the token, never a response body.
  console.warn(`jwks-bridge: ${code}`)
}
