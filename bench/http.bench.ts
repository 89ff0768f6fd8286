// `npm run bench:http`: the reference app (Fastify + jwks-bridge on SQLite) against a baseline written
// the usual way (Express 5 + express-session in SQLite + jose + better-sqlite3), both trusting the same
// test issuer through its key set over loopback, each in its own process, loaded with autocannon from
// this one: GET /me with a valid session, the handoff (PUT /auth, a fresh token per request), and a
// token whose signature is wrong. Prints a Markdown table, the ratios and the targets (at least 2x the
// baseline's requests/s on GET /me and on the handoff, with a lower p99). A benchmark, not a test.
//
// Environment:
//   BENCH_SECONDS          measured seconds per app and scenario (default 5; 1 to 60)
//   BENCH_CONNECTIONS      concurrent connections (default 10; 1 to 256)
//   BENCH_WARMUP_SECONDS   unmeasured load before each run (default 1; 0 to 10)
//   BENCH_ROUNDS           rounds, apps alternating which goes first; the median run is reported (default 1)
//   BENCH_MAX_TOKENS       most tokens minted for one handoff run (default 150000)
//   BENCH_CPU_PROF         reference, baseline or both: write V8 CPU profiles of those apps
//   BENCH_CPU_PROF_DIR     where (default: a folder under the system's temporary directory)
//   BENCH_SCENARIOS        comma-separated subset of me,handoff,invalid (default all; e.g. to profile one)
//   BENCH_BASELINE_TOUCH   off: the baseline's session store has no touch (no write on GET /me)
// The reference app runs the build (dist/, as `npm start` does): run `npm run build` first.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '../src/testing/index.ts'
import { type AppProcess, spawnApp } from './http/children.ts'
import { compileChild } from './http/compile.ts'
import { type LoadResult, runLoad, type Scenario } from './http/load.ts'
import { invalidBodies, mintPool, type TokenPool } from './http/tokens.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

function numberFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`${name} must be from ${min} to ${max}`)
  return value
}

const SECONDS = numberFromEnv('BENCH_SECONDS', 5, 1, 60)
const CONNECTIONS = Math.trunc(numberFromEnv('BENCH_CONNECTIONS', 10, 1, 256))
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 1, 0, 10)
const ROUNDS = Math.trunc(numberFromEnv('BENCH_ROUNDS', 1, 1, 9))
const MAX_TOKENS = Math.trunc(numberFromEnv('BENCH_MAX_TOKENS', 150_000, 1000, 1_000_000))
const PROFILE = process.env.BENCH_CPU_PROF ?? ''
if (!['', 'reference', 'baseline', 'both'].includes(PROFILE))
  throw new Error('BENCH_CPU_PROF must be reference, baseline or both')
const TARGET_RATIO = 2
const ALL_SCENARIOS = ['me', 'handoff', 'invalid'] as const
const SCENARIOS =
  (process.env.BENCH_SCENARIOS ?? '').trim() === ''
    ? [...ALL_SCENARIOS]
    : (process.env.BENCH_SCENARIOS as string).split(',').map((s) => s.trim())
for (const name of SCENARIOS) {
  if (!(ALL_SCENARIOS as readonly string[]).includes(name))
    throw new Error(`BENCH_SCENARIOS: unknown scenario ${name}`)
}

type AppName = 'baseline' | 'reference'
const APPS: readonly AppName[] = ['baseline', 'reference']
const LABEL: Record<AppName, string> = {
  baseline: 'baseline: Express 5 + express-session (SQLite) + jose',
  reference: 'reference app: Fastify + jwks-bridge (SQLite)',
}
type ScenarioName = (typeof ALL_SCENARIOS)[number]
const SCENARIO_LABEL: Record<ScenarioName, string> = {
  me: 'GET /me, valid session',
  handoff: 'handoff: PUT /auth, fresh token',
  invalid: 'PUT /auth, bad signature',
}

if (
  !existsSync(join(root, 'dist/client/jwks-bridge-client.min.js')) ||
  !existsSync(join(root, 'dist/app/server.js'))
) {
  process.stderr.write('The reference app runs from dist/, as `npm start` does: run `npm run build` first.\n')
  process.exit(1)
}

