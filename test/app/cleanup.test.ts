// Storage growth (SECURITY.md): the reference app cleans its stores on a timer. Many sign-ins through
// the app's real routes (development provider → PUT /auth), then the app's clock moves past every
// expiry; the app's own cleanup must bring the SQLite file's sessions and used_tokens rows back to
// zero, round after round, instead of keeping one row per sign-in forever.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { signIn } from '../ops/http.ts'
import { startTestApp, type TestApp } from './app-fixture.ts'
import { devIssuerToken } from './dev-token.ts'

const ROUNDS = 3
const PER_ROUND = 12
// Past the app's idle timeout (1 day) and every token's expiry.
const TWO_DAYS_MS = 2 * 86_400_000

let offsetMs = 0
const clock = () => Date.now() + offsetMs
let testApp: TestApp

before(async () => {
  testApp = await startTestApp({ CLEANUP_INTERVAL_SECONDS: '1' }, { nowMs: clock })
})
after(() => testApp.close())

async function untilRows(expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = { sessions: testApp.rows('sessions'), usedTokens: testApp.rows('used_tokens') }
    if (rows.sessions === expected && rows.usedTokens === expected) return
    if (Date.now() > deadline) {
      assert.fail(`rows stayed at ${JSON.stringify(rows)}, expected ${expected} of each after the cleanup`)
    }
    await sleep(100)
  }
}

describe('reference app: storage stays bounded (defect 9, CLEANUP_INTERVAL_SECONDS)', () => {
  it('sessions and used_tokens return to zero after each round of sign-ins has expired', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER_ROUND; i++) {
        await signIn(testApp.url, await devIssuerToken(testApp.url, `user-${round}-${i}`))
      }
      // Only this round's rows: the rounds before it were cleaned.
      assert.equal(testApp.rows('sessions'), PER_ROUND, `round ${round}`)
      assert.equal(testApp.rows('used_tokens'), PER_ROUND, `round ${round}`)
      offsetMs += TWO_DAYS_MS
      // A tick comes every second; allow a few.
      await untilRows(0, 5000)
    }
  })

  it('the app exposes its cleanup, and a tick it runs reports what it removed', async () => {
    assert.ok(testApp.app.cleanup !== undefined)
    await signIn(testApp.url, await devIssuerToken(testApp.url, 'one-more'))
    offsetMs += TWO_DAYS_MS
    const tick = await testApp.app.cleanup.runOnce()
    // The timer may have got there first; either way, nothing is left.
    assert.equal(tick.ran, true)
    assert.equal(testApp.rows('sessions'), 0)
    assert.equal(testApp.rows('used_tokens'), 0)
  })
})
