/**
 * Session lifecycle over the SessionStore: create a new session at sign-in, validate the cookie's
 * token on later requests (absolute lifetime, idle timeout, activity written at most once per
 * interval), delete at sign-out.
 */
import type { IdentityStore, SessionRecord, SessionStore } from '../stores/types.js'
import type { Emit } from './events.js'
import { generateSessionToken, parseSessionToken, secretMatches } from './session-token.js'
import type { Authenticated, BridgeSession } from './types.js'

export interface SessionPolicy {
  absoluteLifetimeMs: number
  idleTimeoutMs: number
  /** Least time between two writes of `lastSeenAtMs` (lucia: at most hourly, not on every request). */
  touchIntervalMs: number
}

export interface NewSessionInput {
  identityId: string
  issuer: string
  providerSessionId: string | null
  nowMs: number
}

/** Strips the secret's hash: the app gets the session's facts, never anything that helps forge it. */
export function sessionView(record: SessionRecord): BridgeSession {
  const { secretHash: _secretHash, ...view } = record
  return view
}

/**
 * Creates a brand-new session (new id, new secret) and returns the token for the cookie. A session id
 * from before sign-in is never reused: that is what defeats session fixation (OWASP Session Management
 * Cheat Sheet, "Renew the Session ID After Any Privilege Level Change").
 */
export async function createSession(
  sessions: SessionStore,
  input: NewSessionInput,
  policy: SessionPolicy,
): Promise<{ token: string; record: SessionRecord }> {
  const { token, record } = newSession(input, policy)
  const full: SessionRecord = { ...record, identityId: input.identityId }
  await sessions.create(full)
  return { token, record: full }
}

/** A new session's token and record, before its identity is known (the sign-in transaction fills it in). */
export function newSession(
  input: Omit<NewSessionInput, 'identityId'>,
  policy: SessionPolicy,
): { token: string; record: Omit<SessionRecord, 'identityId'> } {
  const { token, id, secretHash } = generateSessionToken(input.nowMs)
  return {
    token,
    record: {
      id,
      secretHash,
      issuer: input.issuer,
      providerSessionId: input.providerSessionId,
      createdAtMs: input.nowMs,
      expiresAtMs: input.nowMs + policy.absoluteLifetimeMs,
      lastSeenAtMs: input.nowMs,
    },
  }
}

/**
 * The session a token names, if the token is genuine, alive or not. A token with the right id but
 * the wrong secret finds nothing (ids are not secrets).
 */
export async function lookupSession(
  sessions: SessionStore,
  token: string | undefined,
): Promise<SessionRecord | undefined> {
  const parsed = parseSessionToken(token)
  if (parsed === undefined) return undefined
  const record = await sessions.get(parsed.id)
  if (record === undefined || !secretMatches(parsed.secret, record.secretHash)) return undefined
  return record
}

/** Whether a session is within its absolute lifetime and its idle timeout. */
export function isAlive(record: SessionRecord, nowMs: number, policy: SessionPolicy): boolean {
  return nowMs < record.expiresAtMs && nowMs - record.lastSeenAtMs < policy.idleTimeoutMs
}

/**
 * Finds the session a token belongs to, if the token is genuine and the session alive. A token with
 * the right id but the wrong secret finds nothing, and changes nothing.
 */
export async function findSession(
  sessions: SessionStore,
  token: string | undefined,
  nowMs: number,
  policy: SessionPolicy,
  emit?: Emit,
  requestId?: string,
): Promise<SessionRecord | undefined> {
  const record = await lookupSession(sessions, token)
  if (record === undefined) return undefined
  if (!isAlive(record, nowMs, policy)) {
    // Lazily removed here; cleanupExpired removes the ones nobody presents again.
    const deleted = await sessions.delete(record.id)
    if (deleted) {
      emit?.({
        type: 'sessions-ended',
        reason: 'expired',
        identityId: record.identityId,
        count: 1,
        requestId,
      })
    }
    return undefined
  }
  return record
}

/** Validates a session token and resolves the identity; touches the session when the interval has passed. */
export async function validateSession(
  sessions: SessionStore,
  identities: IdentityStore,
  token: string | undefined,
  nowMs: number,
  policy: SessionPolicy,
  emit?: Emit,
  requestId?: string,
): Promise<Authenticated | null> {
  const record = await findSession(sessions, token, nowMs, policy, emit, requestId)
  if (record === undefined) return null
  const identity = await identities.get(record.identityId)
  if (identity === undefined) return null
  if (nowMs - record.lastSeenAtMs >= policy.touchIntervalMs) {
    await sessions.touch(record.id, nowMs)
    return { identity, session: { ...sessionView(record), lastSeenAtMs: nowMs } }
  }
  return { identity, session: sessionView(record) }
}
