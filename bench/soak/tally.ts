// Counts and latencies of a stretch of the soak, bounded in memory whatever the rate: latencies beyond
// the reservoir's capacity replace random earlier ones (reservoir sampling), so percentiles stay fair.
import type { Outcome } from '../../test/faults/harness/load.ts'

const CAPACITY = 100_000

export interface TallySummary {
  requests: number
  failures: number
  /** "kind code" → count. */
  byCode: Record<string, number>
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Slowest failed request (0 without failures). */
  maxFailedMs: number
}

export class Tally {
  readonly #byCode = new Map<string, number>()
  readonly #latencies = new Float64Array(CAPACITY)
  #seen = 0
  #failures = 0
  #maxMs = 0
  #maxFailedMs = 0

  add(outcome: Outcome): void {
    const key = `${outcome.kind} ${outcome.code}`
    this.#byCode.set(key, (this.#byCode.get(key) ?? 0) + 1)
    const ms = outcome.endAt - outcome.startAt
    this.#maxMs = Math.max(this.#maxMs, ms)
    if (outcome.code !== 'OK') {
      this.#failures += 1
      this.#maxFailedMs = Math.max(this.#maxFailedMs, ms)
    }
    if (this.#seen < CAPACITY) this.#latencies[this.#seen] = ms
    else {
      const slot = Math.floor(Math.random() * (this.#seen + 1))
      if (slot < CAPACITY) this.#latencies[slot] = ms
    }
    this.#seen += 1
  }

  get requests(): number {
    return this.#seen
  }

  summary(): TallySummary {
    const sorted = this.#latencies.slice(0, Math.min(this.#seen, CAPACITY)).sort()
    const at = (p: number) =>
      sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0)
    return {
      requests: this.#seen,
      failures: this.#failures,
      byCode: Object.fromEntries([...this.#byCode].sort()),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: this.#maxMs,
      maxFailedMs: this.#maxFailedMs,
    }
  }
}

/** "code: n, code: n" for the failures only ("none" without). */
export function failuresByCode(summary: TallySummary): string {
  const failed = Object.entries(summary.byCode).filter(([key]) => !key.endsWith(' OK'))
  return failed.length === 0 ? 'none' : failed.map(([key, n]) => `${key} ×${n}`).join(', ')
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.x - mx) * (p.y - my)
    den += (p.x - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}
