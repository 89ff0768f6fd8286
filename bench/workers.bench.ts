// `npm run bench:workers`: the reference app as shipped (the built CLI, NODE_ENV=production, the
// default log level, metrics as installed) run as one process (`jwks-bridge serve`) and as a cluster
// (`jwks-bridge serve --workers 2`), on the same kind of store, loaded alike with autocannon from
// this process: GET /me with a valid session and the handoff (PUT /auth, a fresh token per request).
// The runs are interleaved (one process, the workers, one process, the workers, ...), and the ratio
// workers / one process is the median of the per-round ratios. Prints Markdown tables in the style
// of `npm run bench:http`. A benchmark, not a test.
//
// The load generator shares the machine with the app: on a 2-core machine two workers compete with
// it (and with each other) for the cores, so the ratio says what --workers gives there, not on a
// machine with a core for each worker and the load coming from elsewhere.
//
// Environment:
//   BENCH_STORE            comma-separated: sqlite (one file shared by the workers, WAL; the shipped
//                          default), postgres (DATABASE_URL, a throwaway schema), postgres+redis (sessions
//                          in Redis under a throwaway key prefix) (default sqlite)
//   BENCH_WORKERS          comma-separated worker counts, each run against one process (default 2; 1 to 16)
//   BENCH_ROUNDS           rounds, each running every app once in the same order (default 2; 1 to 9)
//   BENCH_SCENARIOS        comma-separated subset of me,handoff,invalid (default me,handoff)
//   BENCH_ALG, BENCH_CONNECTIONS, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_MAX_TOKENS: as for
//                          bench:http (RS256 and ES256; 10 and 64 connections; 5 s after 1 s of warm-up)
//   BENCH_DATABASE_URL     PostgreSQL for postgres stores (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_REDIS_URL        Redis for postgres+redis (default redis://127.0.0.1:6379)
// The app runs the build (dist/, as `npm start` does): run `npm run build` first.
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestIssuer, type TestIssuer } from '../src/testing/index.ts'
import type { AppProcess } from './http/children.ts'
import {
  type ClientState,
  prepareClient,
  refusesReplay,
  SCENARIO_LABEL,
  type ScenarioName,
} from './http/session-client.ts'
import { type Alg, appBenchSettings, exitUnlessBuilt, spawnReferenceApp } from './http/settings.ts'
import { HandoffSupply, runScenarioStep, type StepSettings } from './http/steps.ts'
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
import { integersFromEnv, listFromEnv } from './lib/env.ts'
import { median, pairedRatio } from './lib/measure.ts'
import {
  type AppStore,
  appStore,
  checkReachable,
  STORE_KINDS,
  STORE_LABEL,
  type StoreKind,
} from './workers/stores.ts'

const STORES = listFromEnv('BENCH_STORE', STORE_KINDS, ['sqlite'])
const WORKER_COUNTS = integersFromEnv('BENCH_WORKERS', [2], 1, 16)
const SETTINGS = appBenchSettings({ rounds: 2, scenarios: ['me', 'handoff'] })
const { algs: ALGS, connectionCounts: CONNECTION_COUNTS, seconds: SECONDS, rounds: ROUNDS } = SETTINGS
const { warmupSeconds: WARMUP_SECONDS, maxTokens: MAX_TOKENS, scenarios: SCENARIOS } = SETTINGS

/** The apps compared: 0 is one process (`serve`), n > 0 is `serve --workers n`. */
const ARMS = [0, ...WORKER_COUNTS]
const armLabel = (workers: number) =>
  workers === 0 ? 'one process (`serve`)' : `\`serve --workers ${workers}\``
const armName = (workers: number) => (workers === 0 ? 'one-process' : `workers-${workers}`)

exitUnlessBuilt()

// Everything is bounded: the whole run is abandoned (and the servers killed) past this.
const runCount =
  STORES.length * ALGS.length * CONNECTION_COUNTS.length * ROUNDS * SCENARIOS.length * ARMS.length
const budgetMs = (180 + runCount * ((WARMUP_SECONDS + SECONDS) * 2 + 30)) * 1000
const work = mkdtempSync(join(tmpdir(), 'jwks-bridge-bench-workers-'))
const stores: AppStore[] = []
const allApps: AppProcess[] = []
const log = (line: string) => process.stderr.write(`${line}\n`)

async function cleanUp(): Promise<void> {
  await Promise.allSettled(allApps.map((app) => app.stop()))
  // After the apps: their pools must be closed before their schemas go.
  const dropped = await Promise.allSettled(stores.map((store) => store.drop()))
  for (const outcome of dropped)
    if (outcome.status === 'rejected') log(`cleanup: ${(outcome.reason as Error).message}`)
  rmSync(work, { recursive: true, force: true })
}

const watchdog = setTimeout(() => {
  log(`bench:workers: still running after ${Math.round(budgetMs / 1000)} s; stopping`)
  // Bounded too: the exit hook in children.ts kills whatever app is left.
  const exit = setTimeout(() => process.exit(2), 15_000)
  void cleanUp().finally(() => {
    clearTimeout(exit)
    process.exit(2)
  })
}, budgetMs)

