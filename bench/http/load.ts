// One load run with autocannon (programmatic API): a fixed number of connections for a bounded time
// (and, for scenarios that use up tokens, a bounded count), every response's status and time recorded,
// and the CPU time the app's process and this one used meanwhile.
import { performance } from 'node:perf_hooks'
import autocannon, { type Request, type Result } from 'autocannon'
import type { AppProcess } from './children.ts'

export interface Scenario {
  name: string
  method: 'GET' | 'PUT'
  path: string
  headers: Record<string, string>
  /** A new body per request (called once per request sent); none for GET. */
  body?: () => string
  /** The status every response should have. */
  expectStatus: number
}

export interface LoadResult {
  responses: number
  seconds: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Responses with a status other than the expected one. */
  unexpected: number
  statuses: Record<string, number>
  errors: number
  timeouts: number
  /** CPU time of the app's process / wall time (1 = one core, all the time). */
  serverCpuShare: number
  /** The app's main thread (event loop): time on a CPU / wall time. */
  mainCpuShare: number
  /** The app's main thread: time runnable but waiting for a CPU (taken by other processes) / wall time. */
  mainWaitShare: number
  /** CPU time of the load generator (this process) / wall time. */
  loaderCpuShare: number
}

export interface LoadOptions {
  seconds: number
  connections: number
  /** Stop after this many requests sent (scenarios with a finite supply of tokens). */
  maxRequests?: number | undefined
}

/** Most response times kept per run (8 bytes each): bounds memory on a very fast server. */
const MAX_SAMPLES = 4_000_000

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)]!
}

export async function runLoad(
  app: AppProcess,
  scenario: Scenario,
  options: LoadOptions,
): Promise<LoadResult> {
  const times = new Float64Array(MAX_SAMPLES)
  let responses = 0
  let lastResponseAt = 0
  let unexpected = 0
  const statuses: Record<string, number> = {}
  const request: Request = { method: scenario.method, path: scenario.path, headers: scenario.headers }
  const body = scenario.body
  if (body !== undefined) request.setupRequest = (req) => ({ ...req, body: body() })

  const serverCpuStart = app.cpuSeconds()
  const mainStart = app.mainThread()
  const loaderCpuStart = process.cpuUsage()
  const wallStart = performance.now()
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: app.url,
        connections: options.connections,
        duration: options.seconds,
        // Each connection sends at most its share; autocannon then ends the run early.
        ...(options.maxRequests === undefined ? {} : { maxOverallRequests: options.maxRequests }),
        timeout: 10,
        requests: [request],
      },
      (error, outcome) => (error ? reject(error) : resolve(outcome)),
    )
    // autocannon's own histogram keeps whole milliseconds; its per-response times are finer.
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
      if (responses < MAX_SAMPLES) times[responses] = responseTimeMs
      lastResponseAt = performance.now()
      responses += 1
      statuses[status] = (statuses[status] ?? 0) + 1
      if (status !== scenario.expectStatus) unexpected += 1
    })
  })
  // From the start to the last response: autocannon notices the end (time up, or every connection
  // done) only at its next one-second tick, and its own duration counts that idle tail.
  const activeSeconds = Math.max(
    1e-3,
    ((responses > 0 ? lastResponseAt : performance.now()) - wallStart) / 1000,
  )
  const loaderCpu = process.cpuUsage(loaderCpuStart)
  const serverCpu = app.cpuSeconds() - serverCpuStart
  const mainEnd = app.mainThread()
  const sorted = times.subarray(0, Math.min(responses, MAX_SAMPLES)).sort()
  return {
    responses,
    seconds: activeSeconds,
    requestsPerSecond: responses / activeSeconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    unexpected,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    serverCpuShare: serverCpu / activeSeconds,
    mainCpuShare: (mainEnd.cpuSeconds - mainStart.cpuSeconds) / activeSeconds,
    mainWaitShare: (mainEnd.waitSeconds - mainStart.waitSeconds) / activeSeconds,
    loaderCpuShare: (loaderCpu.user + loaderCpu.system) / 1e6 / activeSeconds,
  }
}