// Everything is bounded: the whole run is abandoned (and the servers killed) past this.
const perRunSeconds = WARMUP_SECONDS + SECONDS
const budgetMs = (120 + ROUNDS * (2 * 3 * (perRunSeconds * 2 + 5) + 2 * 2 * 60)) * 1000
const work = mkdtempSync(join(tmpdir(), 'jwks-bridge-bench-http-'))
const watchdog = setTimeout(() => {
  process.stderr.write(`bench:http: still running after ${Math.round(budgetMs / 1000)} s; stopping\n`)
  // The exit hook in children.ts kills the servers; the databases go with their folder.
  rmSync(work, { recursive: true, force: true })
  process.exit(2)
}, budgetMs)

const loadBefore = loadavg()
const profileDir =
  PROFILE === ''
    ? undefined
    : (process.env.BENCH_CPU_PROF_DIR ?? join(tmpdir(), 'jwks-bridge-bench-http-profiles'))
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })
const apps = new Map<AppName, AppProcess>()
const issuer = createTestIssuer({ alg: 'RS256' })
const served = await issuer.serve()

/** What a browser page of the app would send with PUT /auth: same-origin headers and the CSRF pair. */
interface ClientState {
  putHeaders: Record<string, string>
  sessionCookie: string
}

function cookiePairs(response: Response): string[] {
  // Set-Cookie values whose Max-Age is not 0 (a cleared cookie is not kept), as name=value.
  return response.headers
    .getSetCookie()
    .filter((cookie) => !/;\s*max-age=0(?:;|$)/i.test(cookie))
    .map((cookie) => cookie.split(';', 1)[0]!)
}

async function prepareClient(name: AppName, app: AppProcess): Promise<ClientState> {
  let csrfCookie = `jwks-bridge-session-csrf=${'x'.repeat(43)}`
  let csrfToken = 'x'.repeat(43)
  if (name === 'reference') {
    const page = await fetch(`${app.url}/`, { headers: { 'sec-fetch-site': 'none' } })
    const html = await page.text()
    const token = /<meta name="csrf-token" content="([A-Za-z0-9_-]+)">/.exec(html)?.[1]
    const cookie = cookiePairs(page)[0]
    if (page.status !== 200 || token === undefined || cookie === undefined)
      throw new Error(`GET / on the reference app gave no CSRF token (status ${page.status})`)
    csrfCookie = cookie
    csrfToken = token
  }
  // The baseline ignores these; it gets the same headers so that both parse requests of the same size.
  const putHeaders = {
    'content-type': 'application/json',
    origin: app.url,
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': 'cors',
    cookie: csrfCookie,
    'x-csrf-token': csrfToken,
  }
  const { pool } = mintPool(issuer, 2)
  const signIn = await fetch(`${app.url}/auth`, { method: 'PUT', headers: putHeaders, body: pool.take() })
  const sessionCookie = cookiePairs(signIn).join('; ')
  if (signIn.status !== 204 || sessionCookie === '')
    throw new Error(`${name}: sign-in answered ${signIn.status}`)
  const me = await fetch(`${app.url}/me`, { headers: { cookie: sessionCookie } })
  await me.arrayBuffer()
  if (me.status !== 200) throw new Error(`${name}: GET /me after sign-in answered ${me.status}`)
  return { putHeaders, sessionCookie }
}

/** Whether an app refuses a token it has already accepted (the reference app must; the baseline does not). */
async function refusesReplay(app: AppProcess, client: ClientState): Promise<boolean> {
  const body = mintPool(issuer, 1).pool.take()
  const first = await fetch(`${app.url}/auth`, { method: 'PUT', headers: client.putHeaders, body })
  const second = await fetch(`${app.url}/auth`, { method: 'PUT', headers: client.putHeaders, body })
  await Promise.all([first.arrayBuffer(), second.arrayBuffer()])
  if (first.status !== 204) throw new Error(`${app.name}: a fresh token answered ${first.status}`)
  return second.status === 401
}