/** The X-Worker headers of `count` requests, each on a new connection (the primary hands them out in turn). */
async function answeringWorkers(app: AppProcess, client: ClientState, count: number): Promise<Set<string>> {
  const pids = new Set<string>()
  for (let i = 0; i < count; i++) {
    const pid = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${app.url}/me`,
        { agent: false, headers: { cookie: client.sessionCookie }, timeout: 5000 },
        (res) => {
          res.resume()
          res.on('end', () => resolve(String(res.headers['x-worker'] ?? 'none')))
        },
      )
      req.on('timeout', () => req.destroy(new Error(`${app.name}: GET /me timed out`)))
      req.on('error', reject)
      req.end()
    })
    pids.add(pid)
  }
  return pids
}

async function startApp(kind: StoreKind, alg: Alg, workers: number, issuerUrl: string, jwksUri: string) {
  const name = armName(workers)
  const store = appStore(kind, `${alg}_${name.replace('-', '_')}`, work)
  stores.push(store)
  const app = await spawnReferenceApp(`${kind} ${alg} ${name}`, {
    alg,
    issuerUrl,
    jwksUri,
    env: store.env,
    args: workers === 0 ? ['serve'] : ['serve', '--workers', String(workers)],
  })
  allApps.push(app)
  log(`${kind} ${alg} ${name}: ${app.url} (pid ${app.pid})`)
  return app
}

interface Run extends MeasuredRow {
  store: StoreKind
  alg: Alg
  connections: number
  workers: number
  round: number
}

const runs: Run[] = []
const checks: string[] = []
const loadBefore = loadavg()

async function benchAlgorithm(kind: StoreKind, alg: Alg): Promise<void> {
  const issuer: TestIssuer = createTestIssuer({ alg })
  const served = await issuer.serve()
  const apps = new Map<number, AppProcess>()
  try {
    const clients = new Map<number, ClientState>()
    for (const workers of ARMS) {
      const app = await startApp(kind, alg, workers, served.issuer, served.jwksUri)
      apps.set(workers, app)
      const client = await prepareClient(issuer, app, true)
      clients.set(workers, client)
      if (workers > 0) {
        const pids = await answeringWorkers(app, client, 4 * workers)
        checks.push(
          `${kind} ${alg}: --workers ${workers}: ${pids.size} worker(s) answered ${4 * workers} connections`,
        )
      }
      if (!(await refusesReplay(issuer, app, client)))
        throw new Error(`${app.name} accepted a replayed token`)
    }
    const impostor = createTestIssuer({ alg, issuer: served.issuer })
    const invalidBody = inTurn(invalidBodies(issuer, impostor, 64))
    const supply = new HandoffSupply(issuer, MAX_TOKENS, log)

    for (const connections of CONNECTION_COUNTS) {
      const step: StepSettings = { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections }
      for (let round = 0; round < ROUNDS; round++) {
        for (const scenario of SCENARIOS) {
          const bodies = scenario === 'handoff' ? supply.mint(step) : []
          // The same order every round: one process, then the workers, then again.
          for (const workers of ARMS) {
            const app = apps.get(workers)!
            const client = clients.get(workers)!
            log(
              `${kind}, ${alg}, ${connections} connections, ${SCENARIO_LABEL[scenario]}: ${armName(workers)} (round ${round + 1} of ${ROUNDS})`,
            )
            const run = await runScenarioStep(app, scenario, { client, supply, bodies, invalidBody }, step)
            runs.push({ store: kind, alg, connections, scenario, workers, round, notes: [], ...run })
          }
        }
      }
    }
  } finally {
    await Promise.allSettled([...apps.values()].map((app) => app.stop()))
    await served.close()
  }
}

try {
  for (const kind of STORES) {
    await checkReachable(kind)
    for (const alg of ALGS) await benchAlgorithm(kind, alg)
  }
} finally {
  await cleanUp()
  clearTimeout(watchdog)
}

// ---- report ----
const cpu = cpus()
const loadAfter = loadavg()
const runsOf = (kind: StoreKind, alg: Alg, connections: number, scenario: ScenarioName, workers: number) =>
  runs
    .filter(
      (r) =>
        r.store === kind &&
        r.alg === alg &&
        r.connections === connections &&
        r.scenario === scenario &&
        r.workers === workers,
    )
    .sort((a, b) => a.round - b.round)

interface Comparison {
  kind: StoreKind
  alg: Alg
  connections: number
  scenario: ScenarioName
  workers: number
  one: Run
  many: Run
  /** Medians of the per-round ratios, workers / one process. */
  ratio: number
  p99Ratio: number
  perRound: number[]
  /** CPU per request, one process / workers. */
  cpuRatio: number
  ok: boolean
}
const comparisons: Comparison[] = []

const lines = [
  `## Workers benchmark (${new Date().toISOString()})`,
  '',
  ...machineHeader(loadBefore, loadAfter),
  `- The load generator (autocannon) runs on the same machine, in this process: with ${cpu.length} cores, the workers compete with it (and with each other) for them. The ratio says what \`--workers\` gives on this machine, not on one with a core for each worker and the load coming from elsewhere. Other work on the machine makes the figures noisy: compare the rows of one run`,
  `- Method: jwks-bridge as \`npm start\` runs it (\`node dist/cli/main.js serve\`, NODE_ENV=production, default log level, metrics on as installed), once as one process and once as \`serve --workers ${WORKER_COUNTS.join('`, `--workers ')}\`, each with a store of its own of the same kind; ${SECONDS} s measured after ${WARMUP_SECONDS} s of warm-up per app and scenario, ${ROUNDS} round(s) interleaved in the same order (one process, then the workers); the detail tables show each app's median run, the ratio is the median of the per-round ratios; handoff tokens minted before each step, each used once per app`,
  "- Server CPU: CPU time of the app's processes (the primary and its workers), all threads / wall time (100% = one core); the load generator's in brackets. Event loops: the main threads summed over the app's processes, on a CPU and runnable but waiting for one",
  `- Checks: every app refuses a replayed token; ${checks.join('; ')}`,
]
let invalidRuns = 0
for (const kind of STORES) {
  for (const alg of ALGS) {
    for (const connections of CONNECTION_COUNTS) {
      lines.push(
        '',
        `### ${STORE_LABEL[kind]}, ${alg}, ${connections} connections`,
        '',
        ...detailHeader('event loops'),
      )
      for (const scenario of SCENARIOS) {
        for (const workers of ARMS) {
          const row = medianRun(runsOf(kind, alg, connections, scenario, workers))
          if (row !== undefined) lines.push(detailRow(SCENARIO_LABEL[scenario], armLabel(workers), row))
        }
      }
      lines.push(
        '',
        '| comparison | scenario | requests/s ratio | p99 ratio | CPU per request: one process / workers | requests/s ratio per round | result |',
        '|---|---|---:|---:|---:|---|---|',
      )
      for (const scenario of SCENARIOS) {
        const one = runsOf(kind, alg, connections, scenario, 0)
        for (const workers of WORKER_COUNTS) {
          const many = runsOf(kind, alg, connections, scenario, workers)
          if (one.length === 0 || one.length !== many.length) continue
          const rps = (list: Run[]) => list.map((r) => r.result.requestsPerSecond)
          const perRound = rps(many).map((value, round) => value / rps(one)[round]!)
          const ok = [...one, ...many].every(clean)
          if (!ok) invalidRuns += 1
          const comparison: Comparison = {
            kind,
            alg,
            connections,
            scenario,
            workers,
            one: medianRun(one)!,
            many: medianRun(many)!,
            ratio: median(perRound),
            p99Ratio: pairedRatio(
              many.map((r) => r.result.p99Ms),
              one.map((r) => r.result.p99Ms),
            ),
            perRound,
            cpuRatio: pairedRatio(
              one.map((r) => cpuPerRequestUs(r.result)),
              many.map((r) => cpuPerRequestUs(r.result)),
            ),
            ok,
          }
          comparisons.push(comparison)
          lines.push(
            `| \`--workers ${workers}\` / one process | ${SCENARIO_LABEL[scenario]} | ${fmt(comparison.ratio, 2)}× | ${fmt(comparison.p99Ratio, 2)}× | ${fmt(comparison.cpuRatio, 2)}× | ${perRound.map((r) => `${fmt(r, 2)}×`).join(', ')} | ${ok ? '–' : 'INVALID RUN (see non-2xx)'} |`,
          )
        }
      }
    }
  }
}
// One table for the README: requests/s and p99 of both, and the ratio, from this run.
const scenarioShort: Record<ScenarioName, string> = {
  me: 'GET /me',
  handoff: 'handoff',
  invalid: 'bad signature',
}
lines.push(
  '',
  '### Summary',
  '',
  '| store | algorithm, connections | scenario | one process: req/s (p99 ms) | workers | workers: req/s (p99 ms) | ratio (per round) |',
  '|---|---|---|---:|---:|---:|---:|',
)
for (const c of comparisons) {
  const cell = (r: Run) => `${fmt(r.result.requestsPerSecond)} (${fmt(r.result.p99Ms, 2)})`
  lines.push(
    `| ${c.kind} | ${c.alg}, ${c.connections} | ${scenarioShort[c.scenario]} | ${cell(c.one)} | ${c.workers} | ${cell(c.many)} | ${fmt(c.ratio, 2)}×${c.ok ? '' : ' INVALID'} (${c.perRound.map((r) => fmt(r, 2)).join(', ')}) |`,
  )
}
lines.push(
  '',
  `machine: ${cpu[0]?.model.trim() ?? 'unknown'} x${cpu.length} (autocannon on the same machine), node ${process.version}, load ${loadBefore[0]!.toFixed(2)}->${loadAfter[0]!.toFixed(2)}, ${SECONDS} s runs, ${ROUNDS} round(s), connections ${CONNECTION_COUNTS.join('/')}, stores ${STORES.join('/')}`,
)
process.stdout.write(`${lines.join('\n')}\n`)
// A run with unexpected statuses measured the wrong thing.
process.exitCode = invalidRuns > 0 ? 1 : 0
