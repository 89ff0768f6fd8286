// The steady part of the soak: the reference app in its own process under a paced mixed load for a
// bounded time, its resident memory (and heap) read every `sampleSeconds`, and the slope of both after
// warm-up. Flat after warm-up means nothing accumulates per request.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startIssuerHost } from '../../test/faults/harness/issuer-host.ts'
import {
  checkLedger,
  type LedgerReport,
  readPostgresState,
  readRedisSessions,
  readSqliteState,
  type StoredState,
} from '../../test/faults/harness/ledger.ts'
import {
  AppClient,
  type Outcome,
  runLoad,
  type Session,
  SessionPool,
  sendOne,
  sessionOf,
} from '../../test/faults/harness/load.ts'
import {
  type PrivateService,
  startPrivatePostgres,
  startPrivateRedis,
} from '../../test/helpers/private-services.ts'
import { type ChildApp, startChildApp } from './child-app.ts'
import { failuresByCode, slope, Tally, type TallySummary } from './tally.ts'

export type SoakStore = 'sqlite' | 'postgres' | 'redis'

export interface SteadySettings {
  seconds: number
  store: SoakStore
  ratePerSecond: number
  concurrency: number
  sampleSeconds: number
  log(line: string): void
}

export interface Sample {
  /** Seconds since the load began. */
  t: number
  rssMb: number | undefined
  heapMb: number | undefined
  /** V8's heap reserved (used or not) and memory held outside it (Buffers, native objects). */
  heapTotalMb: number | undefined
  externalMb: number | undefined
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  failures: string
}

export interface SteadyResult {
  store: string
  samples: Sample[]
  warmupSeconds: number
  /** MB per minute after warm-up (least squares). */
  rssSlope: number
  heapSlope: number
  /** The same over the second half of the run only: whether growth has stopped. */
  rssSlopeLastHalf: number
  heapSlopeLastHalf: number
  total: TallySummary
  ledger: LedgerReport
  stderr: { lines: number; tail: string[] }
}

const MB = 1024 * 1024

export async function runSteady(settings: SteadySettings): Promise<SteadyResult> {
  const { log } = settings
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-soak-'))
  const sqlitePath = join(dir, 'soak.sqlite')
  let server: PrivateService | undefined
  const host = await startIssuerHost()
  let child: ChildApp | undefined
  try {
    let env: Record<string, string> = { SQLITE_PATH: sqlitePath }
    let readState: () => Promise<StoredState> = async () => readSqliteState(sqlitePath, host.issuer)
    let where = 'SQLite (file in a temporary folder)'
    if (settings.store === 'postgres') {
      const pg = await startPrivatePostgres()
      server = pg
      env = { DATABASE_URL: pg.url }
      readState = () => readPostgresState(pg.url, host.issuer)
      where = 'PostgreSQL (private instance)'
    } else if (settings.store === 'redis') {
      const redis = await startPrivateRedis({ persistent: true })
      server = redis
      env = { SQLITE_PATH: sqlitePath, REDIS_URL: redis.url }
      readState = async () => ({
        identities: readSqliteState(sqlitePath, host.issuer).identities,
        sessions: await readRedisSessions(redis.url, 'jwks-bridge:'),
      })
      where = 'SQLite identities, sessions in Redis (private instance, append-only file)'
    }
    child = await startChildApp({ ...env, ISSUER_URL: host.issuer, JWKS_URI: host.jwksUri })
    const app = child
    const client = new AppClient(app.url, { timeoutMs: 15_000 })
    const pool = new SessionPool(5000)
    const warm: Session[] = []
    for (let i = 0; i < 50; i++) {
      const outcome = await sendOne({ client, host, sessions: pool, subjectPrefix: 'soak-warm' }, 'handoff')
      const session = sessionOf(outcome)
      if (session === undefined) throw new Error(`warm-up sign-in failed: ${outcome.code}`)
      warm.push(session)
    }

    const total = new Tally()
    let window = new Tally()
    const handoffs: Outcome[] = []
    const samples: Sample[] = []
    const started = performance.now()
    const sample = async () => {
      const s = window.summary()
      window = new Tally()
      const memory = await app.memory()
      const rss = app.rss() ?? memory?.rss
      const row: Sample = {
        t: Math.round((performance.now() - started) / 1000),
        rssMb: rss === undefined ? undefined : rss / MB,
        heapMb: memory === undefined ? undefined : memory.heapUsed / MB,
        heapTotalMb: memory === undefined ? undefined : memory.heapTotal / MB,
        externalMb: memory === undefined ? undefined : memory.external / MB,
        requestsPerSecond: s.requests / settings.sampleSeconds,
        p50Ms: s.p50Ms,
        p99Ms: s.p99Ms,
        failures: failuresByCode(s),
      }
      samples.push(row)
      log(
        `| ${row.t} | ${row.rssMb?.toFixed(1) ?? '?'} | ${row.heapMb?.toFixed(1) ?? '?'} | ${row.heapTotalMb?.toFixed(1) ?? '?'} | ${row.externalMb?.toFixed(1) ?? '?'} | ${Math.round(row.requestsPerSecond)} | ${row.p50Ms.toFixed(1)} | ${row.p99Ms.toFixed(1)} | ${row.failures} |`,
      )
    }
    log(`Steady load on ${where}: ${settings.ratePerSecond} req/s target, ${settings.seconds} s`)
    log('')
    log(
      '| t (s) | RSS (MB) | heap after GC (MB) | heap total (MB) | external (MB) | req/s | p50 (ms) | p99 (ms) | failures |',
    )
    log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
    let sampling = Promise.resolve()
    const timer = setInterval(() => {
      sampling = sampling.then(sample)
    }, settings.sampleSeconds * 1000)
    try {
      await runLoad({
        client,
        host,
        sessions: pool,
        mix: { me: 3, handoff: 1 },
        concurrency: settings.concurrency,
        ratePerSecond: settings.ratePerSecond,
        durationMs: settings.seconds * 1000,
        maxRequests: Math.ceil(settings.seconds * settings.ratePerSecond * 1.05),
        subjectPrefix: 'soak-load',
        onOutcome(outcome) {
          total.add(outcome)
          window.add(outcome)
          if (outcome.kind !== 'me') {
            outcome.token = undefined
            outcome.cookie = undefined
            handoffs.push(outcome)
          }
        },
      })
    } finally {
      clearInterval(timer)
      await sampling
    }
    // Warm-up: the first sixth of the run, at least 30 s (JIT, pools, caches and SQLite's page cache
    // filling up); the slope is fitted to what follows.
    const warmupSeconds = Math.max(30, settings.seconds / 6)
    const fit = (pick: (s: Sample) => number | undefined, from = warmupSeconds) =>
      slope(
        samples.flatMap((s) => {
          if (s.t <= from) return []
          const y = pick(s)
          return y === undefined ? [] : [{ x: s.t / 60, y }]
        }),
      )
    const ledger = checkLedger(handoffs, warm, await readState())
    return {
      store: where,
      samples,
      warmupSeconds,
      rssSlope: fit((s) => s.rssMb),
      heapSlope: fit((s) => s.heapMb),
      rssSlopeLastHalf: fit((s) => s.rssMb, settings.seconds / 2),
      heapSlopeLastHalf: fit((s) => s.heapMb, settings.seconds / 2),
      total: total.summary(),
      ledger,
      stderr: app.stderr(),
    }
  } finally {
    await child?.stop()
    await host.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
