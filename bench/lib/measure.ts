// The timing method: warm up every case, calibrate a batch size, then run several rounds in which
// every case runs for the same time, back to back, in an order that rotates each round. A noisy
// moment on a shared machine then hits all cases of a round alike, and ratios are taken per round.
import { performance } from 'node:perf_hooks'

export interface BenchCase {
  id: string
  /** Awaited one call at a time when true (as a request handler would), called in a loop otherwise. */
  async: boolean
  run: () => unknown
}

export interface Settings {
  /** Seconds per case per round. */
  seconds: number
  rounds: number
  /** Seconds of untimed running per case before the first round. */
  warmupSeconds: number
}

export interface CaseResult {
  id: string
  /** ops/s, one per round, in round order. */
  samples: number[]
}

function runSync(run: () => unknown, batch: number, milliseconds: number): number {
  let ops = 0
  let sink = 0
  const start = performance.now()
  let elapsed = 0
  do {
    for (let i = 0; i < batch; i++) if (run()) sink++
    ops += batch
    elapsed = performance.now() - start
  } while (elapsed < milliseconds)
  // Every call returns a truthy result; using the count keeps the calls observable to the JIT.
  if (sink !== ops) throw new Error('a benchmark case returned a falsy result while timed')
  return (ops * 1000) / elapsed
}

async function runAsync(run: () => unknown, batch: number, milliseconds: number): Promise<number> {
  let ops = 0
  let sink = 0
  const start = performance.now()
  let elapsed = 0
  do {
    for (let i = 0; i < batch; i++) if (await run()) sink++
    ops += batch
    elapsed = performance.now() - start
  } while (elapsed < milliseconds)
  if (sink !== ops) throw new Error('a benchmark case returned a falsy result while timed')
  return (ops * 1000) / elapsed
}

function timeCase(c: BenchCase, batch: number, milliseconds: number): Promise<number> | number {
  return c.async ? runAsync(c.run, batch, milliseconds) : runSync(c.run, batch, milliseconds)
}

/**
 * A batch long enough that reading the clock costs nothing measurable (about 1% of the round, at
 * most 10 ms), estimated from the warm-up rate.
 */
function batchFor(opsPerSecond: number, seconds: number): number {
  const batchMs = Math.min(10, (seconds * 1000) / 100)
  return Math.max(1, Math.round((opsPerSecond * batchMs) / 1000))
}

export async function measure(
  cases: readonly BenchCase[],
  settings: Settings,
  progress: (line: string) => void,
): Promise<CaseResult[]> {
  const batches = new Map<string, number>()
  for (const c of cases) {
    const rate = await timeCase(c, 1, settings.warmupSeconds * 1000)
    batches.set(c.id, batchFor(rate, settings.seconds))
  }
  const samples = new Map<string, number[]>(cases.map((c) => [c.id, []]))
  for (let round = 0; round < settings.rounds; round++) {
    const shift = round % cases.length
    const order = [...cases.slice(shift), ...cases.slice(0, shift)]
    for (const c of order) {
      const rate = await timeCase(c, batches.get(c.id)!, settings.seconds * 1000)
      samples.get(c.id)!.push(rate)
    }
    progress(`round ${round + 1}/${settings.rounds} done`)
  }
  return cases.map((c) => ({ id: c.id, samples: samples.get(c.id)! }))
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** (max - min) / median across rounds, as a fraction. */
export function spread(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values)
}

/** The median over rounds of a/b computed within each round (both ran back to back in it). */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((value, round) => value / b[round]!))
}
