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
//   BENCH_VARIANT_CHECKOUT another checkout of jwks-bridge, built (`npm run build` there): its app runs as
//                          a third one beside the quiet pair, configured as reference-quiet, compared with
//                          the baseline and with this checkout's app in the same rounds (an A/B of a change)
//   BENCH_VARIANT_ENV      extra environment for that variant app, NAME=value pairs separated by spaces
//                          (with or without BENCH_VARIANT_CHECKOUT; without it, this checkout's build)
// The reference app runs the build (dist/, as `npm start` does): run `npm run build` first.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestIssuer } from '../src/testing/index.ts'
import { type AppProcess, spawnApp } from './http/children.ts'
import { compileChild } from './http/compile.ts'
import {
  ALL_SCENARIOS,
  type ClientState,
  prepareClient,
  refusesReplay,
  SCENARIO_LABEL,
  type ScenarioName,
} from './http/session-client.ts'
import {
  type Alg,
  appBenchSettings,
  exitUnlessBuilt,
  packageRoot,
  spawnReferenceApp,
} from './http/settings.ts'
import { HandoffSupply, runScenarioStep } from './http/steps.ts'
import {
  clean,
  cpuPerRequestUs,
  detailHeader,
  detailRow,
  fmt,
  type MeasuredRow,
  machineHeader,
  medianRun,
} from './http/table.ts'
import { inTurn, invalidBodies } from './http/tokens.ts'
import { listFromEnv } from './lib/env.ts'

const root = packageRoot

const ALL_CONFIGS = ['shipped', 'quiet', 'silent', 'metrics-off'] as const
type ConfigName = (typeof ALL_CONFIGS)[number]
const CONFIGS = listFromEnv('BENCH_CONFIG', ALL_CONFIGS, ['shipped', 'quiet'])
const SETTINGS = appBenchSettings({ rounds: 1, scenarios: ALL_SCENARIOS })
const { algs: ALGS, connectionCounts: CONNECTION_COUNTS, seconds: SECONDS, rounds: ROUNDS } = SETTINGS
const { warmupSeconds: WARMUP_SECONDS, maxTokens: MAX_TOKENS, scenarios: SCENARIOS } = SETTINGS
const PROFILE = process.env.BENCH_CPU_PROF ?? ''
if (!['', 'reference', 'baseline', 'both'].includes(PROFILE))
  throw new Error('BENCH_CPU_PROF must be reference, baseline or both')

/** One app process as configured: which app, and how it logs and measures. */
type AppName =
  | 'baseline-logged'
  | 'baseline-quiet'
  | 'reference-shipped'
  | 'reference-quiet'
  | 'reference-silent'
  | 'reference-metrics-off'
  | 'reference-variant'
const VARIANT_CHECKOUT = process.env.BENCH_VARIANT_CHECKOUT ?? ''
const VARIANT_ENV = parseVariantEnv(process.env.BENCH_VARIANT_ENV ?? '')
const VARIANT_LABEL = [
  VARIANT_CHECKOUT === '' ? '' : `from ${VARIANT_CHECKOUT}`,
  ...Object.entries(VARIANT_ENV).map(([name, value]) => `${name}=${value}`),
]
  .filter((part) => part !== '')
  .join(', ')
const WITH_VARIANT = VARIANT_LABEL !== ''
if (VARIANT_CHECKOUT !== '' && !existsSync(join(VARIANT_CHECKOUT, 'dist/cli/main.js')))
  throw new Error(
    `BENCH_VARIANT_CHECKOUT: no ${join(VARIANT_CHECKOUT, 'dist/cli/main.js')}; run npm run build there`,
  )

function parseVariantEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of text.split(/\s+/).filter((part) => part !== '')) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`BENCH_VARIANT_ENV: expected NAME=value, got ${JSON.stringify(pair)}`)
    env[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return env
}
const LABEL: Record<AppName, string> = {
  'baseline-logged': 'baseline, pino-http at info',
  'baseline-quiet': 'baseline, no request log',
  'reference-shipped': '**jwks-bridge as shipped** (info, metrics)',
  'reference-quiet': 'jwks-bridge, LOG_LEVEL=warn, metrics',
  'reference-silent': 'extra: jwks-bridge, LOG_LEVEL=silent, metrics',
  'reference-metrics-off': 'extra: jwks-bridge, LOG_LEVEL=silent, METRICS=false',
  'reference-variant': `variant: jwks-bridge, LOG_LEVEL=warn, metrics, ${VARIANT_LABEL}`,
}
const APPS_OF: Record<ConfigName, AppName[]> = {
  shipped: ['baseline-logged', 'reference-shipped'],
  quiet: ['baseline-quiet', 'reference-quiet', ...(WITH_VARIANT ? (['reference-variant'] as const) : [])],
  silent: ['reference-silent'],
  'metrics-off': ['reference-metrics-off'],
}
const APPS: AppName[] = [...new Set(CONFIGS.flatMap((config) => APPS_OF[config]))]
const isReference = (name: AppName) => name.startsWith('reference')

