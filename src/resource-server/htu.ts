/**
 * The `htu` form of a URL (RFC 9449 §4.3 check 9): what a DPoP proof's `htu` and the request's URL are
 * compared by. A bounded cache keeps the form of the URL strings that requests repeat, so that the
 * usual request parses no URL at all.
 */

/**
 * Scheme, authority and path, without query and fragment (RFC 9449 §4.3 check 9), normalized as
 * WHATWG URL parsing does (case of scheme and host, default port, dot segments, percent-encoding of
 * the path: RFC 3986 §6.2.2-6.2.3).
 */
export function htuOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

/**
 * Whether `url`'s path is already in the form `htu` has (`htu` being `htuOfString(url)`): no dot
 * segments (`/..`, `/%2e%2e`), no backslash, nothing parsing would percent-encode. A request whose
 * target is not is refused for DPoP: a Node router dispatches on the raw path, so `/admin/../things`
 * could be answered by an `/admin/:x/things` route while the proof, checked against the normalized
 * `/things`, names another resource (RFC 9449 §4.3 check 9 binds the proof to the request as served).
 */
export function pathIsNormalized(url: string, htu: string): boolean {
  if (url.includes('\\')) return false
  const end = url.search(/[?#]/)
  const withoutQuery = end === -1 ? url : url.slice(0, end)
  const authority = withoutQuery.indexOf('//')
  const pathAt = withoutQuery.indexOf('/', authority === -1 ? 0 : authority + 2)
  const rawPath = pathAt === -1 ? '/' : withoutQuery.slice(pathAt)
  const htuPathAt = htu.indexOf('/', htu.indexOf('//') + 2)
  return rawPath === htu.slice(htuPathAt)
}

/** `htuOf(new URL(url))`, or undefined when `url` is not an absolute URL. */
export function htuOfString(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  return htuOf(parsed)
}

/**
 * `htuOfString` by URL string. A pure function of the string, so a cached answer is the answer: only
 * strings that parsed are kept, and only short ones without query or fragment (the query varies from
 * request to request; a URL with one is parsed each time). Bounded: it starts over when full, so a
 * client sending ever new URLs costs a parse each, as without the cache, and no more memory.
 */
export class HtuCache {
  readonly #entries = new Map<string, string>()
  constructor(
    readonly maxEntries = 1000,
    readonly maxUrlLength = 512,
  ) {}

  of(url: string): string | undefined {
    const known = this.#entries.get(url)
    if (known !== undefined) return known
    const htu = htuOfString(url)
    if (htu !== undefined && url.length <= this.maxUrlLength && !url.includes('?') && !url.includes('#')) {
      if (this.#entries.size >= this.maxEntries) this.#entries.clear()
      this.#entries.set(url, htu)
    }
    return htu
  }

  get size(): number {
    return this.#entries.size
  }
}
