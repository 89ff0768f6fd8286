/**
 * INJECT_META_TAGS: the reverse proxy writes the browser script's meta tags (`authentication-url`,
 * `has-session`, `csrf-token`) into the upstream's HTML pages, right after the `<head ...>` start tag,
 * for backends that cannot render them from the forwarded headers. The body streams: only its first
 * bytes, up to the `<head>` tag, are held (at most `maxHeadBytes`); every other byte passes unchanged.
 *
 * The rule about tags the page already has: the bridge always inserts its own and never yields to a
 * tag it did not write. A page whose head already carries one then has it twice, and the browser
 * script refuses to sign in (ERR_META_TAG_NOT_UNIQUE, with a console error) and the proxy logs a
 * warning: a loud failure. Yielding instead would let HTML injection into the upstream's page (user
 * content) choose the authentication URL, e.g. a same-origin endpoint that stores what it is sent, and
 * the browser would hand it the identity provider's token.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { scanHead } from './head-scanner.js'
import { escapeHtml } from './pages.js'

/** What the page's meta tags say. */
export interface PageMetaValues {
  authenticationUrl: string
  hasSession: boolean
  csrfToken: string
}

/** The three meta tags, attribute values escaped (ours, but a value must never end the attribute). */
export function renderMetaTags(meta: PageMetaValues): string {
  return (
    `<meta name="authentication-url" content="${escapeHtml(meta.authenticationUrl)}">` +
    `<meta name="has-session" content="${meta.hasSession ? 'true' : 'false'}">` +
    `<meta name="csrf-token" content="${escapeHtml(meta.csrfToken)}">`
  )
}

/** Default bound on the bytes held while looking for `<head>`. */
export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024

export type Injection =
  /** An HTML body to rewrite. */
  | 'inject'
  /** Nothing to rewrite: not HTML, no body (HEAD, 204, 304, ...), or a redirect. */
  | 'pass'
  /** HTML, but compressed (the upstream ignored `Accept-Encoding: identity`): passed through untouched. */
  | 'encoded'

/**
 * Whether an upstream answer gets the tags. Only a body the browser renders as a page: a response
 * with a body (not HEAD, 1xx, 204, 205, 304, nor a partial 206), not a redirect, `text/html`, and no
 * content coding (rewriting compressed bytes would corrupt them).
 */
export function injectionFor(
  method: string,
  status: number,
  headers: Readonly<Record<string, string | string[] | number | undefined>>,
): Injection {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 205 || status === 206) return 'pass'
  if (status >= 300 && status < 400) return 'pass'
  const type = headers['content-type']
  if (typeof type !== 'string' || !/^\s*text\/html\s*(?:;|$)/i.test(type)) return 'pass'
  const encoding = headers['content-encoding']
  if (encoding !== undefined && !/^\s*identity\s*$/i.test(String(encoding))) return 'encoded'
  return 'inject'
}

/**
 * Response headers that describe the upstream's exact bytes, which the injection changes: the length
 * (the body is then sent chunked), validators and digests. Removed from an injected response.
 */
export const INVALIDATED_HEADERS = ['content-length', 'etag', 'content-md5', 'content-digest', 'repr-digest']

/** How one body went: for the proxy's log (a warning once per kind). */
export type InjectionOutcome =
  | 'injected'
  /** Injected, but the head already had one of the tags: the script will refuse the page. */
  | 'duplicate'
  /** No `<head>` start tag where one belongs (a fragment, a page without one): untouched. */
  | 'no-head'
  /** `<head>` not found within the bound: untouched. */
  | 'too-large'

const OURS = /<meta\b[^>]*?\bname\s*=\s*["']?(?:authentication-url|has-session|csrf-token)\b/i

export interface MetaInjectorOptions {
  /** The tags to insert (renderMetaTags). */
  tags: string
  maxHeadBytes: number
  onOutcome?: (outcome: InjectionOutcome) => void
}

/** A stream that inserts `tags` after the `<head ...>` start tag of the HTML flowing through it. */
export function createMetaInjector(options: MetaInjectorOptions): Transform {
  const { maxHeadBytes } = options
  const report = options.onOutcome ?? (() => {})
  let held: Buffer[] = []
  let heldBytes = 0
  let text = ''
  let from = 0
  let decided = false
  const tagBytes = Buffer.from(options.tags, 'utf8')

  function release(stream: Transform, insertAt: number | undefined): void {
    decided = true
    const all = Buffer.concat(held, heldBytes)
    held = []
    if (insertAt === undefined) {
      stream.push(all)
      return
    }
    // One write: the head and its tags leave together.
    stream.push(Buffer.concat([all.subarray(0, insertAt), tagBytes, all.subarray(insertAt)]))
    // A diagnostic only, over what is in hand: the tags are inserted either way (see the module comment).
    const rest = text.slice(insertAt)
    const headEnd = rest.search(/<\/head\b/i)
    report(OURS.test(headEnd === -1 ? rest : rest.slice(0, headEnd)) ? 'duplicate' : 'injected')
  }

  function step(stream: Transform, final: boolean): void {
    // `text` holds the whole body only when it ended within the bound.
    const scan = scanHead(text, from, final && heldBytes <= maxHeadBytes)
    if (scan.state === 'found') {
      release(stream, scan.at)
    } else if (scan.state === 'no-head') {
      release(stream, undefined)
      report('no-head')
    } else if (final || heldBytes >= maxHeadBytes) {
      // Past the bound: what is held goes out as it came, and the rest streams untouched.
      release(stream, undefined)
      report('too-large')
    } else {
      from = scan.from
    }
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (decided) return done(null, chunk)
      held.push(chunk)
      heldBytes += chunk.length
      const room = maxHeadBytes - text.length
      if (room > 0) text += chunk.subarray(0, room).toString('latin1')
      step(this, false)
      done()
    },
    flush(done: TransformCallback) {
      if (!decided) step(this, true)
      done()
    },
  })
}