exitUnlessBuilt()

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

interface Row extends MeasuredRow {
  alg: Alg
  connections: number
  app: AppName
}

const log = (line: string) => process.stderr.write(`${line}\n`)

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
      const env: Record<string, string> = { SQLITE_PATH: sqlitePath }
      if (name === 'reference-quiet' || name === 'reference-variant') env.LOG_LEVEL = 'warn'
      if (name === 'reference-variant') Object.assign(env, VARIANT_ENV)
      if (name === 'reference-silent' || name === 'reference-metrics-off') env.LOG_LEVEL = 'silent'
      if (name === 'reference-metrics-off') env.METRICS = 'false'
      const checkout = name === 'reference-variant' && VARIANT_CHECKOUT !== '' ? VARIANT_CHECKOUT : undefined
      app = await spawnReferenceApp(name, { alg, issuerUrl, jwksUri, env, cpuProfDir, checkout })
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

const rows: Row[] = []
const checks: string[] = []
const runs: Row[] = []
/** One app's runs of one step, in round order. */
const runsOf = (alg: Alg, connections: number, scenario: ScenarioName, app: AppName) =>
  runs.filter(
    (run) =>
      run.alg === alg && run.connections === connections && run.scenario === scenario && run.app === app,
  )
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
        const client = await prepareClient(issuer, app, isReference(name))
        clients.set(name, client)
        if (alg === ALGS[0])
          checks.push(
            `${name} ${(await refusesReplay(issuer, app, client)) ? 'refuses' : 'accepts'} a replayed token`,
          )
      }
      const impostor = createTestIssuer({ alg, issuer: served.issuer })
      const invalidBody = inTurn(invalidBodies(issuer, impostor, 64))
      const supply = new HandoffSupply(issuer, MAX_TOKENS, log)

      for (const connections of CONNECTION_COUNTS) {
        const step = { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections }
        for (let round = 0; round < ROUNDS; round++) {
          for (const scenario of SCENARIOS) {
            // Alternate the order, so that no app always meets the machine's load first.
            const order = round % 2 === 0 ? APPS : [...APPS].reverse()
            const bodies = scenario === 'handoff' ? supply.mint(step) : []
            for (const name of order) {
              const app = apps.get(name)!
              const client = clients.get(name)!
              log(
                `${alg}, ${connections} connections, ${SCENARIO_LABEL[scenario]}: ${name}${ROUNDS > 1 ? ` (round ${round + 1} of ${ROUNDS})` : ''}`,
              )
              const row = { alg, connections, scenario, app: name, notes: [] }
              const run = await runScenarioStep(app, scenario, { client, supply, bodies, invalidBody }, step)
              runs.push({ ...row, ...run })
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
          const median = medianRun(runsOf(alg, connections, scenario, name))
          if (median !== undefined) rows.push(median)
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
    title: 'variant: jwks-bridge variant (LOG_LEVEL=warn, metrics) / baseline without request log',
    app: 'reference-variant',
    against: 'baseline-quiet',
    targets: {},
  },
  {
    title: 'A/B: jwks-bridge variant / this checkout (both LOG_LEVEL=warn, metrics)',
    app: 'reference-variant',
    against: 'reference-quiet',
    targets: {},
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
  ...machineHeader(loadBefore, loadAfter),
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
    lines.push('', `### ${alg}, ${connections} connections`, '', ...detailHeader())
    for (const row of here) lines.push(detailRow(SCENARIO_LABEL[row.scenario], LABEL[row.app], row))
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
        // Each round's ratio too: the two apps of one round ran seconds apart, under the same load.
        const theirs = runsOf(alg, connections, scenario, comparison.against)
        const perRound =
          ROUNDS > 1
            ? ` (rounds: ${runsOf(alg, connections, scenario, comparison.app)
                .map((run, i) => fmt(run.result.requestsPerSecond / theirs[i]!.result.requestsPerSecond, 2))
                .join(', ')})`
            : ''
        lines.push(
          `| ${comparison.title} | ${SCENARIO_LABEL[scenario]} | ${fmt(ratio, 2)}×${perRound} | ${fmt(p99Ratio, 2)}× | ${fmt(cpuRatio, 2)}× | ${targetText} | ${verdict} |`,
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
