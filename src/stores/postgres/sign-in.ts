/**
 * A sign-in in one PostgreSQL statement: replay record, identity, old session out, new session in.
 * One statement is one transaction and one round trip (it was four: mark, upsert, read, insert), and
 * there is no state between the steps: a failure anywhere writes nothing, so there is never an
 * identity whose sign-in left no session, nor a token spent on a sign-in that did not happen.
 *
 * Data-modifying CTEs all run, once, on one snapshot; each step is gated on the one before it:
 * - `used` records the token (the replay guard's statement); a replayed token returns no row there,
 *   so `identity` inserts nothing, the later steps find no identity, and the statement returns no row;
 * - `identity` is the identity upsert (xmax = 0 tells whether this statement inserted it);
 * - `ended` deletes the presented session, whoever it belongs to (every sign-in renews the session
 *   id: OWASP session management), and `made` inserts the new one.
 * The foreign key from the new session to a new identity holds: constraint checks run at the end of
 * the statement, when the identity row exists.
 */
import { guarded } from '../failure.js'
import { assertSignInWrite, newIdentityId } from '../records.js'
import type { IdentityStore, SignInOutcome, SignInTransaction, SignInWrite } from '../types.js'
import { type PgPool, tableName } from './driver.js'
import { type IdentityRow, toIdentity } from './identity-store.js'

export class PostgresSignIn implements SignInTransaction {
  readonly identities: IdentityStore
  readonly #pool: PgPool
  readonly #now: () => number
  readonly #sql: string

  constructor(pool: PgPool, identities: IdentityStore, schema: string | undefined, nowMs: () => number) {
    this.identities = identities
    this.#pool = pool
    this.#now = nowMs
    const usedTokens = tableName(schema, 'used_tokens')
    const identitiesTable = tableName(schema, 'identities')
    const sessions = tableName(schema, 'sessions')
    this.#sql = `WITH used AS (
        INSERT INTO ${usedTokens} AS u (key, expires_at) VALUES ($1, $2)
        ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE u.expires_at <= $3
        RETURNING 1
      ), identity AS (
        INSERT INTO ${identitiesTable} (id, issuer, subject, claims, created_at, last_sign_in_at)
        SELECT $4, $5, $6, $7::json, $8, $8 WHERE EXISTS (SELECT FROM used)
        ON CONFLICT (issuer, subject) DO UPDATE SET claims = EXCLUDED.claims, last_sign_in_at = EXCLUDED.last_sign_in_at
        RETURNING id, issuer, subject, claims, created_at, last_sign_in_at, (xmax = 0) AS created
      ), ended AS (
        DELETE FROM ${sessions} WHERE id = $9::text AND EXISTS (SELECT FROM identity)
        RETURNING 1
      ), made AS (
        INSERT INTO ${sessions}
          (id, secret_hash, identity_id, issuer, provider_session_id, created_at, expires_at, last_seen_at)
        SELECT $10, $11, identity.id, $12, $13, $14, $15, $16 FROM identity
        RETURNING 1
      )
      SELECT identity.*, EXISTS (SELECT FROM made) AS made, EXISTS (SELECT FROM ended) AS ended FROM identity`
  }

  async signIn(write: SignInWrite): Promise<SignInOutcome> {
    const { usedToken, identity: input, presented, session } = write
    assertSignInWrite(write)
    const hash = session.secretHash
    const values = [
      usedToken.key,
      usedToken.expiresAtMs,
      this.#now(),
      newIdentityId(),
      input.issuer,
      input.subject,
      JSON.stringify(input.claims),
      input.nowMs,
      presented?.id ?? null,
      session.id,
      Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength),
      session.issuer,
      session.providerSessionId,
      session.createdAtMs,
      session.expiresAtMs,
      session.lastSeenAtMs,
    ]
    const result = await guarded('PostgreSQL', 'sign in', () => this.#pool.query(this.#sql, values))
    const row = result.rows[0] as (IdentityRow & { created: boolean; ended: boolean }) | undefined
    if (row === undefined) return { replayed: true }
    const identity = toIdentity(row)
    return {
      replayed: false,
      identity,
      created: row.created,
      session: { ...session, identityId: identity.id },
      replaced: row.ended,
    }
  }
}
