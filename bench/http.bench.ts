// `npm run bench:http`: the reference app as `npm start` runs it (the built CLI, `jwks-bridge serve`,
// NODE_ENV=production, the default log level, metrics as installed) against a baseline written the
// usual way (Express 5 + express-session in SQLite + jose + better-sqlite3, pino-http request logging
// at info), both trusting the same test issuer through its key set over loopback, each in its own
// process writing its JSON log lines to a pipe that this process drains, loaded with autocannon from
// this one: GET /me with a valid session, the handoff (PUT /auth, a fresh token per request), and a
// token whose signature is wrong. Prints Markdown tables, the ratios and the targets. A benchmark, not
// a test.
//
// Configurations (BENCH_CONFIG, comma-separated; default shipped,quiet):
//   shipped      reference: LOG_LEVEL unset (info), METRICS unset; baseline: pino-http at info
//   quiet        reference: LOG_LEVEL=warn (no line per request); baseline: no request logging
//   silent       extra: reference with LOG_LEVEL=silent (no logger at all), for shipped / silent
//   metrics-off  extra: reference with LOG_LEVEL=silent and METRICS=false, for what metrics cost
// Targets: shipped pair ≥ 2× requests/s on GET /me and the handoff with a lower p99; quiet pair ≥ 3×
// on GET /me and ≥ 2× on the handoff; shipped ≥ 0.85× silent on GET /me (when both ran).
//
// Environment:
//   BENCH_CONFIG           see above
//   BENCH_ALG              comma-separated algorithms of the issuer: RS256, ES256 (default both)
//   BENCH_CONNECTIONS      comma-separated concurrent connections (default 10,64; each 1 to 256)
//   BENCH_SECONDS          measured seconds per app and scenario (default 5; 1 to 60)
//   BENCH_WARMUP_SECONDS   unmeasured load before each run (default 1; 0 to 10)
//   BENCH_ROUNDS           rounds, apps alternating which goes first; the median run is reported (default 1)
//   BENCH_MAX_TOKENS       most tokens minted for one handoff step (default 150000)
//   BENCH_CPU_PROF         reference, baseline or both: write V8 CPU profiles of those apps
//   BENCH_CPU_PROF_DIR     where (default: a folder under the system's temporary directory)
//   BENCH_SCENARIOS        comma-separated subset of me,handoff,invalid (default all; e.g. to profile one)
//   BENCH_BASELINE_TOUCH   off: the baseline's session store has no touch (no write on GET /me)
// The reference app runs the build (dist/, as `npm start` does): run `npm run build` first.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestIssuer, type TestIssuer } from '../src/testing/index.ts'
import { type AppProcess, spawnApp } from './http/children.ts'
import { compileChild } from './http/compile.ts'
import { type LoadResult, runLoad, type Scenario } from './http/load.ts'
import { invalidBodies, mintBodies, mintPool, TokenPool } from './http/tokens.ts'
import { listFromEnv, numberFromEnv } from './lib/env.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

const ALL_CONFIGS = ['shipped', 'quiet', 'silent', 'metrics-off'] as const
type ConfigName = (typeof ALL_CONFIGS)[number]
const CONFIGS = listFromEnv('BENCH_CONFIG', ALL_CONFIGS, ['shipped', 'quiet'])
const ALGS = listFromEnv('BENCH_ALG', ['RS256', 'ES256'] as const, ['RS256', 'ES256'])
type Alg = (typeof ALGS)[number]
const CONNECTION_COUNTS = (process.env.BENCH_CONNECTIONS ?? '10,64')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '')
  .map((s) => {
    const n = Number(s)
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw new Error('BENCH_CONNECTIONS: each must be from 1 to 256')
    return n
  })
