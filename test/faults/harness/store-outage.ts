// One store outage under load, shared by the PostgreSQL and Redis scenarios: sign some sessions in,
// start a paced mixed load, stop the server a moment into it, start it again after `outageMs`, keep
// the load going a little longer, then read the stores and check them against the answers.
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PrivateService } from '../../helpers/private-services.ts'
import { resend, sessionsAnswer } from './after.ts'
import { type FaultApp, signInMany } from './app.ts'
import type { IssuerHost } from './issuer-host.ts'
import { checkLedger, type LedgerReport, type StoredState } from './ledger.ts'
import { type Outcome, runLoad, type Session, SessionPool, sessionOf } from './load.ts'
import { describe, type FaultSummary, summarize } from './summary.ts'

export const FAIL_FAST_MS = 3000
export const RECOVERY_MS = 5000

export interface StoreOutage {
  outcomes: Outcome[]
  summary: FaultSummary
  ledger: LedgerReport
  /** performance.now() when the server was told to stop, and when it answered again. */
  downAt: number
  backAt: number
  /** Lines for the test's diagnostics (codes, counts and times only). */
  notes: string[]
}

export async function storeOutage(options: {
  app: FaultApp
  host: IssuerHost
  server: PrivateService
  label: string
  outageMs: number
  readState(): Promise<StoredState>
}): Promise<StoreOutage> {
  const { app, host, server } = options
  const pool = new SessionPool()
  const opened: Session[] = await signInMany(app, host, pool, 20, `${options.label}-warm`)
  const outcomes: Outcome[] = []
  const stopLoad = new AbortController()
  let downAt = 0
  let backAt = 0
  const outage = (async () => {
    await sleep(800)
    downAt = performance.now()
    await server.down()
    await sleep(options.outageMs)
    await server.up()
    backAt = performance.now()
    await sleep(1500)
    stopLoad.abort()
  })()
  try {
    await runLoad({
      client: app.client,
      host,
      sessions: pool,
      mix: { me: 3, handoff: 1 },
      concurrency: 6,
      ratePerSecond: 120,
      durationMs: 15_000,
      maxRequests: 1500,
      subjectPrefix: `${options.label}-load`,
      signal: stopLoad.signal,
      onOutcome: (outcome) => outcomes.push(outcome),
    })
  } finally {
    await outage
  }
  const summary = summarize(outcomes, backAt)
  const ledger = checkLedger(outcomes, opened, await options.readState())
  const notes = [
    `${options.label} away ${Math.round(backAt - downAt)} ms: ${describe(summary)}`,
    `handoffs ok ${ledger.handoffsOk}, failed ${ledger.handoffsFailed}; written by failed handoffs (answer lost): ` +
      `${ledger.identitiesOfFailedHandoffs} identities, ${ledger.sessionsOfFailedHandoffs} sessions`,
  ]
  // After the checks on the stores: every session still answers, and used tokens stay used.
  const sessions = [...opened, ...outcomes.map(sessionOf).filter((s) => s !== undefined)]
  const answers = await sessionsAnswer(app.client, sessions)
  assert.deepEqual(answers, { OK: sessions.length }, 'every session opened before or during the outage works')
  const succeeded = outcomes.filter((o) => o.kind === 'handoff' && o.code === 'OK')
  const replays = await resend(app.client, succeeded, 20)
  assert.deepEqual(
    replays,
    { ERR_TOKEN_REPLAYED: Math.min(20, succeeded.length) },
    'tokens of successful handoffs stay used',
  )
  // What a client that retries with the same token gets (the browser script asks for a fresh one
  // after ERR_TOKEN_REPLAYED): reported, not asserted.
  const failed = outcomes.filter((o) => o.kind === 'handoff' && o.code !== 'OK')
  const retries = await resend(app.client, failed, 20)
  notes.push(`failed handoffs' tokens sent again after recovery: ${JSON.stringify(retries)}`)
  return { outcomes, summary, ledger, downAt, backAt, notes }
}

/** The assertions every store outage must pass. */
export function assertFailsFastAndRecovers(result: StoreOutage): void {
  const { outcomes, summary, downAt, backAt } = result
  assert.ok(summary.failures > 0, 'the outage was seen by some requests')
  assert.ok(summary.maxMs < FAIL_FAST_MS, `slowest answer ${Math.round(summary.maxMs)} ms`)
  const unclear = outcomes.filter((o) => o.code !== 'OK' && o.code !== 'ERR_STORE_UNAVAILABLE')
  assert.deepEqual(
    unclear.map((o) => `${o.kind} ${o.code}`),
    [],
    'every failure is 503 ERR_STORE_UNAVAILABLE',
  )
  for (const o of outcomes) {
    if (o.code === 'OK') continue
    assert.equal(o.status, 503)
    assert.ok(o.endAt >= downAt, 'no failure before the outage')
  }
  assert.notEqual(summary.recoveryMs, undefined, 'requests succeed again before the load ends')
  assert.ok((summary.recoveryMs as number) < RECOVERY_MS, `recovered in ${summary.recoveryMs} ms`)
  for (const kind of ['me', 'handoff'] as const) {
    assert.ok(
      outcomes.some((o) => o.kind === kind && o.code === 'OK' && o.startAt > backAt),
      `${kind} succeeds after recovery`,
    )
  }
  // Includes: every successful handoff has its identity and session; no session without its
  // identity; no session that a failed handoff opened; no identity from a refused token.
  assert.deepEqual(result.ledger.problems, [])
}
