// `npm run bench:stores`: session validations per second (get by id, SHA-256 of the presented
// secret, constant-time compare: what the bridge does on every request) and identity upserts per
// second, and whole handoffs (PUT /auth through the bridge core), on each store, one call at a time
// (and handoffs with 10 in flight), with p50/p99 latency. A benchmark, not a test: it prints a Markdown
// table and asserts nothing, except that every validation succeeds.
// It runs the TypeScript sources through tsx (the same JavaScript the build emits).
//
// Environment:
//   BENCH_SECONDS       timed seconds per case (default 2; 0.2 to 30)
//   BENCH_STORES        comma-separated subset of memory,SQLite,PostgreSQL,Redis,Redis Cluster (default all)
//   BENCH_DATABASE_URL  PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/test)
import { cpus, loadavg } from 'node:os'
import { logPagesPerSignIn } from './lib/sqlite-pages.ts'
import {
  type BenchStores,
  handoff,
  identityUpsert,
  openStores,
  STORE_NAMES,
  type StoreName,
  sessionValidation,
} from './lib/stores-cases.ts'
import { type LatencyResult, measureConcurrent, measureLatency } from './lib/stores-measure.ts'

const TARGET_SQLITE_VALIDATIONS = 50_000
const HANDOFFS = Number(process.env.BENCH_HANDOFFS ?? 20_000)
const IN_FLIGHT = 10

function secondsFromEnv(): number {
  const raw = process.env.BENCH_SECONDS
  if (raw === undefined || raw === '') return 2
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0.2 || value > 30)
    throw new Error('BENCH_SECONDS must be from 0.2 to 30')
  return value
}

function storesFromEnv(): StoreName[] {
  const raw = process.env.BENCH_STORES
  if (raw === undefined || raw.trim() === '') return [...STORE_NAMES]
  const wanted = raw.split(',').map((s) => s.trim())
  for (const name of wanted) {
    if (!(STORE_NAMES as readonly string[]).includes(name))
      throw new Error(`BENCH_STORES: unknown store ${name}`)
  }
  return STORE_NAMES.filter((name) => wanted.includes(name))
}

interface Row {
  store: StoreName
  operation: string
  result: LatencyResult | string
}

const format = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function benchStore(name: StoreName, seconds: number): Promise<Row[]> {
  let stores: BenchStores
  try {
    stores = await openStores(name)
  } catch (error) {
    const why = `not measured: ${(error as Error).message}`
    return [
      { store: name, operation: 'session validation', result: why },
      { store: name, operation: 'identity upsert', result: why },
      { store: name, operation: 'handoff (PUT /auth)', result: why },
    ]
  }
  try {
    process.stderr.write(`${name} (${stores.where})\n`)
    const rows: Row[] = []
    const validate = await sessionValidation(stores)
    rows.push({
      store: name,
      operation: 'session validation',
      result: await measureLatency(validate, seconds, 300),
    })
    rows.push({
      store: name,
      operation: 'identity upsert',
      result:
        stores.identities === undefined
          ? 'no identity store (sessions and replay guard only)'
          : await measureLatency(identityUpsert(stores.identities), seconds, 300),
    })
    // Bounded by the pre-minted tokens: at most HANDOFFS calls (warm-up included).
    rows.push({
      store: name,
      operation: 'handoff (PUT /auth)',
      result: await measureLatency(await handoff(stores, HANDOFFS), seconds, 300, HANDOFFS - 1),
    })
    // As concurrent requests arrive: SQLite's group commit shares one commit among the sign-ins of a
    // turn, PostgreSQL's pool runs them side by side.
    rows.push({
      store: name,
      operation: `handoff, ${IN_FLIGHT} in flight`,
      result: await measureConcurrent(await handoff(stores, HANDOFFS), seconds, 300, IN_FLIGHT, HANDOFFS - 1),
    })
    return rows
  } finally {
    await stores.teardown()
  }
}

const seconds = secondsFromEnv()
const rows: Row[] = []
for (const name of storesFromEnv()) rows.push(...(await benchStore(name, seconds)))

const cpu = cpus()
const lines = [
  `## Store benchmark (${new Date().toISOString()})`,
  '',
  `- Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores (shared with other processes), Node ${process.version}`,
  `- Load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`,
  `- Method: one call at a time, each awaited (except where calls are in flight together); ${seconds} s per case after 0.3 s of warm-up; 1000 sessions / subjects in turn`,
  '- CPU share: CPU time the benchmark process got / wall time (for PostgreSQL and Redis most of the time is the round trip)',
  '',
  '| store | operation | ops/s | p50 µs | p99 µs | calls | CPU share |',
  '|---|---|---:|---:|---:|---:|---:|',
]
for (const row of rows) {
  if (typeof row.result === 'string') {
    lines.push(`| ${row.store} | ${row.operation} | – | – | – | – | ${row.result} |`)
  } else {
    const r = row.result
    lines.push(
      `| ${row.store} | ${row.operation} | ${format(r.opsPerSecond)} | ${format(r.p50Us, 1)} | ${format(r.p99Us, 1)} | ${format(r.ops)} | ${format(r.cpuShare * 100)}% |`,
    )
  }
}
const sqlite = rows.find((row) => row.store === 'SQLite' && row.operation === 'session validation')
if (sqlite !== undefined && typeof sqlite.result !== 'string') {
  const verdict = sqlite.result.opsPerSecond >= TARGET_SQLITE_VALIDATIONS ? 'PASS' : 'MISS'
  lines.push(
    '',
    `Target: SQLite session validation >= ${format(TARGET_SQLITE_VALIDATIONS)}/s on one core: ${verdict} (${format(sqlite.result.opsPerSecond)}/s)`,
  )
}
if (storesFromEnv().includes('SQLite')) {
  // A count, not a timing: what a sign-in writes to SQLite's log, with the bridge's session ids and with random ones.
  const random = await logPagesPerSignIn('random')
  const timeFirst = await logPagesPerSignIn('time first')
  lines.push(
    '',
    `SQLite log pages written per sign-in (batches of 4, after 20,000 sign-ins, 1000 subjects): session ids as the bridge makes them (time first) ${timeFirst.pagesPerSignIn.toFixed(2)}, random ids ${random.pagesPerSignIn.toFixed(2)} (${((1 - timeFirst.pagesPerSignIn / random.pagesPerSignIn) * 100).toFixed(0)}% fewer)`,
  )
}
process.stdout.write(`${lines.join('\n')}\n`)