const SECONDS = numberFromEnv('BENCH_SECONDS', 5, 1, 60)
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 1, 0, 10)
const ROUNDS = Math.trunc(numberFromEnv('BENCH_ROUNDS', 1, 1, 9))
const MAX_TOKENS = Math.trunc(numberFromEnv('BENCH_MAX_TOKENS', 150_000, 1000, 1_000_000))
const PROFILE = process.env.BENCH_CPU_PROF ?? ''
if (!['', 'reference', 'baseline', 'both'].includes(PROFILE))
  throw new Error('BENCH_CPU_PROF must be reference, baseline or both')
const ALL_SCENARIOS = ['me', 'handoff', 'invalid'] as const
type ScenarioName = (typeof ALL_SCENARIOS)[number]
const SCENARIOS = listFromEnv('BENCH_SCENARIOS', ALL_SCENARIOS, ALL_SCENARIOS)

/** One app process as configured: which app, and how it logs and measures. */
type AppName =
  | 'baseline-logged'
  | 'baseline-quiet'
  | 'reference-shipped'
  | 'reference-quiet'
  | 'reference-silent'
  | 'reference-metrics-off'
const LABEL: Record<AppName, string> = {
  'baseline-logged': 'baseline, pino-http at info',
  'baseline-quiet': 'baseline, no request log',
  'reference-shipped': '**jwks-bridge as shipped** (info, metrics)',
  'reference-quiet': 'jwks-bridge, LOG_LEVEL=warn, metrics',
  'reference-silent': 'extra: jwks-bridge, LOG_LEVEL=silent, metrics',
  'reference-metrics-off': 'extra: jwks-bridge, LOG_LEVEL=silent, METRICS=false',
}
const APPS_OF: Record<ConfigName, AppName[]> = {
  shipped: ['baseline-logged', 'reference-shipped'],
  quiet: ['baseline-quiet', 'reference-quiet'],
  silent: ['reference-silent'],
  'metrics-off': ['reference-metrics-off'],
}
const APPS: AppName[] = [...new Set(CONFIGS.flatMap((config) => APPS_OF[config]))]
const isReference = (name: AppName) => name.startsWith('reference')

const SCENARIO_LABEL: Record<ScenarioName, string> = {
  me: 'GET /me, valid session',
  handoff: 'handoff: PUT /auth, fresh token',
  invalid: 'PUT /auth, bad signature',
}

if (
  !existsSync(join(root, 'dist/client/jwks-bridge-client.min.js')) ||
  !existsSync(join(root, 'dist/cli/main.js'))
) {
  process.stderr.write('The reference app runs from dist/, as `npm start` does: run `npm run build` first.\n')
  process.exit(1)
}

// Everything is bounded: the whole run is abandoned (and the servers killed) past this.
const perRunSeconds = WARMUP_SECONDS + SECONDS
const runCount = ALGS.length * CONNECTION_COUNTS.length * ROUNDS * SCENARIOS.length * APPS.length
const budgetMs = (180 + runCount * (perRunSeconds * 2 + 30)) * 1000
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

