import { randomBase64url } from '../random.js'
import type { SessionRecord, SignInWrite, UpsertIdentityInput } from './types.js'

/** Length of a session's secret hash: SHA-256. */
export const SECRET_HASH_BYTES = 32

/** A new identity id: 128 random bits, base64url (22 characters), so ids reveal no count or time. */
export function newIdentityId(): string {
  return randomBase64url(16)
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * Checks a session before it is written, the same way in every store: a record that one store
 * accepted and another refused would make the stores disagree on what a session is.
 */
export function assertSessionRecord(session: SessionRecord): void {
  if (typeof session?.id !== 'string' || session.id.length === 0) {
    throw new TypeError('session.id must be a non-empty string')
  }
  if (!(session.secretHash instanceof Uint8Array) || session.secretHash.length !== SECRET_HASH_BYTES) {
    throw new TypeError(`session.secretHash must be ${SECRET_HASH_BYTES} bytes (a SHA-256)`)
  }
  if (typeof session.identityId !== 'string' || session.identityId.length === 0) {
    throw new TypeError('session.identityId must be a non-empty string')
  }
  if (typeof session.issuer !== 'string' || session.issuer.length === 0) {
    throw new TypeError('session.issuer must be a non-empty string')
  }
  if (session.providerSessionId !== null && typeof session.providerSessionId !== 'string') {
    throw new TypeError('session.providerSessionId must be a string or null')
  }
  for (const name of ['createdAtMs', 'expiresAtMs', 'lastSeenAtMs'] as const) {
    if (!isTime(session[name])) throw new TypeError(`session.${name} must be milliseconds since the epoch`)
  }
}

/** Milliseconds since the epoch, as an integer: rows hold whole milliseconds. */
export function assertTime(name: string, value: number): void {
  if (!isTime(value)) throw new TypeError(`${name} must be milliseconds since the epoch`)
}

/** Most rows one cleanup round may delete: a bound, not a target (cleanup.ts defaults to far less). */
export const MAX_CLEANUP_BATCH = 100_000

/** A cleanup round's bound: a whole number of rows from 1 to MAX_CLEANUP_BATCH. */
export function assertBatchLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CLEANUP_BATCH) {
    throw new TypeError(`limit must be a whole number of rows from 1 to ${MAX_CLEANUP_BATCH}`)
  }
}

/** Checks an upsert before it is written (the same rules in every store). */
export function assertUpsertInput(input: UpsertIdentityInput): void {
  if (typeof input?.issuer !== 'string' || input.issuer.length === 0) {
    throw new TypeError('issuer must be a non-empty string')
  }
  if (typeof input.subject !== 'string' || input.subject.length === 0) {
    throw new TypeError('subject must be a non-empty string')
  }
  if (typeof input.claims !== 'object' || input.claims === null || Array.isArray(input.claims)) {
    throw new TypeError('claims must be a plain object')
  }
  assertTime('nowMs', input.nowMs)
}

/** Checks a whole sign-in before any of it is written (every store with a sign-in transaction). */
export function assertSignInWrite(write: SignInWrite): void {
  assertTime('usedToken.expiresAtMs', write.usedToken?.expiresAtMs)
  if (typeof write.usedToken.key !== 'string' || write.usedToken.key.length === 0) {
    throw new TypeError('usedToken.key must be a non-empty string')
  }
  assertUpsertInput(write.identity)
  // The identity is not known yet; any well-formed id stands in for the check.
  assertSessionRecord({ ...write.session, identityId: '-' })
}
