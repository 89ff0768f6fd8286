// What a fault did to the requests: counts by kind and code, the slowest answer, when failures began
// and ended, and how long after the dependency came back every request succeeded again.
import type { Kind, Outcome } from './load.ts'

export interface FaultSummary {
  requests: number
  /** "kind code" → count, e.g. "me OK" → 120, "handoff ERR_STORE_UNAVAILABLE" → 7. */
  byCode: Record<string, number>
  /** Slowest answer of any request, ms. */
  maxMs: number
  /** Slowest failed request, ms (0 without failures). */
  maxFailedMs: number
  failures: number
  /**
   * ms from the dependency's return (`backAt`) to the start of the first request after which every
   * request succeeded; 0 when nothing failed after it came back. Undefined when requests still failed
   * at the end of the load.
   */
  recoveryMs: number | undefined
}

export function summarize(
  outcomes: readonly Outcome[],
  backAt: number,
  isSuccess: (outcome: Outcome) => boolean = (o) => o.code === 'OK',
): FaultSummary {
  const byCode: Record<string, number> = {}
  let maxMs = 0
  let maxFailedMs = 0
  let failures = 0
  let lastFailureStart = Number.NEGATIVE_INFINITY
  for (const outcome of outcomes) {
    const key = `${outcome.kind} ${outcome.code}`
    byCode[key] = (byCode[key] ?? 0) + 1
    const ms = outcome.endAt - outcome.startAt
    maxMs = Math.max(maxMs, ms)
    if (!isSuccess(outcome)) {
      failures += 1
      maxFailedMs = Math.max(maxFailedMs, ms)
      lastFailureStart = Math.max(lastFailureStart, outcome.startAt)
    }
  }
  let recoveryMs: number | undefined = 0
  if (lastFailureStart >= backAt) {
    const after = outcomes.filter((o) => o.startAt > lastFailureStart)
    const firstOk = after.reduce((min, o) => Math.min(min, o.startAt), Number.POSITIVE_INFINITY)
    recoveryMs = after.length === 0 ? undefined : firstOk - backAt
  }
  return { requests: outcomes.length, byCode, maxMs, maxFailedMs, failures, recoveryMs }
}

/** Outcomes of some kinds only. */
export function ofKinds(outcomes: readonly Outcome[], ...kinds: Kind[]): Outcome[] {
  return outcomes.filter((o) => kinds.includes(o.kind))
}

/** One line for a test's diagnostics: counts by code and timings. Ids and codes only. */
export function describe(summary: FaultSummary, options: { recovery?: boolean } = {}): string {
  const codes = Object.entries(summary.byCode)
    .sort()
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ')
  const line = `${summary.requests} requests (${codes}); slowest ${Math.round(summary.maxMs)} ms`
  if (options.recovery === false) return line
  const recovery = summary.recoveryMs === undefined ? 'not recovered' : `${Math.round(summary.recoveryMs)} ms`
  return `${line}; recovery ${recovery}`
}
