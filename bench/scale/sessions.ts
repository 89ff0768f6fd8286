// Session validation with a million sessions: the stores are created by the library (migrations and
// all), filled in bulk (one transaction; multi-row INSERT from unnest() arrays in PostgreSQL), then the
// bridge's own per-request validation (src/bridge/sessions.ts validateSession: load the session by id,
// hash the presented secret, compare in constant time, check expiry, load the identity) runs on
// random sessions, one call at a time, timed.
//
// Session i is derived from a seed and i, so nothing but the index has to be kept to present it later:
// id = the first 16 bytes of SHA-256(seed‖i), secret = SHA-256 of that digest, both base64url, exactly
// the shapes of real session tokens (22 and 43 characters).
import { createHash, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { validateSession } from '../../src/bridge/sessions.ts'
import type { IdentityStore, SessionStore } from '../../src/stores/types.ts'
import { type LatencyResult, measureLatency } from '../lib/stores-measure.ts'

export const ISSUER = 'https://scale.bench.example'
const POLICY = { absoluteLifetimeMs: 30 * 86_400_000, idleTimeoutMs: 86_400_000, touchIntervalMs: 3_600_000 }

export interface SessionRow {
  id: string
  /** The cookie's value, `<id>.<secret>`. */
  token: string
  secretHash: Buffer
  identityId: string
}

export class SessionSpace {
  readonly sessions: number
  readonly identities: number
  readonly #seed = randomBytes(16)
  readonly #index = Buffer.alloc(4)

  constructor(sessions: number, sessionsPerIdentity: number) {
    this.sessions = sessions
    this.identities = Math.max(1, Math.ceil(sessions / sessionsPerIdentity))
  }

  identityId(j: number): string {
    return `idn${j.toString(36).padStart(8, '0')}`
  }

  subject(j: number): string {
    return `scale-user-${j}`
  }

  at(i: number): SessionRow {
    this.#index.writeUInt32BE(i)
    const digest = createHash('sha256').update(this.#seed).update(this.#index).digest()
    const id = digest.subarray(0, 16).toString('base64url')
    const secret = createHash('sha256').update(digest).digest('base64url')
    return {
      id,
      token: `${id}.${secret}`,
      secretHash: createHash('sha256').update(secret).digest(),
      identityId: this.identityId(i % this.identities),
    }
  }
}

export interface Filled {
  insertSeconds: number
}

/** Rows per statement (SQLite: per loop of the prepared statement; PostgreSQL: per INSERT). */
const BATCH = 20_000

/** better-sqlite3, as SqliteStores exposes it: one transaction for every row. */
export function fillSqlite(
  db: {
    prepare(sql: string): { run(...values: unknown[]): unknown }
    transaction(fn: () => void): () => void
  },
  space: SessionSpace,
  nowMs: number,
  progress: (done: number) => void,
): Filled {
  const started = performance.now()
  const identity = db.prepare(
    'INSERT INTO identities (id, issuer, subject, claims, created_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const session = db.prepare(
    'INSERT INTO sessions (id, secret_hash, identity_id, issuer, provider_session_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)',
  )
  const expires = nowMs + POLICY.absoluteLifetimeMs
  db.transaction(() => {
    for (let j = 0; j < space.identities; j++) {
      identity.run(space.identityId(j), ISSUER, space.subject(j), '{}', nowMs, nowMs)
    }
    for (let i = 0; i < space.sessions; i++) {
      const row = space.at(i)
      session.run(row.id, row.secretHash, row.identityId, ISSUER, nowMs, expires, nowMs)
      if ((i + 1) % 100_000 === 0) progress(i + 1)
    }
  })()
  return { insertSeconds: (performance.now() - started) / 1000 }
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>
}

/** PostgreSQL: one transaction, multi-row INSERTs of BATCH rows from unnest() arrays. */
export async function fillPostgres(
  client: Queryable,
  schema: string,
  space: SessionSpace,
  nowMs: number,
  progress: (done: number) => void,
): Promise<Filled> {
  const started = performance.now()
  const expires = nowMs + POLICY.absoluteLifetimeMs
  await client.query('BEGIN')
  try {
    for (let from = 0; from < space.identities; from += BATCH) {
      const ids: string[] = []
      const subjects: string[] = []
      for (let j = from; j < Math.min(space.identities, from + BATCH); j++) {
        ids.push(space.identityId(j))
        subjects.push(space.subject(j))
      }
      await client.query(
        `INSERT INTO "${schema}".identities (id, issuer, subject, claims, created_at, last_sign_in_at)
         SELECT u.id, $3, u.subject, '{}'::json, $4, $4 FROM unnest($1::text[], $2::text[]) AS u(id, subject)`,
        [ids, subjects, ISSUER, nowMs],
      )
    }
    for (let from = 0; from < space.sessions; from += BATCH) {
      const ids: string[] = []
      const hashes: Buffer[] = []
      const owners: string[] = []
      for (let i = from; i < Math.min(space.sessions, from + BATCH); i++) {
        const row = space.at(i)
        ids.push(row.id)
        hashes.push(row.secretHash)
        owners.push(row.identityId)
      }
      await client.query(
        `INSERT INTO "${schema}".sessions (id, secret_hash, identity_id, issuer, provider_session_id, created_at, expires_at, last_seen_at)
         SELECT u.id, u.hash, u.owner, $4, NULL, $5, $6, $5 FROM unnest($1::text[], $2::bytea[], $3::text[]) AS u(id, hash, owner)`,
        [ids, hashes, owners, ISSUER, nowMs, expires],
      )
      if ((from + BATCH) % 100_000 === 0) progress(from + BATCH)
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
  await client.query(`ANALYZE "${schema}".sessions`)
  await client.query(`ANALYZE "${schema}".identities`)
  return { insertSeconds: (performance.now() - started) / 1000 }
}

/**
 * validateSession on sessions drawn at random from the first `among` (all by default), for `seconds`.
 * Throws if any validation fails: a benchmark of wrong answers is worthless.
 */
export async function measureValidation(
  stores: { sessions: SessionStore; identities: IdentityStore },
  space: SessionSpace,
  seconds: number,
  among = space.sessions,
): Promise<LatencyResult> {
  const now = Date.now()
  // Drawn before timing, so that deriving a session's token is not part of what is measured.
  const picks = Array.from({ length: 100_000 }, () => space.at(Math.floor(Math.random() * among)))
  return measureLatency(
    async (i) => {
      const row = picks[i % picks.length] as SessionRow
      const auth = await validateSession(stores.sessions, stores.identities, row.token, now, POLICY)
      if (auth === null || auth.identity.id !== row.identityId) throw new Error('a session did not validate')
      return true
    },
    seconds,
    500,
  )
}
