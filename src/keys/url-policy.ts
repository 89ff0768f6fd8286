import { invalidOptions } from '../errors.js'
import { isLoopbackHost } from '../lib/loopback.js'

/**
 * Checks a key set or discovery URL when a verifier is created, and returns it parsed.
 * https is required (RFC 8725 §3.10: keys fetched over an unauthenticated channel can be swapped);
 * http only for loopback hosts. No credentials in the URL (they would be sent, and logged, everywhere).
 */
export function checkKeySetUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' && !(value instanceof URL))
    throw invalidOptions(`${name} must be a URL string`)
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    throw invalidOptions(`${name} is not a valid URL`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw invalidOptions(
      `${name} must use https: (plain http: is allowed only for 127.0.0.0/8, ::1 and localhost)`,
    )
  }
  if (url.username !== '' || url.password !== '') throw invalidOptions(`${name} must not contain credentials`)
  if (url.hash !== '') throw invalidOptions(`${name} must not contain a fragment`)
  return url
}
