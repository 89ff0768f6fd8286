/**
 * PUBLIC_PATHS for the reverse proxy: which requests reach the upstream without a session.
 *
 * The decision is taken on the request target exactly as received, and fails closed: a path the
 * bridge and the upstream could read differently (dot segments, percent-encoded characters, a
 * backslash, doubled slashes) is never public. Otherwise `/public/..%2Fadmin` or `/public/../admin`
 * would be public to the bridge and `/admin` to an upstream that normalizes it (path confusion, as in
 * CVE-2021-41773 and the nginx "off-by-slash" alias bug).
 */
import { invalidOptions } from '../errors.js'

/** A prefix as configured: a path of plain characters, no dot segments, no encoding. */
const PREFIX = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/

/** Parses PUBLIC_PATHS (comma-separated prefixes); throws ERR_INVALID_OPTIONS naming the bad one. */
export function parsePublicPaths(value: string | undefined): readonly string[] {
  if (value === undefined || value.trim() === '') return []
  const prefixes = value.split(',').map((item) => item.trim())
  for (const prefix of prefixes) {
    if (!PREFIX.test(prefix) || /(^|\/)\.\.?(\/|$)/.test(prefix) || prefix.includes('//')) {
      throw invalidOptions(
        `PUBLIC_PATHS: ${JSON.stringify(prefix)} must be a path prefix like /public/ or /health (plain characters, no dot segments, no %)`,
      )
    }
  }
  return Object.freeze(prefixes)
}

/** A path that the upstream could normalize into another one: never public. */
function ambiguous(path: string): boolean {
  return (
    path.includes('%') ||
    path.includes('\\') ||
    path.includes('//') ||
    /(^|\/)\.\.?(\/|$)/.test(path) ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters make a path ambiguous
    /[\u0000-\u0020\u007f]/.test(path)
  )
}

/**
 * Whether a request target (path and query, as received) falls under a public prefix. A prefix ending
 * in `/` covers everything below it; any other prefix covers itself and what is below it
 * (`/health` covers `/health` and `/health/db`, not `/healthy`).
 */
export function isPublicPath(target: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return false
  const query = target.indexOf('?')
  const path = query === -1 ? target : target.slice(0, query)
  if (ambiguous(path)) return false
  for (const prefix of prefixes) {
    if (prefix.endsWith('/')) {
      if (path.startsWith(prefix)) return true
    } else if (path === prefix || path.startsWith(`${prefix}/`)) return true
  }
  return false
}
