/**
 * Identity values as HTTP header values. A claim is data the provider took from a user (a display
 * name, an email address): it may hold CR/LF, control characters or non-ASCII text. Written into a
 * header as is, CR/LF would split the header (response splitting: a forged `X-Auth-Subject` line),
 * and other bytes are refused or mangled differently by each proxy (RFC 9110 §5.5: a field value is
 * visible ASCII, spaces and tabs inside; obs-text is to be treated as opaque).
 *
 * The rule: a value made of visible ASCII (spaces allowed inside) and no `%` passes unchanged, which
 * covers ids, issuer URLs and most email addresses. Any other value is percent-encoded as UTF-8 bytes
 * (RFC 3986 §2.1): every byte outside visible ASCII, every `%`, and a leading or trailing space. The
 * backend decodes it with a percent-decoder that leaves `+` alone (PHP `rawurldecode`, Python
 * `urllib.parse.unquote`, Ruby `URI.decode_uri_component`), and gets the claim back exactly.
 */

/** Visible ASCII without `%`, inner spaces allowed: passes unchanged. */
const PLAIN = /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/

/** Longest claim header value sent, after encoding: proxies' header buffers are 4 to 8 KiB in all. */
export const MAX_CLAIM_HEADER_BYTES = 1024

const HEX = '0123456789ABCDEF'

/** A string as a safe header value (see the module comment); the result is visible ASCII and spaces. */
export function encodeHeaderValue(text: string): string {
  if (PLAIN.test(text)) return text
  const bytes = Buffer.from(text, 'utf8')
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number
    const visible = byte >= 0x21 && byte <= 0x7e && byte !== 0x25
    const innerSpace = byte === 0x20 && i > 0 && i < bytes.length - 1
    out += visible || innerSpace ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`
  }
  return out
}

/**
 * A claim's value as a header value, or undefined when there is nothing to send: absent or null, or
 * longer than MAX_CLAIM_HEADER_BYTES once encoded (a header that overflows the proxy's buffer would
 * fail the request). Strings as they are; numbers and booleans as JSON text; arrays and objects as JSON.
 */
export function claimHeaderValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value)
  if (text === undefined) return undefined
  const encoded = encodeHeaderValue(text)
  return encoded.length > MAX_CLAIM_HEADER_BYTES ? undefined : encoded
}
