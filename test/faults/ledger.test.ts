// The fault tests' store checks must be able to fail: each rule, given a store state that breaks it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkLedger, type StoredState } from './harness/ledger.ts'
import type { Outcome, Session } from './harness/load.ts'

const handoff = (
  subject: string,
  code: string,
  ids?: { identityId: string; sessionId: string },
): Outcome => ({
  kind: 'handoff',
  startAt: 0,
  endAt: 1,
  status: code === 'OK' ? 200 : code === 'ERR_STORE_UNAVAILABLE' ? 503 : 401,
  code,
  subject,
  ...(ids === undefined ? {} : ids),
})
const before: Session[] = [{ cookie: 'c', sessionId: 's0', identityId: 'i0', subject: 'warm' }]
const outcomes = [
  handoff('a', 'OK', { identityId: 'ia', sessionId: 'sa' }),
  handoff('b', 'ERR_STORE_UNAVAILABLE'),
  handoff('c', 'ERR_SIGNATURE_INVALID'),
]
const consistent = (): StoredState => ({
  identities: new Map([
    ['warm', 'i0'],
    ['a', 'ia'],
  ]),
  sessions: new Map([
    ['s0', 'i0'],
    ['sa', 'ia'],
  ]),
})

describe('fault ledger', () => {
  it('a consistent store has no problem', () => {
    const report = checkLedger(outcomes, before, consistent())
    assert.deepEqual(report.problems, [])
    assert.equal(report.handoffsOk, 1)
    assert.equal(report.handoffsFailed, 2)
  })

  it('a successful handoff whose session or identity is missing is a problem', () => {
    const noSession = consistent()
    noSession.sessions.delete('sa')
    assert.equal(checkLedger(outcomes, before, noSession).problems.length, 1)
    const noIdentity = consistent()
    noIdentity.identities.delete('a')
    // Missing identity, and its session now has none.
    assert.equal(checkLedger(outcomes, before, noIdentity).problems.length, 2)
  })

  it('a session without its identity, or that no handoff could have written, is a problem', () => {
    const orphan = consistent()
    orphan.sessions.set('sx', 'nobody')
    assert.equal(checkLedger(outcomes, before, orphan).problems.length, 2)
  })

  it('a handoff refused by verification wrote nothing; one failed on the store may leave an identity and a session', () => {
    const refused = consistent()
    refused.identities.set('c', 'ic')
    assert.deepEqual(checkLedger(outcomes, before, refused).problems, [
      'a handoff refused with ERR_SIGNATURE_INVALID wrote an identity',
    ])
    const storeFailed = consistent()
    storeFailed.identities.set('b', 'ib')
    storeFailed.sessions.set('sb', 'ib')
    const report = checkLedger(outcomes, before, storeFailed)
    assert.deepEqual(report.problems, [])
    assert.equal(report.identitiesOfFailedHandoffs, 1)
    assert.equal(report.sessionsOfFailedHandoffs, 1)
  })
})
