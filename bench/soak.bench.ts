// `npm run soak`: the reference app in a process of its own under several minutes of paced mixed load
// (GET /me with valid sessions, handoffs with fresh tokens), its resident memory every 10 s and the
// slope after warm-up (target: flat); then the three faults at soak scale, each against a fresh app:
// PostgreSQL and Redis (private instances) stopped and started again mid-load, and the provider's key
// set unreachable while it rotates to a new key. For each fault: failures by code while the dependency
// is away, the slowest failure, the time to recovery, and what the stores hold. A benchmark, not a
// test: it prints Markdown and exits 1 only if a rule the fault tests enforce was broken.
// Loopback only; every phase is bounded in time and count. The machine may be shared: read the
// figures with the load average printed at the top.
//
// Environment:
//   SOAK_SECONDS          steady load, seconds (default 180; 0 to 3600; 0 skips it)
//   SOAK_STORE            sqlite (default), postgres or redis: where the steady app keeps its data
//   SOAK_RPS              requests per second sent (default 400; 10 to 5000)
//   SOAK_CONCURRENCY      requests in flight at most (default 32; 1 to 256)
//   SOAK_FAULTS           comma-separated postgres,redis,keyset (default all; "none" to skip)
//   SOAK_OUTAGE_SECONDS   how long PostgreSQL and Redis stay away (default 15; 2 to 120). The key set
//                         stays away at least 40 s, past its freshness (30 s), so it is served stale.
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { numberFromEnv } from './lib/env.ts'
import { FAULT_NAMES, type FaultName, type FaultResult, runFault } from './soak/faults.ts'
import { runSteady, type SoakStore, type SteadyResult } from './soak/steady.ts'
import { failuresByCode } from './soak/tally.ts'

function storeFromEnv(): SoakStore {
  const raw = process.env.SOAK_STORE || 'sqlite'
  if (raw !== 'sqlite' && raw !== 'postgres' && raw !== 'redis')
    throw new Error('SOAK_STORE: sqlite, postgres or redis')
  return raw
}

function faultsFromEnv(): FaultName[] {
  const raw = process.env.SOAK_FAULTS
  if (raw === undefined || raw.trim() === '') return [...FAULT_NAMES]
  if (raw.trim() === 'none') return []
  const wanted = raw.split(',').map((s) => s.trim())
  for (const name of wanted) {
    if (!(FAULT_NAMES as readonly string[]).includes(name))
      throw new Error(`SOAK_FAULTS: unknown fault ${name}`)
  }
  return FAULT_NAMES.filter((name) => wanted.includes(name))
}

const log = (line: string) => console.log(line)
const ms = (value: number | undefined) =>
  value === undefined ? 'not recovered' : `${(value / 1000).toFixed(1)} s`

