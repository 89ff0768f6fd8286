// needs: build
// Issue 6 item 4, on a small scale: the identity provider's key set becomes unreachable (its port
// refuses connections) while the reference app serves a mixed load, and the provider rotates to a new
// key meanwhile. The app and the provider share a clock the test moves forward, so the set goes from
// fresh to stale to past its stale window (24 h by default) in seconds.
// - Sessions never need the key set: GET /me keeps working throughout.
// - Fresh, then stale: tokens signed with the known key keep verifying (the last good set serves);
//   tokens with the new key cannot be checked and fail at once with 401 ERR_KEY_NOT_FOUND.
// - Past the stale window: every handoff fails at once with 503 ERR_JWKS_STALE.
// - When the key set returns, both keys verify again without restarting the app, within the retry
//   backoff's ceiling (60 s of the clock).
// Refused handoffs write nothing: checked in the SQLite file itself.
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type FaultApp, signInMany, startFaultApp } from './harness/app.ts'
import { type IssuerHost, startIssuerHost } from './harness/issuer-host.ts'
import { checkLedger, readSqliteState } from './harness/ledger.ts'
import { type Kind, type Outcome, runLoad, type Session, SessionPool, sendOne } from './harness/load.ts'
import { describe as describeSummary, summarize } from './harness/summary.ts'

const FAIL_FAST_MS = 3000
const DAY_MS = 86_400_000
/** The verifier's default retry ceiling (retryMaxSeconds 60), plus a step of the probe below. */
const RECOVERY_CLOCK_MS = 62_000

describe('identity provider key set unreachable mid-load', () => {
  let offsetMs = 0
  const nowMs = () => Date.now() + offsetMs
  let host: IssuerHost | undefined
  let fault: FaultApp | undefined

  before(async () => {
    host = await startIssuerHost({ nowMs, maxAgeSeconds: 60 })
    fault = await startFaultApp(host, {}, { nowMs })
  })

  after(async () => {
    await fault?.close()
    await host?.close()
  })

  it('serves the last good set until its stale window, fails fast without it, recovers by itself', async (t) => {
    const idp = host as IssuerHost
    const app = fault as FaultApp
    const pool = new SessionPool()
    const opened: Session[] = await signInMany(app, idp, pool, 20, 'jwks-warm')
    assert.equal(idp.answered(), 1, 'the key set was fetched once')
    const all: Outcome[] = []
    const phase = async (name: string, mix: Partial<Record<Kind, number>>, sessions = pool) => {
      const outcomes: Outcome[] = []
      await runLoad({
        client: app.client,
        host: idp,
        sessions,
        mix,
        concurrency: 4,
        ratePerSecond: 100,
        durationMs: 1200,
        maxRequests: 150,
        subjectPrefix: `jwks-${name}`,
        onOutcome: (outcome) => outcomes.push(outcome),
      })
      all.push(...outcomes)
      const summary = summarize(outcomes, 0)
      t.diagnostic(`${name}: ${describeSummary(summary, { recovery: false })}`)
      assert.ok(summary.maxMs < FAIL_FAST_MS, `${name}: slowest answer ${Math.round(summary.maxMs)} ms`)
      return summary.byCode
    }
    const only = (byCode: Record<string, number>, allowed: string[]) =>
      assert.deepEqual(
        Object.keys(byCode).filter((key) => !allowed.includes(key)),
        [],
      )

    // The provider goes away and starts signing with a new key we have never seen.
    await idp.setMode('down')
    idp.publishNext()
    const mix = { me: 3, handoff: 2, 'handoff-next': 1 }
    let codes = await phase('fresh set, provider down', mix)
    only(codes, ['me OK', 'handoff OK', 'handoff-next ERR_KEY_NOT_FOUND'])
    assert.ok(codes['handoff OK'] && codes['me OK'] && codes['handoff-next ERR_KEY_NOT_FOUND'])

    // Two minutes on: past the set's freshness (max-age 60), well within its stale window.
    offsetMs += 120_000
    codes = await phase('stale set, provider down', mix)
    only(codes, ['me OK', 'handoff OK', 'handoff-next ERR_KEY_NOT_FOUND'])
    assert.ok(codes['handoff OK'] && codes['me OK'] && codes['handoff-next ERR_KEY_NOT_FOUND'])

    // A day on: past the stale window, the set is no longer trusted. (Sessions have been idle for a day
    // too, past their idle timeout: only handoffs are sent.)
    offsetMs += DAY_MS
    codes = await phase('past the stale window, provider down', { handoff: 2, 'handoff-next': 1 })
    only(codes, ['handoff ERR_JWKS_STALE', 'handoff-next ERR_JWKS_STALE'])
    for (const o of all.filter((o) => o.code === 'ERR_JWKS_STALE')) assert.equal(o.status, 503)

    // The provider returns. No restart: a handoff with each key succeeds within the retry ceiling.
    await idp.setMode('up')
    const backAtClock = nowMs()
    const backAt = performance.now()
    const fresh = new SessionPool()
    const recovered = new Set<Kind>()
    for (let step = 0; recovered.size < 2 && step < 40; step++) {
      for (const kind of ['handoff', 'handoff-next'] as const) {
        if (recovered.has(kind)) continue
        const outcome = await sendOne(
          { client: app.client, host: idp, sessions: fresh, subjectPrefix: 'jwks-probe' },
          kind,
        )
        all.push(outcome)
        assert.ok(outcome.endAt - outcome.startAt < FAIL_FAST_MS)
        assert.ok(['OK', 'ERR_JWKS_STALE', 'ERR_KEY_NOT_FOUND'].includes(outcome.code), outcome.code)
        if (outcome.code === 'OK') recovered.add(kind)
      }
      if (recovered.size < 2) {
        offsetMs += 2000
        await sleep(20)
      }
    }
    const clockMs = nowMs() - backAtClock
    t.diagnostic(
      `recovered after ${clockMs} ms of the clock (${Math.round(performance.now() - backAt)} ms real)`,
    )
    assert.equal(recovered.size, 2, 'both keys verify again')
    assert.ok(clockMs <= RECOVERY_CLOCK_MS, `recovered within the retry ceiling (${clockMs} ms)`)
    codes = await phase('provider back', mix, fresh)
    only(codes, ['me OK', 'handoff OK', 'handoff-next OK'])
    assert.ok(idp.answered() <= 5, `key set fetched ${idp.answered()} times in all`)

    // Refused handoffs wrote nothing; every successful one has its identity and session.
    const ledger = checkLedger(all, opened, readSqliteState(app.sqlitePath, idp.issuer))
    assert.deepEqual(ledger.problems, [])
    assert.equal(ledger.identitiesOfFailedHandoffs, 0)
    assert.equal(ledger.sessionsOfFailedHandoffs, 0)
  })
})
