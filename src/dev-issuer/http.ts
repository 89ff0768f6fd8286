/**
 * Plain request and response data for the development provider's core: any server (node:http, the
 * reference app, Fastify, Express) translates its own request into this and writes the answer back.
 */

type HeaderValue = string | readonly string[] | undefined

export interface DevIssuerRequest {
  /** HTTP method, any case. */
  method: string
  /**
   * The URL path as the server received it, including the issuer's own path (e.g.
   * `/dev-issuer/sign-in` when the issuer is `http://127.0.0.1:3000/dev-issuer`). A query string
   * left on it is read too.
   */
  path: string
  /** Query parameters; a repeated parameter may be given as an array. */
  query?: Readonly<Record<string, HeaderValue>>
  /** Request headers, names in lower case as node:http gives them (other cases are found too). */
  headers?: Readonly<Record<string, HeaderValue>>
  /** The raw body, or a form body the framework already parsed into an object. */
  body?: string | Uint8Array | Readonly<Record<string, unknown>>
}

export interface DevIssuerResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Largest request body read, in bytes: the sign-in form holds a name of at most 64 characters. */
export const MAX_BODY_BYTES = 16 * 1024

/** The first value of a header, looked up case-insensitively. */
export function headerValue(request: DevIssuerRequest, name: string): string | undefined {
  const headers = request.headers
  if (headers === undefined) return undefined
  let value = headers[name]
  if (value === undefined) {
    for (const [key, candidate] of Object.entries(headers)) {
      if (key.toLowerCase() === name) {
        value = candidate
        break
      }
    }
  }
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value[0]
}

/** Every value of the cookie `name` in the Cookie header (a browser may send several, by path). */
export function cookieValues(request: DevIssuerRequest, name: string): string[] {
  const header = request.headers?.cookie ?? headerValue(request, 'cookie')
  const lines = header === undefined ? [] : typeof header === 'string' ? [header] : [...header]
  const values: string[] = []
  for (const line of lines) {
    for (const part of line.split(';')) {
      const at = part.indexOf('=')
      if (at < 0 || part.slice(0, at).trim() !== name) continue
      values.push(part.slice(at + 1).trim())
    }
  }
  return values
}

/** The path and the query of a request, the query string on `path` merged under `query`. */
export function splitPath(request: DevIssuerRequest): { path: string; query: URLSearchParams } {
  const at = request.path.indexOf('?')
  const path = at < 0 ? request.path : request.path.slice(0, at)
  const query = new URLSearchParams(at < 0 ? '' : request.path.slice(at + 1))
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value === undefined) continue
    query.delete(name)
    for (const item of typeof value === 'string' ? [value] : value) query.append(name, item)
  }
  return { path, query }
}

/** A single-valued parameter: undefined when absent, null when repeated (ambiguous, refused). */
export function single(params: URLSearchParams, name: string): string | undefined | null {
  const values = params.getAll(name)
  if (values.length === 0) return undefined
  return values.length === 1 ? (values[0] as string) : null
}

export type FormResult = { ok: true; form: URLSearchParams } | { ok: false; status: 413 | 415; error: string }

/** Reads an `application/x-www-form-urlencoded` body (raw or already parsed by a framework). */
export function readForm(request: DevIssuerRequest): FormResult {
  const body = request.body
  if (body !== undefined && typeof body === 'object' && !(body instanceof Uint8Array)) {
    const form = new URLSearchParams()
    for (const [name, value] of Object.entries(body)) {
      if (typeof value === 'string') form.append(name, value)
      else if (Array.isArray(value))
        for (const item of value) if (typeof item === 'string') form.append(name, item)
    }
    return { ok: true, form }
  }
  const type = (headerValue(request, 'content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    return { ok: false, status: 415, error: 'send the form as application/x-www-form-urlencoded' }
  }
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body)
  if (bytes.length > MAX_BODY_BYTES) return { ok: false, status: 413, error: 'the form is too large' }
  return { ok: true, form: new URLSearchParams(bytes.toString('utf8')) }
}

/**
 * Whether a state-changing or token-reading request may come from where it comes from. Browsers send
 * `Sec-Fetch-Site` and, on POST, `Origin`: a request from another site is refused, so that a foreign
 * page cannot sign the browser in under the attacker's name (login CSRF, OWASP CSRF cheat sheet) or
 * sign it out. Tools (curl, tests) send neither and are let through: this provider is for development
 * on loopback.
 */
export function fromSameOrigin(request: DevIssuerRequest, origin: string): boolean {
  const site = headerValue(request, 'sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  const from = headerValue(request, 'origin')
  return from === undefined || from === origin
}

const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with the sign-in
  // form's POST, which the same-origin check must refuse. Nothing leaks to other origins either way.
  'referrer-policy': 'same-origin',
} as const

export function json(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): DevIssuerResponse {
  return {
    status,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
    body: JSON.stringify(value),
  }
}

export function empty(status: number, headers: Record<string, string> = {}): DevIssuerResponse {
  return { status, headers: { ...BASE_HEADERS, 'cache-control': 'no-store', ...headers }, body: '' }
}

/**
 * An HTML page. The policy allows nothing from anywhere, an inline style, and forms posting only to
 * this origin; no framing (clickjacking of the sign-in button).
 */
export function html(status: number, body: string, headers: Record<string, string> = {}): DevIssuerResponse {
  return {
    status,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-frame-options': 'DENY',
      ...headers,
    },
    body,
  }
}
