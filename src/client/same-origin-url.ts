// Where the browser script's requests go: one resolution against the page's own address. No DOM
// types here, so that the Node tests of the token sources compile it too.

/** The page's address: the window's own, unforgeable `location` (markup cannot clobber it). */
declare const location: { readonly href: string; readonly origin: string }

/**
 * `url` resolved against the page's own address, as an absolute URL, when it is on the page's origin
 * (or on any origin with `anyOrigin`: only for a URL from the app's own code, never from markup);
 * otherwise undefined. Resolved once, and the absolute result is what gets fetched: fetch would
 * resolve a relative URL again, against `document.baseURI`, which an injected `<base href>` anywhere
 * in the document moves to another origin.
 * (`URL` and `fetch`, like `location`, are the window's own properties: markup cannot clobber them.)
 */
export function sameOriginUrl(url: string | undefined, anyOrigin?: boolean): string | undefined {
  try {
    const resolved = new URL(url as string, location.href)
    if (url && (anyOrigin || resolved.origin === location.origin)) return resolved.href
  } catch {
    // not a URL: reported by the caller like a missing one
  }
  return undefined
}
