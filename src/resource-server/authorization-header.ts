/**
 * Reads the credentials of a request: the `Authorization` header (RFC 9110 §11.6.2, RFC 6750 §2.1,
 * RFC 9449 §7.1) and the `DPoP` header (RFC 9449 §4.1). Plain data in, plain data out; every refusal
 * is a `JwksBridgeError` that `challenge()` turns into the right answer.
 */
import { JwksBridgeError } from '../errors.js'

/** A header's value as frameworks hand it over: one string, or one string per field line. */
export type HeaderValue = string | readonly string[] | undefined

/** Request headers. Names are matched case-insensitively; Node's (lower-case) objects fit as they are. */
export type RequestHeaders = Readonly<Record<string, HeaderValue>>

export interface PresentedCredentials {
  /** The scheme as this library spells it, whatever case the client used (RFC 9110 §11.1). */
  scheme: 'Bearer' | 'DPoP'
  token: string
  /** The `DPoP` header, when the request has exactly one. */
  proof: string | undefined
}

export interface HeaderLimits {
  /** Longest `Authorization` value accepted, in characters. */
  maxAuthorizationLength: number
  /** Longest `DPoP` value accepted, in characters. */
  maxProofLength: number
}

export function invalidRequest(message: string, claim?: string): JwksBridgeError {
  return new JwksBridgeError('ERR_REQUEST_INVALID', message, claim === undefined ? {} : { claim })
}

// RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; the scheme is a token.
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s
// RFC 6750 §2.1 b64token, the same alphabet as RFC 9110's token68.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/
// The two above and "no list" at once, for a scheme of letters (Bearer, DPoP): what this matches, they
// accept with the same scheme and token, so the rule-by-rule path runs only for a header to refuse.
const SIMPLE_CREDENTIALS = /^([A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)$/
/** Optional whitespace around a field value is not part of it (RFC 9110 §5.5). A loop, not a regex: linear. */
function trimOws(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

/**
 * More than one credential: several `Authorization` lines, or a list in one. The same refusal (code,
 * message, claim) whichever form it came in: a Web `Headers` joins repeated lines with ", " (RFC 9110
 * §5.3), so the fetch and Hono adapters cannot tell the two apart, and their answer must not differ
 * from Express's and Fastify's.
 */
function severalCredentials(): JwksBridgeError {
  return invalidRequest(
    'the request has more than one Authorization header, or a list of credentials in one; send exactly one access token',
    'authorization',
  )
}

/** More than one DPoP proof (RFC 9449 §4.3 check 1), as lines or as a list: one refusal, as above. */
function severalProofs(): JwksBridgeError {
  return invalidRequest(
    'the request has more than one DPoP header, or a list of proofs in one; send exactly one proof',
    'dpop',
  )
}

/**
 * The one field line of a header, or undefined. Several lines, or one line holding a list, are a
 * malformed request (RFC 6750 §3.1 `invalid_request`: "repeats the same parameter"): which one counts
 * is exactly what an attacker and a proxy could disagree on.
 */
function singleValue(
  headers: RequestHeaders,
  name: string,
  shown: string,
  max: number,
  several: () => JwksBridgeError,
): string | undefined {
  // Every field line of the header, whatever case its name was given in: counted, not collected (this
  // runs twice on every request), and only the first kept.
  let count = 0
  let line = ''
  for (const key in headers) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue
    const value = headers[key]
    if (typeof value === 'string') {
      count += 1
      line = value
    } else if (Array.isArray(value)) {
      count += value.length
      if (value.length > 0) line = String(value[0])
    }
  }
  if (count === 0) return undefined
  if (count > 1) throw several()
  // Checked before any parsing, so that a huge value costs nothing more than its length.
  if (line.length > max) throw invalidRequest(`the ${shown} header is longer than ${max} characters`, name)
  return trimOws(line)
}

const SP = 0x20
const HTAB = 0x09
const COMMA = 0x2c
const EQUALS = 0x3d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** RFC 9110 §5.6.2 tchar: the characters of a token (an auth-scheme, an auth-param's name). */
function isTchar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x23 && code <= 0x27) || // # $ % & '
    code === 0x21 || // !
    code === 0x2a || // *
    code === 0x2b || // +
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5e || // ^
    code === 0x5f || // _
    code === 0x60 || // `
    code === 0x7c || // |
    code === 0x7e // ~
  )
}

/**
 * Whether what follows a list comma (at `from`) starts new credentials: an auth-scheme, i.e. a token
 * not followed by "=" (that would be an auth-param, `realm="x"`; a token68 never starts with "=").
 * Reads only whitespace and one token, and stops before the next comma: every call reads its own
 * stretch of the value, so a value of commas costs no more than its length.
 */
