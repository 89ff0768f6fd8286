// The timing method: warm up every case, calibrate a batch size, then run several rounds in which
// every case gets the same time, in short alternating slices, in an order that rotates each round.
// A noisy moment on a shared machine then hits all cases of a round alike, and ratios are taken
// per round.
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
  /**
   * `wall`: ops per second of elapsed time. `cpu`: ops per second of CPU time this process got,
   * which stays meaningful when other processes share the cores (it excludes time spent waiting
   * for a core; it includes V8's helper threads, e.g. concurrent GC).
   */
  clock: 'wall' | 'cpu'
}

export interface CaseResult {
  id: string
  /** ops/s, one per round, in round order. */
  samples: number[]
}

interface Timed {
  ops: number
  milliseconds: number
  cpuMilliseconds: number
}

function cpuMillisecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

function runSync(run: () => unknown, batch: number, milliseconds: number): Timed {
  let ops = 0
  let sink = 0
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  let elapsed = 0
  do {
    for (let i = 0; i < batch; i++) if (run()) sink++
    ops += batch
    elapsed = performance.now() - start
  } while (elapsed < milliseconds)
  // Every call returns a truthy result; using the count keeps the calls observable to the JIT.
  if (sink !== ops) throw new Error('a benchmark case returned a falsy result while timed')
  return { ops, milliseconds: elapsed, cpuMilliseconds: cpuMillisecondsSince(cpuStart) }
}

async function runAsync(run: () => unknown, batch: number, milliseconds: number): Promise<Timed> {
  let ops = 0
  let sink = 0
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  let elapsed = 0
  do {
    for (let i = 0; i < batch; i++) if (await run()) sink++
    ops += batch
    elapsed = performance.now() - start
  } while (elapsed < milliseconds)
  if (sink !== ops) throw new Error('a benchmark case returned a falsy result while timed')
  return { ops, milliseconds: elapsed, cpuMilliseconds: cpuMillisecondsSince(cpuStart) }
}

function timeCase(c: BenchCase, batch: number, milliseconds: number): Promise<Timed> | Timed {
  return c.async ? runAsync(c.run, batch, milliseconds) : runSync(c.run, batch, milliseconds)
}

/** Longest stretch one case runs before the next takes its turn, within a round. */
const SLICE_MS = 100

/**
 * A batch long enough that reading the clock costs nothing measurable (at most 10 ms and at most a
 * tenth of a slice), estimated from the warm-up rate.
 */
function batchFor(opsPerSecond: number, sliceMs: number): number {
  const batchMs = Math.min(10, sliceMs / 10)
  return Math.max(1, Math.round((opsPerSecond * batchMs) / 1000))
}

export interface Measurement {
  results: CaseResult[]
  /** Per round: CPU time this process got / wall time. Well below 1 means others took the CPU. */
  cpuShare: number[]
}

/**
 * Each round gives every case `settings.seconds`, cut into slices of at most SLICE_MS that
 * alternate between the cases, so that load from other processes spreads over all of them.
 */
export async function measure(
  cases: readonly BenchCase[],
  settings: Settings,
  progress: (line: string) => void,
): Promise<Measurement> {
  const slices = Math.max(1, Math.round((settings.seconds * 1000) / SLICE_MS))
  const sliceMs = (settings.seconds * 1000) / slices
  const batches = new Map<string, number>()
  for (const c of cases) {
    const warm = await timeCase(c, 1, settings.warmupSeconds * 1000)
    batches.set(c.id, batchFor((warm.ops * 1000) / warm.milliseconds, sliceMs))
  }
  const samples = new Map<string, number[]>(cases.map((c) => [c.id, []]))
  const cpuShare: number[] = []
  for (let round = 0; round < settings.rounds; round++) {
    const shift = round % cases.length
    const order = [...cases.slice(shift), ...cases.slice(0, shift)]
    const totals = new Map<string, Timed>(
      cases.map((c) => [c.id, { ops: 0, milliseconds: 0, cpuMilliseconds: 0 }]),
    )
    const cpuStart = process.cpuUsage()
    const wallStart = performance.now()
    for (let slice = 0; slice < slices; slice++) {
      for (const c of order) {
        const timed = await timeCase(c, batches.get(c.id)!, sliceMs)
        const total = totals.get(c.id)!
        total.ops += timed.ops
        total.milliseconds += timed.milliseconds
        total.cpuMilliseconds += timed.cpuMilliseconds
      }
    }
    const cpu = process.cpuUsage(cpuStart)
    cpuShare.push((cpu.user + cpu.system) / 1000 / (performance.now() - wallStart))
    for (const c of cases) {
      const total = totals.get(c.id)!
      const milliseconds = settings.clock === 'cpu' ? total.cpuMilliseconds : total.milliseconds
      samples.get(c.id)!.push((total.ops * 1000) / milliseconds)
    }
    progress(`round ${round + 1}/${settings.rounds} done`)
  }
  return { results: cases.map((c) => ({ id: c.id, samples: samples.get(c.id)! })), cpuShare }
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
