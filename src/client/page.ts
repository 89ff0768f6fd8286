// The DOM side of the browser script: meta tags, requests to the authentication endpoint, the
// refresh after a change of session, and a per-tab marker that stops reload loops.
import type { Reply } from './decide.js'

/**
 * A meta tag's element, from `<head>` only: a `<meta>` that HTML injection put into the body (user
 * content, no script needed) must not choose where the token goes. Turbo merges head meta tags on
 * every render, so they are read again at each run.
 */
export function metaElement(name: string): HTMLMetaElement | null {
  return document.head.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)
}

export function meta(name: string): string | undefined {
  return metaElement(name)?.content
}

/**
 * The authentication URL from the options or the page, only when it is on this page's origin: the
 * token is a bearer credential, and the app's cookie is same-origin anyway (credentials:
 * 'same-origin'), so a foreign URL could only be a leak. Returns undefined otherwise.
 */
export function authenticationUrl(given: string | undefined): string | undefined {
  const url = given ?? meta('authentication-url')
  try {
    if (url && new URL(url, location.href).origin === location.origin) return url
  } catch {
    // not a URL: reported by the caller like a missing one
  }
  return undefined
}

/**
 * One request to the authentication endpoint, same-origin credentials, `X-CSRF-Token` from
 * `<meta name="csrf-token">` when the page has one. Never throws: a network failure is status 0.
 */
export async function send(method: string, url: string, token?: string): Promise<Reply> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  const csrf = meta('csrf-token')
  if (csrf) headers['X-CSRF-Token'] = csrf
  let body: string | undefined
  if (token) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify({ jwt: token })
  }
  try {
    const response = await fetch(url, { method, headers, body, credentials: 'same-origin' })
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
  if (turbo) {
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
