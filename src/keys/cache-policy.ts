/**
 * Pure rules for how long a fetched document stays fresh and how long to wait after a failure.
 * No I/O and no clock: callers pass the time in.
 */

export interface FreshnessBounds {
  /** Never fresher than this, whatever the server says, in seconds: bounds refetch traffic. */
  minSeconds: number
  /** Never fresh for longer than this, in seconds: bounds how long a removed key keeps working. */
  maxSeconds: number
}

/**
 * Freshness lifetime from `Cache-Control` (RFC 9111 §4.2.1): `max-age` (less `Age`), bounded by
 * `minSeconds` and `maxSeconds`. `no-store`, `no-cache` and `max-age=0` mean "as short as allowed".
 * Without a usable directive the maximum applies.
 */
export function freshnessSeconds(
  cacheControl: string | null,
  age: string | null,
  bounds: FreshnessBounds,
): number {
  const clamp = (value: number) => Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, value))
  if (cacheControl === null) return bounds.maxSeconds
  let maxAge: number | undefined
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const [name = '', value] = directive.trim().split('=', 2)
    if (name === 'no-store' || name === 'no-cache') return bounds.minSeconds
    if (name === 'max-age' && value !== undefined) {
      // RFC 9111 §4.2.1: with conflicting values, use the first or treat the response as stale.
      // We take the safe reading: stale, so as short as allowed.
      if (maxAge !== undefined) return bounds.minSeconds
      const seconds = Number(value.replace(/^"|"$/g, ''))
      if (Number.isSafeInteger(seconds) && seconds >= 0) maxAge = seconds
    }
  }
  if (maxAge === undefined) return bounds.maxSeconds
  const ageSeconds = age !== null && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0
  return clamp(maxAge - ageSeconds)
}

export interface BackoffPolicy {
  /** Wait after the first failure, in milliseconds. */
  baseMs: number
  /** Longest wait, in milliseconds. */
  maxMs: number
}

/**
 * Exponential backoff with full jitter (wait uniformly in [base·2^(n-1) / 2, base·2^(n-1)], capped),
 * so that many instances that failed together do not retry together. `random` is in [0, 1).
 */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30)
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent)
  return Math.round(ceiling / 2 + (ceiling / 2) * random)
}