interface Row {
  scenario: ScenarioName
  app: AppName
  result: LoadResult
  /** What makes the run not measure what it should (a reused token, tokens ran out). */
  problems: string[]
  /** Information only. */
  notes: string[]
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a'
const log = (line: string) => process.stderr.write(`${line}\n`)

function scenarioFor(name: ScenarioName, client: ClientState, body?: () => string): Scenario {
  if (name === 'me')
    return { name, method: 'GET', path: '/me', headers: { cookie: client.sessionCookie }, expectStatus: 200 }
  return {
    name,
    method: 'PUT',
    path: '/auth',
    headers: client.putHeaders,
    body: body as () => string,
    expectStatus: name === 'handoff' ? 204 : 401,
  }
}

/** The handoff uses each token once: mint enough for the run (sized from the warm-up's rate). */
async function runHandoff(
  app: AppProcess,
  client: ClientState,
): Promise<{ result: LoadResult; problems: string[] }> {
  const problems: string[] = []
  let rate = 4000
  if (WARMUP_SECONDS > 0) {
    const { pool } = mintPool(
      issuer,
      Math.min(MAX_TOKENS, Math.ceil(WARMUP_SECONDS * 6000) + 4 * CONNECTIONS),
    )
    const warm = await runLoad(
      app,
      scenarioFor('handoff', client, () => pool.take()),
      {
        seconds: WARMUP_SECONDS,
        connections: CONNECTIONS,
        maxRequests: pool.size - 2 * CONNECTIONS,
      },
    )
    rate = Math.max(rate, warm.requestsPerSecond)
  }
  let count = Math.min(MAX_TOKENS, Math.ceil(rate * SECONDS * 1.6) + 20 * CONNECTIONS)
  for (let attempt = 1; ; attempt++) {
    const minted = mintPool(issuer, count)
    log(`  ${app.name}: minted ${minted.pool.size} tokens in ${minted.seconds.toFixed(1)} s`)
    const pool: TokenPool = minted.pool
    const maxRequests = pool.size - 2 * CONNECTIONS
    const result = await runLoad(
      app,
      scenarioFor('handoff', client, () => pool.take()),
      {
        seconds: SECONDS,
        connections: CONNECTIONS,
        maxRequests,
      },
    )
    if (pool.overdrawn > 0) problems.push(`${pool.overdrawn} requests reused a token`)
    const ranOut = result.responses >= maxRequests - CONNECTIONS && result.seconds < SECONDS * 0.95
    if (!ranOut) return { result, problems }
    if (attempt === 2 || count >= MAX_TOKENS) {
      problems.push(`tokens ran out after ${result.seconds.toFixed(1)} s (raise BENCH_MAX_TOKENS)`)
      return { result, problems }
    }
    count = Math.min(MAX_TOKENS, count * 2)
  }
}

const rows: Row[] = []
const checks: string[] = []
try {
  for (const name of APPS) {
    const profiled = PROFILE === 'both' || PROFILE === name
    const script = await compileChild(
      join(root, `bench/http/${name}-server.ts`),
      join(root, 'bench/http/.build'),
    )
    const app = await spawnApp(name, script, {
      env: {
        BENCH_ISSUER: served.issuer,
        BENCH_JWKS_URI: served.jwksUri,
        BENCH_SQLITE_PATH: join(work, `${name}.sqlite`),
        ...(process.env.BENCH_BASELINE_TOUCH === undefined
          ? {}
          : { BENCH_BASELINE_TOUCH: process.env.BENCH_BASELINE_TOUCH }),
      },
      cpuProfDir: profiled && profileDir !== undefined ? join(profileDir, name) : undefined,
    })
    apps.set(name, app)
    log(`${name}: ${app.url} (pid ${app.pid})`)
  }
  const clients = new Map<AppName, ClientState>()
  for (const name of APPS) {
    const app = apps.get(name)!
    const client = await prepareClient(name, app)
    clients.set(name, client)
    checks.push(`${name} ${(await refusesReplay(app, client)) ? 'refuses' : 'accepts'} a replayed token`)
  }
  const impostor = createTestIssuer({ alg: 'RS256', issuer: served.issuer })
  const invalid = invalidBodies(issuer, impostor, 64)
  let nextInvalid = 0

  const runs: Row[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const scenario of ALL_SCENARIOS.filter((name) => SCENARIOS.includes(name))) {
      // Alternate which app goes first, so that neither always meets the machine's load first.
      for (const name of round % 2 === 0 ? APPS : [...APPS].reverse()) {
        const app = apps.get(name)!
        const client = clients.get(name)!
        log(`${SCENARIO_LABEL[scenario]}: ${name}${ROUNDS > 1 ? ` (round ${round + 1} of ${ROUNDS})` : ''}`)
        if (scenario === 'handoff') {
          const { result, problems } = await runHandoff(app, client)
          runs.push({ scenario, app: name, result, problems, notes: [] })
          continue
        }
        const body = scenario === 'invalid' ? () => invalid[nextInvalid++ % invalid.length]! : undefined
        const load = scenarioFor(scenario, client, body)
        if (WARMUP_SECONDS > 0)
          await runLoad(app, load, { seconds: WARMUP_SECONDS, connections: CONNECTIONS })
        const result = await runLoad(app, load, { seconds: SECONDS, connections: CONNECTIONS })
        runs.push({ scenario, app: name, result, problems: [], notes: [] })
      }
    }
  }
  // With several rounds, each app's median run (by requests/s) stands for it.
  for (const scenario of ALL_SCENARIOS) {
    for (const name of APPS) {
      const mine = runs
        .filter((run) => run.scenario === scenario && run.app === name)
        .sort((a, b) => a.result.requestsPerSecond - b.result.requestsPerSecond)
      const median = mine[Math.floor((mine.length - 1) / 2)]
      if (median === undefined) continue
      const problems = [...new Set(mine.flatMap((run) => run.problems))]
      const notes: string[] = []
      if (mine.length > 1)
        notes.push(
          `median of ${mine.length}: ${mine.map((run) => fmt(run.result.requestsPerSecond)).join(', ')}/s`,
        )
      rows.push({ ...median, problems, notes })
    }
  }
} finally {
  await Promise.allSettled([...apps.values()].map((app) => app.stop()))
  await served.close()
  rmSync(work, { recursive: true, force: true })
  clearTimeout(watchdog)
}