function startsCredentials(value: string, from: number): boolean {
  let i = from
  while (i < value.length && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++
  const start = i
  while (i < value.length && isTchar(value.charCodeAt(i))) i++
  // An empty list element (", ,", a trailing comma) is no credential (RFC 9110 §5.6.1).
  if (i === start) return false
  while (i < value.length && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++
  return i === value.length || value.charCodeAt(i) !== EQUALS
}

/**
 * Whether an `Authorization` value holds more than one credential: a comma, outside a quoted-string,
 * followed by an auth-scheme. RFC 9110 §5.3 lets a recipient join repeated field lines with ", ", and a
 * Web `Headers` always does: `Authorization: Basic x` and `Authorization: Bearer y` reach the fetch and
 * Hono adapters as `Basic x, Bearer y`, which must be refused as the two lines are (RFC 6750 §3.1,
 * RFC 9449 §7.1: more than one method, or more than one Authorization header, is `invalid_request`)
 * rather than answered as a Basic request (401). A single credential never matches: a token68 has no
 * comma and no space (RFC 9110 §11.4, RFC 7235 §2.1), and in `#auth-param` a comma is followed by a
 * name and "=" (`Digest username="a", realm="b"`), or sits inside a quoted-string. One linear pass.
 */
export function holdsSeveralCredentials(value: string): boolean {
  let quoted = false
  // The last character outside a quoted-string and whitespace was "=": an auth-param's value, which
  // may be a quoted-string. Anywhere else a '"' opens nothing (the value is malformed there anyway).
  let afterEquals = false
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (quoted) {
      // quoted-pair: the character after a backslash is taken as it is, a quote too.
      if (code === BACKSLASH) i++
      else if (code === QUOTE) quoted = false
      continue
    }
    if (code === SP || code === HTAB) continue
    if (code === QUOTE && afterEquals) {
      quoted = true
      afterEquals = false
      continue
    }
    afterEquals = code === EQUALS
    if (code === COMMA && startsCredentials(value, i + 1)) return true
  }
  return false
}

function credentialsMatch(authorization: string): RegExpExecArray {
  const match = CREDENTIALS.exec(authorization)
  if (match === null) throw invalidRequest('the Authorization header is not "<scheme> <token>"')
  return match
}

/** RFC 9110 §11.1: the scheme name is case-insensitive ("bearer", "DPOP" are the same schemes). */
function schemeOf(name: string): 'Bearer' | 'DPoP' {
  const lower = name.toLowerCase()
  if (lower === 'bearer') return 'Bearer'
  if (lower === 'dpop') return 'DPoP'
  throw new JwksBridgeError(
    'ERR_AUTH_SCHEME_UNSUPPORTED',
    'the Authorization header uses a scheme this API does not accept; send a Bearer or DPoP access token',
  )
}

/** The token of credentials the one-pass pattern did not take, or the refusal that names why. */
function checkedToken(token: string | undefined, scheme: 'Bearer' | 'DPoP'): string {
  if (token === undefined || token.length === 0) throw invalidRequest(`the ${scheme} scheme has no token`)
  // A comma that did not start new credentials (`Bearer a,`, `Bearer a,=`) is still no token68.
  if (token.includes(',')) throw severalCredentials()
  if (!TOKEN68.test(token)) throw invalidRequest(`the ${scheme} token has characters a token cannot have`)
  return token
}

/**
 * The access token and its scheme. Throws ERR_TOKEN_MISSING without an `Authorization` header,
 * ERR_AUTH_SCHEME_UNSUPPORTED for a scheme other than Bearer and DPoP (Basic, a session...), and
 * ERR_REQUEST_INVALID for anything malformed.
 */
export function readCredentials(headers: RequestHeaders, limits: HeaderLimits): PresentedCredentials {
  const authorization = singleValue(
    headers,
    'authorization',
    'Authorization',
    limits.maxAuthorizationLength,
    severalCredentials,
  )
  if (authorization === undefined) {
    throw new JwksBridgeError(
      'ERR_TOKEN_MISSING',
      'the request has no Authorization header; send an access token',
    )
  }
  // One pass for the usual header; anything else takes the rule-by-rule path, which names what is wrong.
  const simple = SIMPLE_CREDENTIALS.exec(authorization)
  // Before the scheme is looked at: `Basic x, Bearer y` (two lines, joined) is two credentials, not a
  // Basic request. The usual header has no comma and never gets here.
  if (simple === null && holdsSeveralCredentials(authorization)) throw severalCredentials()
  const match = simple ?? credentialsMatch(authorization)
  const scheme = schemeOf(match[1] as string)
  const token = simple === null ? checkedToken(match[2], scheme) : (match[2] as string)
  const proof = singleValue(headers, 'dpop', 'DPoP', limits.maxProofLength, severalProofs)
  if (proof !== undefined) {
    if (proof.length === 0) throw invalidRequest('the DPoP header is empty', 'dpop')
    // A proof is one compact JWS, never a list (RFC 9449 §4.3 check 1: not more than one proof); two
    // DPoP lines joined with ", " by a Web `Headers` get the answer two lines get from Node.
    if (proof.includes(',')) throw severalProofs()
  }
  return { scheme, token, proof }
}

/** The query part of a URL (`?...`, without the fragment), or '' when it has none. */
export function searchOf(url: string | URL): string {
  if (typeof url !== 'string') return url.search
  const query = url.indexOf('?')
  const hash = url.indexOf('#')
  if (query === -1 || (hash !== -1 && hash < query)) return ''
  return url.slice(query, hash === -1 ? undefined : hash)
}

/**
 * RFC 6750 §2: a client MUST NOT send its token by more than one method in a request, and this API
 * reads it from the header alone (`bearer_methods_supported: ["header"]`). A token in the query (it
 * ends up in logs and Referer headers, RFC 6750 §5.3) or in a form body is refused rather than ignored,
 * so that a client learns at once why it is not authenticated.
 */
export function refuseOtherTokenMethods(search: string, body: unknown): void {
  // Parsed only when there is a query: most API requests have none.
  if (search.length > 1 && new URLSearchParams(search).has('access_token')) {
    throw invalidRequest(
      'the URL carries an access_token parameter; send the token in the Authorization header only',
      'access_token',
    )
  }
  if (typeof body === 'object' && body !== null && Object.hasOwn(body, 'access_token')) {
    throw invalidRequest(
      'the body carries an access_token parameter; send the token in the Authorization header only',
      'access_token',
    )
  }
}
