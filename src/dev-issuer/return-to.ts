/** Longest `return_to` accepted, in characters. */
const MAX_RETURN_TO_LENGTH = 2048

/**
 * Where the browser may be sent after signing in. Only this origin: a path (`/account?tab=1`) or an
 * absolute URL whose origin is the issuer's. Anything else is refused, not rewritten, so that the
 * sign-in page cannot be used as an open redirect (CWE-601; OAuth 2.0 Security BCP, RFC 9700 §4.11).
 *
 * The check is made on the URL as a browser parses it (WHATWG URL): `//evil.example`, `/\evil.example`
 * and `/\t/evil.example` all resolve to another host and are refused by the origin comparison, not by
 * a list of bad spellings. Returns what to put in `Location`, or undefined when refused.
 */
export function safeReturnTo(value: string, origin: string): string | undefined {
  if (value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return undefined
  // Control characters have no business in a URL and are silently dropped by parsers (tab, newline).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) return undefined
  let url: URL
  try {
    url = new URL(value, `${origin}/`)
  } catch {
    return undefined
  }
  if (url.origin !== origin) return undefined
  if (value.startsWith('/')) {
    // A relative path stays relative, so the browser keeps the host it used; still a single slash and
    // no backslash, as the origin check above already established for the parsed form.
    if (value.startsWith('//') || value.includes('\\')) return undefined
    return `${url.pathname}${url.search}${url.hash}`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  return url.href
}
