// The three faults at soak scale, each against a fresh reference app in its own process under a
// steady paced load: PostgreSQL stopped and started again, Redis stopped and started again, the
// provider's key set unreachable (with a rotation to a new key meanwhile). For each: what failed while
// the dependency was away and with which codes, how slow the failures were, how long after its return
// every request succeeded again, and whether the stores hold exactly what the answers said.
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { type IssuerHost, startIssuerHost } from '../../test/faults/harness/issuer-host.ts'
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
  type Kind,
  type Outcome,
  runLoad,
  type Session,
  SessionPool,
  sendOne,
  sessionOf,
} from '../../test/faults/harness/load.ts'
import { startPrivatePostgres, startPrivateRedis } from '../../test/helpers/private-services.ts'
import { type ChildApp, startChildApp } from './child-app.ts'
import { failuresByCode, Tally, type TallySummary } from './tally.ts'

export type FaultName = 'postgres' | 'redis' | 'keyset'
export const FAULT_NAMES: readonly FaultName[] = ['postgres', 'redis', 'keyset']

export interface FaultSettings {
  ratePerSecond: number
  concurrency: number
  baselineSeconds: number
  outageSeconds: number
  afterSeconds: number
  log(line: string): void
}

export interface FaultResult {
  name: FaultName
  /** What happened, in words. */
  label: string
  outageMs: number
  before: TallySummary
  during: TallySummary
  after: TallySummary
  /** From the dependency's return to the first request after which every request succeeded. */
  recoveryMs: number | undefined
  /** The same per request kind. */
  recoveryByKind: Partial<Record<Kind, number | undefined>>
  ledger: LedgerReport
  /** Lines the app wrote to stderr during the scenario, and the last of them. */
  stderr: { lines: number; tail: string[] }
}

const SQLITE_IN = (dir: string) => `${dir}/soak.sqlite`

interface Setup {
  label: string
  env: Record<string, string>
  readState(issuer: string): Promise<StoredState>
  down(host: IssuerHost): Promise<void>
  up(host: IssuerHost): Promise<void>
  mix: Partial<Record<Kind, number>>
  cleanup(): Promise<void>
}

async function setUp(name: FaultName, dir: string): Promise<Setup> {
  const sqlitePath = SQLITE_IN(dir)
  if (name === 'postgres') {
    const server = await startPrivatePostgres()
    return {
      label: 'PostgreSQL restarted',
      env: { DATABASE_URL: server.url },
      readState: (issuer) => readPostgresState(server.url, issuer),
      down: () => server.down(),
      up: () => server.up(),
      mix: { me: 3, handoff: 1 },
      cleanup: () => server.stop(),
    }
  }
  if (name === 'redis') {
    const server = await startPrivateRedis({ persistent: true })
    return {
      label: 'Redis restarted',
      env: { REDIS_URL: server.url, SQLITE_PATH: sqlitePath },
      readState: async (issuer) => ({
        identities: readSqliteState(sqlitePath, issuer).identities,
        sessions: await readRedisSessions(server.url, 'jwks-bridge:'),
      }),
      down: () => server.down(),
      up: () => server.up(),
      mix: { me: 3, handoff: 1 },
      cleanup: () => server.stop(),
    }
  }
  const mix: Partial<Record<Kind, number>> = { me: 3, handoff: 2, 'handoff-next': 0 }
  return {
    label: 'key set unreachable, provider rotates',
    env: { SQLITE_PATH: sqlitePath },
    readState: async (issuer) => readSqliteState(sqlitePath, issuer),
    async down(host) {
      await host.setMode('down')
      host.publishNext()
      // From now on some users get tokens signed with the new key.
      mix['handoff-next'] = 1
    },
    up: (host) => host.setMode('up'),
    mix,
    cleanup: async () => {},
  }
}

/** Recovery: from `backAt` to the start of the first request after the last failure (per kind too). */
function recovery(
  outcomes: readonly { kind: Kind; startAt: number; ok: boolean }[],
  backAt: number,
  kinds: Kind[],
): { all: number | undefined; byKind: Partial<Record<Kind, number | undefined>> } {
  const measure = (list: typeof outcomes): number | undefined => {
    let lastFailure = Number.NEGATIVE_INFINITY
    for (const o of list) if (!o.ok) lastFailure = Math.max(lastFailure, o.startAt)
    if (lastFailure < backAt) return 0
    const next = list.filter((o) => o.startAt > lastFailure)
    if (next.length === 0) return undefined
    return Math.min(...next.map((o) => o.startAt)) - backAt
  }
  const byKind: Partial<Record<Kind, number | undefined>> = {}
  for (const kind of kinds) byKind[kind] = measure(outcomes.filter((o) => o.kind === kind))
  return { all: measure(outcomes), byKind }
}