async function prepareClient(issuer: TestIssuer, name: AppName, app: AppProcess): Promise<ClientState> {
  let csrfCookie = `jwks-bridge-session-csrf=${'x'.repeat(43)}`
  let csrfToken = 'x'.repeat(43)
  if (isReference(name)) {
    const page = await fetch(`${app.url}/`, { headers: { 'sec-fetch-site': 'none' } })
    const html = await page.text()
    const token = /<meta name="csrf-token" content="([A-Za-z0-9_-]+)">/.exec(html)?.[1]
    const cookie = cookiePairs(page)[0]
    if (page.status !== 200 || token === undefined || cookie === undefined)
      throw new Error(`GET / on ${name} gave no CSRF token (status ${page.status})`)
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
async function refusesReplay(issuer: TestIssuer, app: AppProcess, client: ClientState): Promise<boolean> {
  const body = mintPool(issuer, 1).pool.take()
  const first = await fetch(`${app.url}/auth`, { method: 'PUT', headers: client.putHeaders, body })
  const second = await fetch(`${app.url}/auth`, { method: 'PUT', headers: client.putHeaders, body })
  await Promise.all([first.arrayBuffer(), second.arrayBuffer()])
  if (first.status !== 204) throw new Error(`${app.name}: a fresh token answered ${first.status}`)
  return second.status === 401
}

interface Row {
  alg: Alg
  connections: number
  scenario: ScenarioName
  app: AppName
  result: LoadResult
  /** Bytes of log the app wrote per response during the measured run. */
  logBytesPerRequest: number
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

async function startApps(alg: Alg, issuerUrl: string, jwksUri: string): Promise<Map<AppName, AppProcess>> {
  const apps = new Map<AppName, AppProcess>()
  const baselineScript = APPS.some((name) => !isReference(name))
    ? await compileChild(join(root, 'bench/http/baseline-server.ts'), join(root, 'bench/http/.build'))
    : undefined
  for (const name of APPS) {
    const reference = isReference(name)
    const profiled = PROFILE === 'both' || PROFILE === (reference ? 'reference' : 'baseline')
    const cpuProfDir = profiled && profileDir !== undefined ? join(profileDir, `${alg}-${name}`) : undefined
    const sqlitePath = join(work, `${alg}-${name}.sqlite`)
    let app: AppProcess
    if (reference) {
      // Exactly what `npm start` runs, configured as a production deployment would be; nothing else
      // from this process's environment leaks in (children.ts passes PATH only).
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: '0',
        ISSUER_URL: issuerUrl,
        JWKS_URI: jwksUri,
        ALGORITHMS: alg,
        SQLITE_PATH: sqlitePath,
      }
      if (name === 'reference-quiet') env.LOG_LEVEL = 'warn'
      if (name === 'reference-silent' || name === 'reference-metrics-off') env.LOG_LEVEL = 'silent'
      if (name === 'reference-metrics-off') env.METRICS = 'false'
      app = await spawnApp(name, join(root, 'dist/cli/main.js'), {
        args: ['serve'],
        env,
        urlFromLine: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1],
        cpuProfDir,
      })
    } else {
      app = await spawnApp(name, baselineScript as string, {
        env: {
          BENCH_ISSUER: issuerUrl,
          BENCH_JWKS_URI: jwksUri,
          BENCH_SQLITE_PATH: sqlitePath,
          BENCH_ALG: alg,
          BENCH_BASELINE_LOG: name === 'baseline-logged' ? 'info' : 'off',
          ...(process.env.BENCH_BASELINE_TOUCH === undefined
            ? {}
            : { BENCH_BASELINE_TOUCH: process.env.BENCH_BASELINE_TOUCH }),
        },
        cpuProfDir,
      })
    }
    apps.set(name, app)
    log(`${alg} ${name}: ${app.url} (pid ${app.pid})`)
  }
  return apps
}

/** Runs a measured load and counts the log bytes the app wrote meanwhile. */
async function measured(
  app: AppProcess,
  scenario: Scenario,
  options: Parameters<typeof runLoad>[2],
): Promise<{ result: LoadResult; logBytesPerRequest: number }> {
  const before = app.stdoutBytes()
  const result = await runLoad(app, scenario, options)
  // The last lines may still be in the pipe: give the drain a moment.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return { result, logBytesPerRequest: (app.stdoutBytes() - before) / Math.max(1, result.responses) }
}

const rows: Row[] = []
const checks: string[] = []
const runs: Row[] = []
/** Handoffs per second the fastest app reached so far, per algorithm: sizes the next token supply. */
const handoffRate = new Map<Alg, number>()
const allApps: AppProcess[] = []
try {
  for (const alg of ALGS) {
    const issuer = createTestIssuer({ alg })
    const served = await issuer.serve()
    let apps: Map<AppName, AppProcess> | undefined
    try {
      apps = await startApps(alg, served.issuer, served.jwksUri)
      allApps.push(...apps.values())
      const clients = new Map<AppName, ClientState>()
      for (const name of APPS) {
        const app = apps.get(name)!
        const client = await prepareClient(issuer, name, app)
        clients.set(name, client)
        if (alg === ALGS[0])
          checks.push(
            `${name} ${(await refusesReplay(issuer, app, client)) ? 'refuses' : 'accepts'} a replayed token`,
          )
      }
      const impostor = createTestIssuer({ alg, issuer: served.issuer })
      const invalid = invalidBodies(issuer, impostor, 64)
      let nextInvalid = 0

      for (const connections of CONNECTION_COUNTS) {
        for (let round = 0; round < ROUNDS; round++) {
          for (const scenario of SCENARIOS) {
            // Alternate the order, so that no app always meets the machine's load first.
            const order = round % 2 === 0 ? APPS : [...APPS].reverse()
            // Handoff tokens: one supply for the step, each app using each token once (every app has
            // its own database), minted before any app runs (minting takes no CPU from a run).
            let bodies: string[] = []
            if (scenario === 'handoff') {
              const rate = handoffRate.get(alg) ?? 4000
              const count = Math.min(MAX_TOKENS, Math.ceil(rate * perRunSeconds * 1.5) + 20 * connections)
              const minted = mintBodies(issuer, count)
              bodies = minted.bodies
              log(`  ${alg}: minted ${bodies.length} tokens in ${minted.seconds.toFixed(1)} s`)
            }
            for (const name of order) {
              const app = apps.get(name)!
              const client = clients.get(name)!
              log(
                `${alg}, ${connections} connections, ${SCENARIO_LABEL[scenario]}: ${name}${ROUNDS > 1 ? ` (round ${round + 1} of ${ROUNDS})` : ''}`,
              )
              const row = { alg, connections, scenario, app: name, problems: [] as string[], notes: [] }
              if (scenario === 'handoff') {
                let pool = new TokenPool(bodies)
                const load = scenarioFor('handoff', client, () => pool.take())
                if (WARMUP_SECONDS > 0)
                  await runLoad(app, load, {
                    seconds: WARMUP_SECONDS,
                    connections,
                    maxRequests: Math.max(connections, pool.size - 4 * connections),
                  })
                let maxRequests = pool.size - pool.used - 2 * connections
                let run = await measured(app, load, { seconds: SECONDS, connections, maxRequests })
                const ranOut = () =>
                  run.result.responses >= maxRequests - connections && run.result.seconds < SECONDS * 0.95
                if (ranOut() && bodies.length < MAX_TOKENS) {
                  // Faster than foreseen: a fresh, larger supply for this app, and the run again.
                  const more = mintBodies(issuer, Math.min(MAX_TOKENS, bodies.length * 2))
                  log(`  ${name}: ran out; minted ${more.bodies.length} more in ${more.seconds.toFixed(1)} s`)
                  pool = new TokenPool(more.bodies)
                  maxRequests = pool.size - 2 * connections
                  run = await measured(app, load, { seconds: SECONDS, connections, maxRequests })
                }
                if (ranOut())
                  row.problems.push(
                    `tokens ran out after ${run.result.seconds.toFixed(1)} s (raise BENCH_MAX_TOKENS)`,
                  )
                if (pool.overdrawn > 0) row.problems.push(`${pool.overdrawn} requests reused a token`)
                handoffRate.set(alg, Math.max(handoffRate.get(alg) ?? 0, run.result.requestsPerSecond))
                runs.push({ ...row, ...run })
                continue
              }
              const body = scenario === 'invalid' ? () => invalid[nextInvalid++ % invalid.length]! : undefined
              const load = scenarioFor(scenario, client, body)
              if (WARMUP_SECONDS > 0) await runLoad(app, load, { seconds: WARMUP_SECONDS, connections })
              runs.push({ ...row, ...(await measured(app, load, { seconds: SECONDS, connections })) })
            }
          }
        }
      }
    } finally {
      if (apps !== undefined) await Promise.allSettled([...apps.values()].map((app) => app.stop()))
      await served.close()
    }
  }
  // With several rounds, each app's median run (by requests/s) stands for it.
  for (const alg of ALGS) {
    for (const connections of CONNECTION_COUNTS) {
      for (const scenario of SCENARIOS) {
        for (const name of APPS) {
          const mine = runs
            .filter(
              (run) =>
                run.alg === alg &&
                run.connections === connections &&
                run.scenario === scenario &&
                run.app === name,
            )
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
    }
  }
} finally {
  await Promise.allSettled(allApps.map((app) => app.stop()))
  rmSync(work, { recursive: true, force: true })
  clearTimeout(watchdog)
}

// ---- report ----
const pct = (share: number) => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a')
// CPU time per request is far less sensitive than requests/s to what else the machine is running.
const cpuPerRequestUs = (r: LoadResult) => (r.serverCpuShare * r.seconds * 1e6) / r.responses
const EXPECTED: Record<ScenarioName, number> = { me: 200, handoff: 204, invalid: 401 }

function non2xx(row: Row): string {
  const r = row.result
  const other = Object.entries(r.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0)
  const parts = [fmt(other)]
  if (row.scenario === 'invalid' && r.unexpected === 0) parts[0] = `${fmt(other)} (all 401, expected)`
  else if (r.unexpected > 0) {
    const detail = Object.entries(r.statuses)
      .filter(([status]) => Number(status) !== EXPECTED[row.scenario])
      .map(([status, count]) => `${fmt(count)}× ${status}`)
      .join(', ')
    parts.push(`unexpected: ${detail}`)
  }
  if (r.errors > 0 || r.timeouts > 0) parts.push(`${r.errors} errors, ${r.timeouts} timeouts`)
  return [...parts, ...row.problems, ...row.notes].join('; ')
}

const clean = (row: Row) => row.result.unexpected === 0 && row.problems.length === 0

interface Comparison {
  title: string
  /** The app measured, and what it is measured against. */
  app: AppName
  against: AppName
  /** Least ratio of requests/s per scenario (none: information only); whether a lower p99 is required too. */
  targets: Partial<Record<ScenarioName, { ratio: number; lowerP99: boolean }>>
}
const COMPARISONS: Comparison[] = [
  {
    title: 'as shipped: jwks-bridge (info, metrics) / baseline with pino-http at info',
    app: 'reference-shipped',
    against: 'baseline-logged',
    targets: { me: { ratio: 2, lowerP99: true }, handoff: { ratio: 2, lowerP99: true } },
  },
  {
    title: 'quiet: jwks-bridge (LOG_LEVEL=warn, metrics) / baseline without request log',
    app: 'reference-quiet',
    against: 'baseline-quiet',
    targets: { me: { ratio: 3, lowerP99: false }, handoff: { ratio: 2, lowerP99: false } },
  },
  {
    title: 'what logging costs: jwks-bridge as shipped / LOG_LEVEL=silent',
    app: 'reference-shipped',
    against: 'reference-silent',
    targets: { me: { ratio: 0.85, lowerP99: false } },
  },
  {
    title: 'what metrics cost: jwks-bridge silent with metrics / silent with METRICS=false',
    app: 'reference-silent',
    against: 'reference-metrics-off',
    targets: { me: { ratio: 0.95, lowerP99: false } },
  },
]

const cpu = cpus()
const loadAfter = loadavg()
const lines = [
  `## HTTP benchmark (${new Date().toISOString()})`,
  '',
  `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores (shared with other processes), Node ${process.version}, ${process.platform}`,
  `- Load average (1, 5, 15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}; after: ${loadAfter.map((l) => l.toFixed(2)).join(', ')}`,
  `- Method: each app in its own process on 127.0.0.1, autocannon in a third; ${SECONDS} s measured after ${WARMUP_SECONDS} s of warm-up per app and scenario${ROUNDS > 1 ? ` (median of ${ROUNDS} rounds)` : ''}; both apps trust the same test issuer (${ALGS.join(', ')}) through its key set over loopback; handoff tokens minted before each step, each used once per app, subjects cycling over 1000 users. jwks-bridge runs as \`npm start\` does (\`node dist/cli/main.js serve\`, NODE_ENV=production); every app's stdout (its JSON log) is a pipe this process drains`,
  `- Configurations: ${CONFIGS.join(', ')}`,
  "- Server CPU: CPU time of the app's process, all threads / wall time (100% = one core); the load generator's in brackets. Event loop: the app's main thread on a CPU, and runnable but waiting for one (other processes had it). Log: bytes the app wrote to stdout per request. Latency: per-response times from autocannon",
  `- Checks: ${checks.join('; ')}`,
]
let invalidRuns = 0
for (const alg of ALGS) {
  for (const connections of CONNECTION_COUNTS) {
    const here = rows.filter((r) => r.alg === alg && r.connections === connections)
    if (here.length === 0) continue
    lines.push(
      '',
      `### ${alg}, ${connections} connections`,
      '',
      '| scenario | app | requests/s | p50 ms | p99 ms | non-2xx | server CPU (loader) | event loop: on CPU / waiting | server CPU µs/request | log bytes/request |',
      '|---|---|---:|---:|---:|---|---:|---:|---:|---:|',
    )
    for (const row of here) {
      const r = row.result
      lines.push(
        `| ${SCENARIO_LABEL[row.scenario]} | ${LABEL[row.app]} | ${fmt(r.requestsPerSecond)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${non2xx(row)} | ${pct(r.serverCpuShare)} (${pct(r.loaderCpuShare)}) | ${pct(r.mainCpuShare)} / ${pct(r.mainWaitShare)} | ${fmt(cpuPerRequestUs(r))} | ${fmt(row.logBytesPerRequest)} |`,
      )
    }
    const find = (scenario: ScenarioName, app: AppName) =>
      here.find((r) => r.scenario === scenario && r.app === app)
    lines.push(
      '',
      '| comparison | scenario | requests/s ratio | p99 ratio | CPU per request: other / this | target | result |',
      '|---|---|---:|---:|---:|---|---|',
    )
    for (const comparison of COMPARISONS) {
      for (const scenario of SCENARIOS) {
        const mine = find(scenario, comparison.app)
        const other = find(scenario, comparison.against)
        if (mine === undefined || other === undefined) continue
        const ratio = mine.result.requestsPerSecond / other.result.requestsPerSecond
        const p99Ratio = mine.result.p99Ms / other.result.p99Ms
        const cpuRatio = cpuPerRequestUs(other.result) / cpuPerRequestUs(mine.result)
        const ok = clean(mine) && clean(other)
        if (!ok) invalidRuns += 1
        const target = comparison.targets[scenario]
        let verdict = ok ? '–' : 'INVALID RUN (see non-2xx)'
        let targetText = '–'
        if (target !== undefined) {
          targetText = `≥ ${target.ratio}×${target.lowerP99 ? ', lower p99' : ''}`
          const pass = ratio >= target.ratio && (!target.lowerP99 || mine.result.p99Ms < other.result.p99Ms)
          if (ok) verdict = pass ? 'PASS' : 'MISS'
        }
        lines.push(
          `| ${comparison.title} | ${SCENARIO_LABEL[scenario]} | ${fmt(ratio, 2)}× | ${fmt(p99Ratio, 2)}× | ${fmt(cpuRatio, 2)}× | ${targetText} | ${verdict} |`,
        )
      }
    }
  }
}
lines.push(
  '',
  `machine: ${cpu[0]?.model.trim() ?? 'unknown'} x${cpu.length}, node ${process.version}, load ${loadBefore[0]!.toFixed(2)}->${loadAfter[0]!.toFixed(2)}, ${SECONDS} s runs, ${ROUNDS} round(s), connections ${CONNECTION_COUNTS.join('/')}`,
)
if (profileDir !== undefined) {
  // The main thread's profile is the largest one of each app (the others are worker threads').
  const found: string[] = []
  for (const dir of readdirSync(profileDir).map((name) => join(profileDir, name))) {
    if (!statSync(dir).isDirectory()) continue
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
