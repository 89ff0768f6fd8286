// Timing for the store benchmark: one call at a time (each awaited, as a request handler would),
// every call timed, for a bounded time and a bounded count. Gives ops/s and latency percentiles.
import { performance } from 'node:perf_hooks'

export interface LatencyResult {
  ops: number
  opsPerSecond: number
  p50Us: number
  p99Us: number
  /** CPU time this process got / wall time: well under 1 means other processes took the CPU. */
  cpuShare: number
}

/** Most calls timed per case: bounds memory (8 bytes each) and time even on a very fast store. */
const MAX_OPS = 2_000_000

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)]!
}

/** Rate, percentiles of the call times in `samples[0, ops)`, and the CPU share since `cpuStart`. */
function summarize(
  samples: Float64Array,
  ops: number,
  elapsedMs: number,
  cpuStart: NodeJS.CpuUsage,
): LatencyResult {
  const cpu = process.cpuUsage(cpuStart)
  const sorted = samples.subarray(0, ops).sort()
  return {
    ops,
    opsPerSecond: (ops * 1000) / elapsedMs,
    p50Us: percentile(sorted, 50) * 1000,
    p99Us: percentile(sorted, 99) * 1000,
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
  }
}

/** Runs `op` untimed for `warmupMs`, then timed for `seconds` (or MAX_OPS calls). */
export async function measureLatency(
  op: (i: number) => Promise<unknown>,
  seconds: number,
  warmupMs: number,
  maxCalls = MAX_OPS,
): Promise<LatencyResult> {
  let i = 0
  const limit = Math.min(MAX_OPS, maxCalls)
  const warmEnd = performance.now() + warmupMs
  while (performance.now() < warmEnd && i < limit / 4) await op(i++)
  const samples = new Float64Array(MAX_OPS)
  let ops = 0
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const end = start + seconds * 1000
  let before = start
  while (i < limit) {
    await op(i++)
    const after = performance.now()
    samples[ops++] = after - before
    before = after
    if (after >= end) break
  }
  return summarize(samples, ops, before - start, cpuStart)
}

/**
 * Runs `op` with `inFlight` calls outstanding at all times (as concurrent requests would), each call
 * timed from its start to its end, for `seconds` or `maxCalls` calls. Untimed warm-up first.
 */
export async function measureConcurrent(
  op: (i: number) => Promise<unknown>,
  seconds: number,
  warmupMs: number,
  inFlight: number,
  maxCalls = MAX_OPS,
): Promise<LatencyResult> {
  let next = 0
  const limit = Math.min(MAX_OPS, maxCalls)
  const warmEnd = performance.now() + warmupMs
  const warm = async () => {
    while (performance.now() < warmEnd && next < limit / 4) await op(next++)
  }
  await Promise.all(Array.from({ length: inFlight }, warm))
  const samples = new Float64Array(MAX_OPS)
  let ops = 0
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const end = start + seconds * 1000
  let last = start
  const lane = async () => {
    while (next < limit && performance.now() < end) {
      const before = performance.now()
      await op(next++)
      last = performance.now()
      samples[ops++] = last - before
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return summarize(samples, ops, last - start, cpuStart)
}
