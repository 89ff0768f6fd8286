/**
 * The `identities` and `sessions` rows of the SQL stores (the same columns in SQLite and PostgreSQL,
 * see each migrations.ts) read into records. Times come as the driver gives them: numbers from
 * better-sqlite3, bigint text from node-postgres; `ms` turns them into milliseconds.
 */
import type { Identity, SessionRecord } from './types.js'

export interface IdentityRow<Time> {
  id: string
  issuer: string
  subject: string
  /** JSON text (SQLite), or parsed by pg for a json column (a pool with its own type parsers may hand the text). */
  claims: unknown
  created_at: Time
  last_sign_in_at: Time
}

export function identityFromRow<Time>(row: IdentityRow<Time>, ms: (value: Time) => number): Identity {
  return {
    id: row.id,
    issuer: row.issuer,
    subject: row.subject,
    claims: (typeof row.claims === 'string' ? JSON.parse(row.claims) : row.claims) as Record<string, unknown>,
    createdAtMs: ms(row.created_at),
    lastSignInAtMs: ms(row.last_sign_in_at),
  }
}

export interface SessionRow<Time> {
  id: string
  secret_hash: Uint8Array
  identity_id: string
  issuer: string
  provider_session_id: string | null
  created_at: Time
  expires_at: Time
  last_seen_at: Time
}

export function sessionFromRow<Time>(row: SessionRow<Time>, ms: (value: Time) => number): SessionRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    identityId: row.identity_id,
    issuer: row.issuer,
    providerSessionId: row.provider_session_id,
    createdAtMs: ms(row.created_at),
    expiresAtMs: ms(row.expires_at),
    lastSeenAtMs: ms(row.last_seen_at),
  }
}

/**
 * A session's values in the `sessions` column order (id, secret_hash, identity_id, issuer,
 * provider_session_id, created_at, expires_at, last_seen_at): the INSERT's parameters. The hash goes
 * as a Buffer over the same bytes, which both drivers bind as a blob.
 */
export function sessionRowValues(session: SessionRecord): unknown[] {
  const hash = session.secretHash
  return [
    session.id,
    Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength),
    session.identityId,
    session.issuer,
    session.providerSessionId,
    session.createdAtMs,
    session.expiresAtMs,
    session.lastSeenAtMs,
  ]
}