// ---- report ----
const pct = (share: number) => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a')
// CPU time per request is far less sensitive than requests/s to what else the machine is running.
const cpuPerRequestUs = (r: LoadResult) => (r.serverCpuShare * r.seconds * 1e6) / r.responses
const find = (scenario: ScenarioName, app: AppName) =>
  rows.find((r) => r.scenario === scenario && r.app === app)

function non2xx(row: Row): string {
  const r = row.result
  const other = Object.entries(r.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0)
  const parts = [fmt(other)]
  if (row.scenario === 'invalid' && r.unexpected === 0) parts[0] = `${fmt(other)} (all 401, expected)`
  else if (r.unexpected > 0) {
    const detail = Object.entries(r.statuses)
      .filter(
        ([status]) =>
          Number(status) !== (row.scenario === 'me' ? 200 : row.scenario === 'handoff' ? 204 : 401),
      )
      .map(([status, count]) => `${fmt(count)}× ${status}`)
      .join(', ')
    parts.push(`unexpected: ${detail}`)
  }
  if (r.errors > 0 || r.timeouts > 0) parts.push(`${r.errors} errors, ${r.timeouts} timeouts`)
  return [...parts, ...row.problems, ...row.notes].join('; ')
}

const cpu = cpus()
const loadAfter = loadavg()
const lines = [
  `## HTTP benchmark (${new Date().toISOString()})`,
  '',
  `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores (shared with other processes), Node ${process.version}, ${process.platform}`,
  `- Load average (1, 5, 15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}; after: ${loadAfter.map((l) => l.toFixed(2)).join(', ')}`,
  `- Method: each app in its own process on 127.0.0.1, autocannon in a third; ${CONNECTIONS} connections, ${SECONDS} s measured after ${WARMUP_SECONDS} s of warm-up per app and scenario${ROUNDS > 1 ? ` (median of ${ROUNDS} rounds)` : ''}; both apps trust the same RS256 test issuer through its key set over loopback; handoff tokens minted before each run, each used once, subjects cycling over 1000 users`,
  "- Server CPU: CPU time of the app's process, all threads / wall time (100% = one core); the load generator's in brackets. Event loop: the app's main thread on a CPU, and runnable but waiting for one (other processes had it); the rest it was blocked (disk) or idle. Latency: per-response times from autocannon",
  `- Checks: ${checks.join('; ')}`,
  '',
  '| scenario | app | requests/s | p50 ms | p99 ms | non-2xx | server CPU (loader) | event loop: on CPU / waiting for CPU | server CPU µs/request |',
  '|---|---|---:|---:|---:|---|---:|---:|---:|',
]
for (const row of rows) {
  const r = row.result
  lines.push(
    `| ${SCENARIO_LABEL[row.scenario]} | ${LABEL[row.app]} | ${fmt(r.requestsPerSecond)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${non2xx(row)} | ${pct(r.serverCpuShare)} (${pct(r.loaderCpuShare)}) | ${pct(r.mainCpuShare)} / ${pct(r.mainWaitShare)} | ${fmt(cpuPerRequestUs(r))} |`,
  )
}
lines.push(
  '',
  '| scenario | requests/s: reference / baseline | p99: reference / baseline | server CPU per request: baseline / reference | target | result |',
  '|---|---:|---:|---:|---|---|',
)
let invalidRuns = 0
for (const scenario of ['me', 'handoff', 'invalid'] as const) {
  const base = find(scenario, 'baseline')
  const ref = find(scenario, 'reference')
  if (base === undefined || ref === undefined) continue
  const ratio = ref.result.requestsPerSecond / base.result.requestsPerSecond
  const p99Ratio = ref.result.p99Ms / base.result.p99Ms
  const clean =
    ref.result.unexpected === 0 &&
    base.result.unexpected === 0 &&
    ref.problems.length === 0 &&
    base.problems.length === 0
  let target = '–'
  if (!clean) invalidRuns += 1
  let verdict = clean ? '–' : 'INVALID RUN (see non-2xx)'
  if (scenario !== 'invalid') {
    target = `≥ ${TARGET_RATIO}× requests/s, lower p99`
    const pass = clean && ratio >= TARGET_RATIO && ref.result.p99Ms < base.result.p99Ms
    verdict = !clean ? verdict : pass ? 'PASS' : 'MISS'
  }
  const cpuRatio = cpuPerRequestUs(base.result) / cpuPerRequestUs(ref.result)
  lines.push(
    `| ${SCENARIO_LABEL[scenario]} | ${fmt(ratio, 2)}× | ${fmt(p99Ratio, 2)}× | ${fmt(cpuRatio, 2)}× | ${target} | ${verdict} |`,
  )
}
const server = (name: AppName) =>
  rows
    .filter((r) => r.app === name)
    .map((r) => pct(r.result.serverCpuShare))
    .join('/')
lines.push(
  '',
  `machine: ${cpu[0]?.model.trim() ?? 'unknown'} x${cpu.length}, node ${process.version}, load ${loadBefore[0]!.toFixed(2)}->${loadAfter[0]!.toFixed(2)}, server CPU baseline ${server('baseline')} reference ${server('reference')} (me/handoff/invalid), ${CONNECTIONS} connections x ${SECONDS} s`,
)
if (profileDir !== undefined) {
  // The main thread's profile is the largest one of each app (the others are worker threads').
  const found: string[] = []
  for (const name of APPS) {
    const dir = join(profileDir, name)
    if (!existsSync(dir)) continue
    const files = readdirSync(dir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => join(dir, file))
      .sort((a, b) => statSync(b).size - statSync(a).size)
    if (files[0] !== undefined) found.push(files[0])
  }
  lines.push(
    '',
    `CPU profiles: ${found.join(', ')}`,
    '(summary: node --import tsx bench/http/profile-summary.ts <file> [top] [filter])',
  )
}
process.stdout.write(`${lines.join('\n')}\n`)
// A miss is a finding, not a failure; a run with unexpected statuses measured the wrong thing.
process.exitCode = invalidRuns > 0 ? 1 : 0
