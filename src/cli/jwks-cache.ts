import { type FreshnessBounds, freshnessSeconds } from '../keys/cache-policy.js'
import type { Problem } from './jwks-report.js'

/**
 * The HTTP caching part of `jwks-bridge jwks`: what the key set response says about caching, and
 * how long the verifier would keep the set fresh (`freshnessSeconds`, the library's own rule).
 */

export interface ResponseHeaders {
  cacheControl: string | null
  age: string | null
  etag: boolean
  lastModified: boolean
}

export interface CacheReport {
  /** The Cache-Control header as sent (null when absent). */
  cacheControl: string | null
  /** Its max-age directive, when present and valid. */
  maxAgeSeconds: number | null
  /** `no-store` or `no-cache` present. */
  noCache: boolean
  etag: boolean
  lastModified: boolean
  /** How long jwks-bridge would keep the set fresh, from `freshnessSeconds`. */
  freshnessSeconds: number
  /** The verifier's bounds on freshness (cacheMinAgeSeconds, cacheMaxAgeSeconds). */
  bounds: FreshnessBounds
}

/** Reads max-age and no-store/no-cache for display; the freshness itself is the library's. */
export function cacheReport(headers: ResponseHeaders, bounds: FreshnessBounds): CacheReport {
  let maxAgeSeconds: number | null = null
  let noCache = false
  for (const directive of (headers.cacheControl ?? '').toLowerCase().split(',')) {
    const [name = '', value] = directive.trim().split('=', 2)
    if (name === 'no-store' || name === 'no-cache') noCache = true
    // The first max-age counts (RFC 9111 §4.2.1: with several, use the first or treat the response
    // as stale). The freshness shown is the library's own computation either way.
    if (name === 'max-age' && value !== undefined && maxAgeSeconds === null) {
      const seconds = Number(value.replace(/^"|"$/g, ''))
      if (Number.isSafeInteger(seconds) && seconds >= 0) maxAgeSeconds = seconds
    }
  }
  return {
    cacheControl: headers.cacheControl,
    maxAgeSeconds,
    noCache,
    etag: headers.etag,
    lastModified: headers.lastModified,
    freshnessSeconds: freshnessSeconds(headers.cacheControl, headers.age, bounds),
    bounds,
  }
}

export function cacheProblems(cache: CacheReport): Problem[] {
  const problems: Problem[] = []
  const { minSeconds, maxSeconds } = cache.bounds
  const uses = `jwks-bridge keeps the set fresh for ${cache.freshnessSeconds} s`
  if (cache.noCache) {
    problems.push({
      level: 'info',
      kind: 'cache-max-age',
      message: `Cache-Control forbids caching (no-store or no-cache): ${uses}, its minimum, to bound refetches`,
    })
  } else if (cache.maxAgeSeconds === null) {
    problems.push({
      level: 'info',
      kind: 'cache-max-age',
      message: `no Cache-Control max-age: ${uses} (its maximum, cacheMaxAgeSeconds)`,
    })
  } else if (cache.maxAgeSeconds < minSeconds) {
    problems.push({
      level: 'info',
      kind: 'cache-max-age',
      message: `Cache-Control max-age=${cache.maxAgeSeconds} is under jwks-bridge's minimum: ${uses}`,
    })
  } else if (cache.maxAgeSeconds > maxSeconds) {
    problems.push({
      level: 'info',
      kind: 'cache-max-age',
      message: `Cache-Control max-age=${cache.maxAgeSeconds} is over cacheMaxAgeSeconds: ${uses}, so a removed key stops working sooner`,
    })
  }
  if (!cache.etag && !cache.lastModified) {
    problems.push({
      level: 'info',
      kind: 'cache-validators',
      message: 'no ETag or Last-Modified: every refresh downloads the whole set (no 304 revalidation)',
    })
  }
  return problems
}
