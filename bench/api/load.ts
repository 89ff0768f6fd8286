// One autocannon run for bench:api: GET with a fixed Authorization header and, for DPoP, a fresh
// proof per request from a pool minted before the run (so that signing takes no CPU during it).
import { performance } from 'node:perf_hooks'
import autocannon, { type Request } from 'autocannon'

export interface ApiLoadResult {
  responses: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  unexpected: number
  statuses: Record<string, number>
  errors: number
  /** Requests that found the proof pool empty (must stay 0). */
  overdrawn: number
}

export interface ApiLoadOptions {
  url: string
  path: string
  authorization: string
  /** DPoP proofs, each used once; undefined for Bearer. */
  proofs?: string[] | undefined
  seconds: number
  connections: number
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

export async function runApiLoad(options: ApiLoadOptions): Promise<ApiLoadResult> {
  const times = new Float64Array(4_000_000)
  const statuses: Record<string, number> = {}
  let responses = 0
  let unexpected = 0
  let lastAt = 0
  let next = 0
  let overdrawn = 0
  const proofs = options.proofs
  const request: Request = {
    method: 'GET',
    path: options.path,
    headers: { authorization: options.authorization },
  }
  if (proofs !== undefined) {
    request.setupRequest = (req) => {
      let proof = proofs[next++]
      if (proof === undefined) {
        overdrawn += 1
        proof = proofs[proofs.length - 1] as string
      }
      return { ...req, headers: { ...req.headers, dpop: proof } }
    }
  }
  // Stop before the pool runs dry: each connection may have one request in flight.
  const maxOverallRequests = proofs === undefined ? undefined : proofs.length - options.connections
  const started = performance.now()
  const result = await new Promise<{ errors: number }>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        ...(maxOverallRequests === undefined ? {} : { maxOverallRequests }),
        timeout: 10,
        requests: [request],
      },
      (error, outcome) => (error ? reject(error) : resolve(outcome)),
    )
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (responses < times.length) times[responses] = ms
      responses += 1
      lastAt = performance.now()
      statuses[status] = (statuses[status] ?? 0) + 1
      if (status !== 200) unexpected += 1
    })
  })
  const seconds = Math.max(1e-3, ((responses > 0 ? lastAt : performance.now()) - started) / 1000)
  const sorted = times.subarray(0, Math.min(responses, times.length)).sort()
  return {
    responses,
    requestsPerSecond: responses / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    unexpected,
    statuses,
    errors: result.errors,
    overdrawn,
  }
}