export async function runFault(name: FaultName, dir: string, settings: FaultSettings): Promise<FaultResult> {
  const { log } = settings
  const setup = await setUp(name, dir)
  // The key set scenario serves a short freshness (the verifier's floor, 30 s) so that the outage
  // outlasts it and the last good set is served stale.
  const host = await startIssuerHost({ maxAgeSeconds: name === 'keyset' ? 30 : 60 })
  let child: ChildApp | undefined
  try {
    child = await startChildApp({ ...setup.env, ISSUER_URL: host.issuer, JWKS_URI: host.jwksUri })
    const client = new AppClient(child.url, { timeoutMs: 15_000 })
    const pool = new SessionPool()
    const warm: Session[] = []
    for (let i = 0; i < 50; i++) {
      const outcome = await sendOne(
        { client, host, sessions: pool, subjectPrefix: `${name}-warm` },
        'handoff',
      )
      const session = sessionOf(outcome)
      if (session === undefined) throw new Error(`warm-up sign-in failed: ${outcome.code}`)
      warm.push(session)
    }

    const tallies = { before: new Tally(), during: new Tally(), after: new Tally() }
    let interval = new Tally()
    const handoffs: Outcome[] = []
    const afterDown: { kind: Kind; startAt: number; ok: boolean }[] = []
    let downAt = Number.POSITIVE_INFINITY
    let backAt = Number.POSITIVE_INFINITY
    const stop = new AbortController()
    const started = performance.now()
    const load = runLoad({
      client,
      host,
      sessions: pool,
      mix: setup.mix,
      concurrency: settings.concurrency,
      ratePerSecond: settings.ratePerSecond,
      durationMs: (settings.baselineSeconds + settings.outageSeconds + settings.afterSeconds + 120) * 1000,
      maxRequests: 10_000_000,
      subjectPrefix: `${name}-load`,
      signal: stop.signal,
      onOutcome(outcome) {
        const phase = outcome.startAt < downAt ? 'before' : outcome.startAt < backAt ? 'during' : 'after'
        tallies[phase].add(outcome)
        interval.add(outcome)
        if (outcome.kind !== 'me') {
          outcome.token = undefined // Not needed any more: keep memory small.
          outcome.cookie = undefined
          handoffs.push(outcome)
        }
        if (phase !== 'before')
          afterDown.push({ kind: outcome.kind, startAt: outcome.startAt, ok: outcome.code === 'OK' })
      },
    })
    const progress = setInterval(() => {
      const s = interval.summary()
      interval = new Tally()
      const t = Math.round((performance.now() - started) / 1000)
      const phase = performance.now() < downAt ? 'before' : performance.now() < backAt ? 'away' : 'back'
      log(`  ${name} t=${t}s ${phase}: ${Math.round(s.requests / 5)} req/s, failures: ${failuresByCode(s)}`)
    }, 5000)
    try {
      await sleep(settings.baselineSeconds * 1000)
      downAt = performance.now()
      await setup.down(host)
      log(`  ${name}: dependency away`)
      await sleep(settings.outageSeconds * 1000 - (performance.now() - downAt))
      await setup.up(host)
      backAt = performance.now()
      log(`  ${name}: dependency back after ${((backAt - downAt) / 1000).toFixed(1)} s`)
      // Observe at least afterSeconds, and until every kind has succeeded again (at most 120 s more).
      const until = backAt + settings.afterSeconds * 1000
      const limit = backAt + (settings.afterSeconds + 120) * 1000
      while (performance.now() < limit) {
        const r = recovery(afterDown, backAt, Object.keys(setup.mix) as Kind[])
        const done = Object.values(r.byKind).every(
          (ms) => ms !== undefined && ms + backAt + 3000 < performance.now(),
        )
        if (performance.now() >= until && done) break
        await sleep(500)
      }
    } finally {
      stop.abort()
      await load
      clearInterval(progress)
    }
    const r = recovery(afterDown, backAt, Object.keys(setup.mix) as Kind[])
    const ledger = checkLedger(handoffs, warm, await setup.readState(host.issuer))
    return {
      name,
      label: setup.label,
      outageMs: backAt - downAt,
      before: tallies.before.summary(),
      during: tallies.during.summary(),
      after: tallies.after.summary(),
      recoveryMs: r.all,
      recoveryByKind: r.byKind,
      ledger,
      stderr: child.stderr(),
    }
  } finally {
    await child?.stop()
    await host.close()
    await setup.cleanup()
  }
}
