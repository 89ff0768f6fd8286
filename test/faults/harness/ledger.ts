// After a fault: what the stores really hold, read directly (not through the app), compared with what
// the app answered. Every handoff that succeeded must have its identity and its session; no session may
// exist that no successful handoff opened, nor one without its identity; a handoff that failed must
// have written nothing.
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import pg from 'pg'
import { SHARD_COUNT, shardKeys, shardOf } from '../../../src/stores/redis/layout.ts'
import type { Outcome, Session } from './load.ts'

// Failures that can happen after the handoff began writing: the store failed, or the answer was lost.
const STORE_FAILURES = new Set(['ERR_STORE_UNAVAILABLE', 'TIMEOUT', 'NETWORK'])

export interface StoredState {
  /** subject → identity id, for the scenario's issuer. */
  identities: Map<string, string>
  /** session id → identity id. */
  sessions: Map<string, string>
}

export async function readPostgresState(url: string, issuer: string): Promise<StoredState> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    const identities = await client.query<{ id: string; subject: string }>(
      'SELECT id, subject FROM identities WHERE issuer = $1',
      [issuer],
    )
    const sessions = await client.query<{ id: string; identity_id: string }>(
      'SELECT id, identity_id FROM sessions',
    )
    return {
      identities: new Map(identities.rows.map((row) => [row.subject, row.id])),
      sessions: new Map(sessions.rows.map((row) => [row.id, row.identity_id])),
    }
  } finally {
    await client.end()
  }
}

export function readSqliteIdentities(path: string, issuer: string): Map<string, string> {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const rows = db.prepare('SELECT id, subject FROM identities WHERE issuer = ?').all(issuer) as {
      id: string
      subject: string
    }[]
    return new Map(rows.map((row) => [row.subject, row.id]))
  } finally {
    db.close()
  }
}

export function readSqliteState(path: string, issuer: string): StoredState {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const sessions = db.prepare('SELECT id, identity_id FROM sessions').all() as {
      id: string
      identity_id: string
    }[]
    return {
      identities: readSqliteIdentities(path, issuer),
      sessions: new Map(sessions.map((row) => [row.id, row.identity_id])),
    }
  } finally {
    db.close()
  }
}

/** Sessions in Redis under the app's prefix: every id its expiry index lists, with its hash's identity. */
export async function readRedisSessions(url: string, prefix: string): Promise<Map<string, string>> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  client.on('error', () => {})
  await client.connect()
  try {
    const ids: string[] = []
    for (let shard = 0; shard < SHARD_COUNT; shard++) {
      ids.push(...(await client.zrange(shardKeys(prefix, shard).byExpiry, '0', '-1')))
    }
    const sessions = new Map<string, string>()
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500)
      const pipeline = client.pipeline()
      for (const id of batch) pipeline.hget(shardKeys(prefix, shardOf(id)).session(id), 'identity_id')
      const answers = (await pipeline.exec()) ?? []
      batch.forEach((id, j) => {
        const value = answers[j]?.[1]
        // An index entry whose hash is gone is a session half-deleted or half-written.
        sessions.set(id, typeof value === 'string' ? value : '')
      })
    }
    return sessions
  } finally {
    client.disconnect()
  }
}

export interface LedgerReport {
  handoffsOk: number
  handoffsFailed: number
  /**
   * Handoffs that failed on a store error after their identity was written (the store went away
   * between the identity upsert and the session insert). Such an identity has no session: a
   * consistent state, as after a sign-out, which the next sign-in reuses; see the report in
   * test/faults/README.md. Handoffs refused for any other reason must have written nothing.
   */
  identitiesOfFailedHandoffs: number
  /**
   * Sessions written by handoffs that failed on a store error: the write reached the server but its
   * answer did not reach the app (the server stopped, or the connection broke, in between). Nobody
   * holds such a session's secret (the cookie was never sent), so it cannot be used; it expires.
   */
  sessionsOfFailedHandoffs: number
  /** Rule violations, each a sentence with ids only (never a token or cookie). */
  problems: string[]
}

/**
 * Compares the stores with the answers. `before` lists the sessions that existed before the load
 * (opened by earlier handoffs, all successful).
 */
export function checkLedger(
  outcomes: readonly Outcome[],
  before: readonly Session[],
  state: StoredState,
): LedgerReport {
  const problems: string[] = []
  const expectedSessions = new Map<string, string>()
  const okSubjects = new Map<string, string>()
  for (const session of before) {
    expectedSessions.set(session.sessionId, session.identityId)
    okSubjects.set(session.subject, session.identityId)
  }
  // Subject → the code its handoff failed with.
  const failedSubjects = new Map<string, string>()
  let handoffsOk = 0
  let handoffsFailed = 0
  for (const outcome of outcomes) {
    if (outcome.kind === 'me' || outcome.subject === undefined) continue
    if (outcome.code === 'OK') {
      handoffsOk += 1
      expectedSessions.set(outcome.sessionId as string, outcome.identityId as string)
      okSubjects.set(outcome.subject, outcome.identityId as string)
    } else {
      handoffsFailed += 1
      failedSubjects.set(outcome.subject, outcome.code)
    }
  }
  for (const [subject, identityId] of okSubjects) {
    const stored = state.identities.get(subject)
    if (stored === undefined) problems.push(`identity of a successful handoff is missing (${identityId})`)
    else if (stored !== identityId) problems.push(`subject's identity changed: ${identityId} → ${stored}`)
  }
  for (const [sessionId, identityId] of expectedSessions) {
    const stored = state.sessions.get(sessionId)
    if (stored === undefined) problems.push(`session of a successful handoff is missing (${sessionId})`)
    else if (stored !== identityId)
      problems.push(`session ${sessionId} belongs to ${stored}, not ${identityId}`)
  }
  const identityIds = new Set(state.identities.values())
  const subjectOf = new Map([...state.identities].map(([subject, id]) => [id, subject]))
  let sessionsOfFailedHandoffs = 0
  for (const [sessionId, identityId] of state.sessions) {
    if (!identityIds.has(identityId))
      problems.push(`session ${sessionId} has no identity (${identityId || 'none'})`)
    if (expectedSessions.has(sessionId)) continue
    const code = failedSubjects.get(subjectOf.get(identityId) ?? '')
    if (code !== undefined && STORE_FAILURES.has(code)) sessionsOfFailedHandoffs += 1
    else problems.push(`session ${sessionId} was opened by no handoff that could have written it`)
  }
  let identitiesOfFailedHandoffs = 0
  for (const subject of state.identities.keys()) {
    if (okSubjects.has(subject)) continue
    const code = failedSubjects.get(subject)
    if (code === undefined) problems.push('an identity exists for a subject no handoff sent')
    else if (STORE_FAILURES.has(code)) identitiesOfFailedHandoffs += 1
    else problems.push(`a handoff refused with ${code} wrote an identity`)
  }
  return { handoffsOk, handoffsFailed, identitiesOfFailedHandoffs, sessionsOfFailedHandoffs, problems }
}
