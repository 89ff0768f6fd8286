/**
 * Store contracts. Small on purpose: every implementation (memory, SQLite, PostgreSQL, Redis) runs
 * the same conformance suite (store-conformance.ts in src/testing). Times are milliseconds since the
 * epoch (`...Ms`). Stores know nothing of JWTs or HTTP.
 */

/** A local identity: the app's own record of a subject at an issuer. */
export interface Identity {
  /** Opaque local id (random, URL-safe). */
  id: string
  issuer: string
  subject: string
  /** The configured snapshot of claims from the latest sign-in (e.g. email, name). */
  claims: Record<string, unknown>
  /** First sign-in. */
  createdAtMs: number
  lastSignInAtMs: number
}

export interface UpsertIdentityInput {
  issuer: string
  subject: string
  claims: Record<string, unknown>
  nowMs: number
}

export interface IdentityStore {
  /**
   * Finds the identity for (issuer, subject) or creates it, atomically: however many first sign-ins
   * race, exactly one row exists afterwards and every caller gets it. Updates `lastSignInAtMs` and
   * `claims`; `created` tells whether this call made it.
   */
  upsert(input: UpsertIdentityInput): Promise<{ identity: Identity; created: boolean }>
  get(id: string): Promise<Identity | undefined>
  findBySubject(issuer: string, subject: string): Promise<Identity | undefined>
}

/** A session as stored: never the secret, only its SHA-256. */
export interface SessionRecord {
  /** Public part of the session token; the lookup key. */
  id: string
  /** SHA-256 of the secret part of the session token (32 bytes). */
  secretHash: Uint8Array
  identityId: string
  issuer: string
  /** The provider's session id (`sid`, SuperTokens' `sessionHandle`), for back-channel logout. */
  providerSessionId: string | null
  createdAtMs: number
  /** Absolute end of the session, whatever the activity. */
  expiresAtMs: number
  /** Last time the session was seen, written at most once per interval (idle timeout). */
  lastSeenAtMs: number
}

export interface SessionStore {
  create(session: SessionRecord): Promise<void>
  get(id: string): Promise<SessionRecord | undefined>
  /** Records activity; a missing session is not an error. */
  touch(id: string, lastSeenAtMs: number): Promise<void>
  /** True when a session was deleted. */
  delete(id: string): Promise<boolean>
  /** Sign out everywhere: deletes every session of an identity; returns how many. */
  deleteByIdentity(identityId: string): Promise<number>
  /** Back-channel logout by provider session id; returns how many. */
  deleteByProviderSession(issuer: string, providerSessionId: string): Promise<number>
  /** Deletes sessions past `expiresAtMs` or idle since before `nowMs - idleTimeoutMs`; returns how many. */
  deleteExpired(nowMs: number, idleTimeoutMs: number): Promise<number>
  /**
   * Optional: one bounded round of the same cleanup, for a scheduler (src/stores/cleanup.ts). Deletes
   * at most `limit` expired or idle sessions (with every index entry of them) and at most `limit`
   * expired replay records, so that no round holds a lock or the event loop for long however much
   * piled up. `more` says whether the round met its limit. Every built-in store has it.
   */
  deleteExpiredBatch?(nowMs: number, idleTimeoutMs: number, limit: number): Promise<CleanupBatch>
  /**
   * Optional: the store-wide cleanup lease, so that of several instances sharing the store one
   * cleans at a time. Resolves undefined when another instance holds it. The lease ends at
   * `release()`, or by itself after `ttlMs` (or with the holder's connection) if the holder dies.
   */
  acquireCleanupLease?(ttlMs: number): Promise<CleanupLease | undefined>
  /**
   * Replay guard: records that a token (by `jti` or a hash of it) was used, until `expiresAtMs`.
   * Atomic across instances: returns false when it was already recorded and has not expired.
   */
  markTokenUsed(key: string, expiresAtMs: number): Promise<boolean>
  /**
   * Optional: the whole sign-in written in one transaction. Only a store that shares its database
   * with an identity store has it (SQLite, PostgreSQL), and the bridge uses it only with that identity store.
   * Without it, the bridge makes the same writes one after another.
   */
  readonly signInTransaction?: SignInTransaction | undefined
}

/** What one round of cleanup removed. */
export interface CleanupBatch {
  sessions: number
  /** Replay records (a store whose backend expires them itself, like Redis, reports 0). */
  usedTokens: number
  /** The round was full (it met its limit): more may be left for the next one. */
  more: boolean
}

/** A held cleanup lease. */
export interface CleanupLease {
  /** Gives the lease up; a lease that already ran out is left to whoever holds it now. */
  release(): Promise<void>
}

/** Everything a sign-in writes, for a store that can write it at once. */
export interface SignInWrite {
  /** The replay guard's record, as `markTokenUsed(key, expiresAtMs)`. */
  usedToken: { key: string; expiresAtMs: number }
  identity: UpsertIdentityInput
  /**
   * The session the request came with, when its secret matched: always deleted, whoever it belongs to
   * and alive or not. A sign-in renews the session id (OWASP Session Management Cheat Sheet: renew the
   * session ID after any privilege level change), so a session id known before it is worth nothing.
   */
  presented?: { id: string } | undefined
  /** The new session, always written; its identity is the upserted one. */
  session: Omit<SessionRecord, 'identityId'>
}

export type SignInOutcome =
  /** The token was already used: nothing was written. */
  | { replayed: true }
  | {
      replayed: false
      identity: Identity
      created: boolean
      /** The new session as written. */
      session: SessionRecord
      /** Whether a presented session was deleted. */
      replaced: boolean
    }

export interface SignInTransaction {
  /** The identity store whose records this transaction writes. */
  readonly identities: IdentityStore
  /**
   * Records the token as used, upserts the identity, ends the presented session and creates the new
   * one, all or nothing: a failure at any step leaves every table as it was.
   */
  signIn(write: SignInWrite): Promise<SignInOutcome>
}

/** Optional lifecycle of a store that holds connections. */
export interface StoreLifecycle {
  /** Throws when the backing server cannot be reached (for /readyz). */
  ping(): Promise<void>
  close(): Promise<void>
}