const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`

function steadyReport(result: SteadyResult): boolean {
  const steady = result.samples.filter((s) => s.t > result.warmupSeconds)
  const rss = steady.map((s) => s.rssMb).filter((v) => v !== undefined)
  log('')
  log(`Memory after warm-up (${Math.round(result.warmupSeconds)} s), ${steady.length} samples:`)
  log('')
  log('| | first | last | min | max | slope | slope, second half |')
  log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  if (rss.length > 0) {
    log(
      `| RSS (MB) | ${rss[0]!.toFixed(1)} | ${rss[rss.length - 1]!.toFixed(1)} | ${Math.min(...rss).toFixed(1)} | ${Math.max(...rss).toFixed(1)} | ${signed(result.rssSlope)} MB/min | ${signed(result.rssSlopeLastHalf)} MB/min |`,
    )
  }
  const heap = steady.map((s) => s.heapMb).filter((v) => v !== undefined)
  if (heap.length > 0) {
    log(
      `| heap after GC (MB) | ${heap[0]!.toFixed(1)} | ${heap[heap.length - 1]!.toFixed(1)} | ${Math.min(...heap).toFixed(1)} | ${Math.max(...heap).toFixed(1)} | ${signed(result.heapSlope)} MB/min | ${signed(result.heapSlopeLastHalf)} MB/min |`,
    )
  }
  const t = result.total
  log('')
  log(
    `${t.requests} requests, p50 ${t.p50Ms.toFixed(1)} ms, p99 ${t.p99Ms.toFixed(1)} ms, slowest ${t.maxMs.toFixed(0)} ms; failures: ${failuresByCode(t)}`,
  )
  log(
    `Stores: ${result.ledger.handoffsOk} successful handoffs, each with its identity and session; problems: ${result.ledger.problems.length === 0 ? 'none' : result.ledger.problems.slice(0, 5).join('; ')}`,
  )
  if (result.stderr.lines > 0)
    log(`The app wrote ${result.stderr.lines} lines to stderr; last: ${result.stderr.tail.join(' / ')}`)
  return result.ledger.problems.length === 0 && t.failures === 0
}

function faultReport(results: FaultResult[]): boolean {
  let ok = true
  log('')
  log(
    '| fault | away | requests while away | failures while away (kind code ×n) | slowest failure | p99 while away | recovery after return | stores |',
  )
  log('| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |')
  for (const r of results) {
    const stores =
      r.ledger.problems.length === 0
        ? `consistent (${r.ledger.handoffsOk} ok handoffs; answer lost: ${r.ledger.identitiesOfFailedHandoffs} identities, ${r.ledger.sessionsOfFailedHandoffs} sessions)`
        : `${r.ledger.problems.length} problems`
    log(
      `| ${r.label} | ${(r.outageMs / 1000).toFixed(1)} s | ${r.during.requests} | ${failuresByCode(r.during)} | ${r.during.maxFailedMs.toFixed(0)} ms | ${r.during.p99Ms.toFixed(1)} ms | ${ms(r.recoveryMs)} |  ${stores} |`,
    )
  }
  for (const r of results) {
    log('')
    log(
      `${r.name}: recovery by kind: ${Object.entries(r.recoveryByKind)
        .map(([kind, v]) => `${kind} ${ms(v)}`)
        .join(', ')}`,
    )
    log(
      `  before: ${r.before.requests} requests, failures: ${failuresByCode(r.before)}; after return: ${r.after.requests} requests, failures: ${failuresByCode(r.after)}, slowest ${r.after.maxMs.toFixed(0)} ms`,
    )
    if (r.ledger.problems.length > 0) log(`  store problems: ${r.ledger.problems.slice(0, 5).join('; ')}`)
    if (r.stderr.lines > 0)
      log(`  the app wrote ${r.stderr.lines} lines to stderr; last: ${r.stderr.tail.slice(-2).join(' / ')}`)
    if (r.before.failures > 0 || r.ledger.problems.length > 0 || r.recoveryMs === undefined) ok = false
    // Fail fast: no answer slower than the bound the fault tests use, however long the outage.
    if (r.during.maxMs >= 3000 || r.after.maxMs >= 3000) ok = false
  }
  return ok
}

const seconds = numberFromEnv('SOAK_SECONDS', 180, 0, 3600)
const store = storeFromEnv()
const ratePerSecond = numberFromEnv('SOAK_RPS', 400, 10, 5000)
const concurrency = numberFromEnv('SOAK_CONCURRENCY', 32, 1, 256)
const faults = faultsFromEnv()
const outageSeconds = numberFromEnv('SOAK_OUTAGE_SECONDS', 15, 2, 120)

log(`# Soak: ${new Date().toISOString()}`)
log('')
log(
  `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at start. The machine may be shared with other work: figures are indicative.`,
)
log('')
let ok = true
if (seconds > 0)
  ok =
    steadyReport(await runSteady({ seconds, store, ratePerSecond, concurrency, sampleSeconds: 10, log })) &&
    ok
if (faults.length > 0) {
  log('')
  log(
    `## Faults at soak scale (${ratePerSecond} req/s target; PostgreSQL and Redis away ${outageSeconds} s, key set away ${Math.max(40, outageSeconds)} s)`,
  )
  log('')
  const results: FaultResult[] = []
  for (const name of faults) {
    const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-soak-fault-'))
    try {
      results.push(
        await runFault(name, dir, {
          ratePerSecond,
          concurrency,
          baselineSeconds: 10,
          outageSeconds: name === 'keyset' ? Math.max(40, outageSeconds) : outageSeconds,
          afterSeconds: 15,
          log,
        }),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  ok = faultReport(results) && ok
}
log('')
log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end.`,
)
process.exitCode = ok ? 0 : 1
