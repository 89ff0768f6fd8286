/**
 * The handoff (PUT or POST to the authentication URL): the browser's identity-provider token becomes
 * the app's own identity and session. Each step refuses before anything is written, in this order:
 * transport → request guard → body → signature and claims → profile → age → single use → identity →
 * session. With a store that has a sign-in transaction (SQLite, PostgreSQL), the last three are one transaction.
 * Every sign-in makes a new session and ends the one the request came with, if any.
 */
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import type { Identity, SignInTransaction, UpsertIdentityInput } from '../stores/types.js'
import { FORM_TYPE, JSON_TYPE, readTokenField } from './body.js'
import { readCookie, serializeCookie, sessionCookieName } from './cookies.js'
import { clearCsrfCookie } from './csrf.js'
import { guardRequest } from './guard.js'
import { baseHeaders } from './http-status.js'
import type { BridgeConfig } from './options.js'
import { checkTokenAge, replayKey, tokenReplayed, usedUntilMs } from './replay-guard.js'
import { createSession, lookupSession, type NewSessionInput, newSession } from './sessions.js'
import type { BridgeRequest, BridgeResponse } from './types.js'

/** The configured snapshot of claims, own members only (never `toString` from the prototype). */
export function snapshotClaims(payload: JwtPayload, names: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {}
  for (const name of names) if (Object.hasOwn(payload, name)) claims[name] = payload[name]
  return claims
}

/**
 * Whether the client asked for JSON rather than an empty 204: `application/json` listed with a
 * quality at least that of every other type it names explicitly. `*\/*` alone (fetch's default) is not
 * a request for JSON.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false
  let json = 0
  let other = 0
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';')
    const media = type.trim().toLowerCase()
    let q = 1
    for (const param of params) {
      const [name = '', value = ''] = param.split('=')
      if (name.trim().toLowerCase() === 'q') q = Number(value.trim())
    }
    if (!Number.isFinite(q)) q = 0
    if (media === JSON_TYPE) json = Math.max(json, q)
    else if (media !== '*/*' && media !== 'application/*') other = Math.max(other, q)
  }
  return json > 0 && json >= other
}

function signedIn(req: BridgeRequest, identity: Identity, cookies: string[]): BridgeResponse {
  const headers = { ...baseHeaders(), vary: 'Origin, Sec-Fetch-Site' }
  if (prefersJson(req.headers.accept)) return { status: 200, headers, cookies, body: identity }
  return { status: 204, headers, cookies }
}

/** What a sign-in writes, worked out before anything is written. */
interface SignInStep {
  usedToken: { key: string; expiresAtMs: number }
  identity: UpsertIdentityInput
  /** The session cookie the request came with. */
  cookie: string | undefined
  newSession: Omit<NewSessionInput, 'identityId'>
}

interface SignedIn {
  identity: Identity
  created: boolean
  /** The new session's token for the cookie. */
  session: string
  /** Whether the presented session was ended. */
  replaced: boolean
}

/**
 * The writes one after another, for stores that cannot share a transaction (sessions in Redis,
 * identities in SQL). Single use comes first, so a replayed token changes nothing; if a later write
 * fails, the token is spent and the identity may exist without the session (the request answers 503
 * and the browser's script fetches a fresh token).
 */
async function signInStepByStep(config: BridgeConfig, step: SignInStep): Promise<SignedIn> {
  const first = await config.sessions.markTokenUsed(step.usedToken.key, step.usedToken.expiresAtMs)
  if (!first) throw tokenReplayed()
  const { identity, created } = await config.identities.upsert(step.identity)
  // The presented session ends before the new one begins, whoever it belongs to: should the next write
  // fail, the browser holds no session rather than one that outlived a sign-in.
  const presented = await lookupSession(config.sessions, step.cookie)
  const replaced = presented !== undefined && (await config.sessions.delete(presented.id))
  const { token } = await createSession(
    config.sessions,
    { ...step.newSession, identityId: identity.id },
    config.session,
  )
  return { identity, created, session: token, replaced }
}

/** The same writes in one store transaction: all of them, or none. */
async function signInAtOnce(
  config: BridgeConfig,
  transaction: SignInTransaction,
  step: SignInStep,
): Promise<SignedIn> {
  // Read before the transaction, only to prove the cookie's secret: a session id alone ends nothing.
  const presented = await lookupSession(config.sessions, step.cookie)
  const { token, record } = newSession(step.newSession, config.session)
  const outcome = await transaction.signIn({
    usedToken: step.usedToken,
    identity: step.identity,
    presented: presented === undefined ? undefined : { id: presented.id },
    session: record,
  })
  if (outcome.replayed) throw tokenReplayed()
  const { identity, created, replaced } = outcome
  return { identity, created, session: token, replaced }
}

/** How far a handoff got, for its refusal event: whether the verifier accepted the token. */
export interface HandoffProgress {
  verified: boolean | undefined
}

export async function handoff(
  config: BridgeConfig,
  req: BridgeRequest,
  progress?: HandoffProgress,
): Promise<BridgeResponse> {
  const secure = guardRequest(config, req)
  const token = readTokenField(req, {
    field: 'jwt',
    types: [JSON_TYPE, FORM_TYPE],
    maxBodyBytes: config.maxBodyBytes,
  })
  if (progress !== undefined) progress.verified = false
  const result = await config.verifier.verify(token)
  if (progress !== undefined) progress.verified = true
  const { subject, providerSessionId } = config.profile.check(result)
  const payload = result.payload
  const issuer = payload.iss
  if (typeof issuer !== 'string' || typeof subject !== 'string' || subject.length === 0) {
    throw new JwksBridgeError('ERR_PROFILE_MISMATCH', 'the token names no issuer or subject', {
      claim: 'iss',
    })
  }
  const nowMs = Math.floor(config.nowMs())
  const acceptedUntilMs = checkTokenAge(payload, nowMs, config.maxTokenAgeSeconds)
  const cookieName = sessionCookieName(config.cookie, secure)
  const step: SignInStep = {
    usedToken: {
      key: replayKey('handoff', token, payload),
      // Single use: remembered for as long as the age check could accept the token again,
      // never until `exp` alone, which a verifier's clock tolerance outlasts.
      expiresAtMs: usedUntilMs(acceptedUntilMs, nowMs),
    },
    identity: { issuer, subject, claims: snapshotClaims(payload, config.claimsSnapshot), nowMs },
    cookie: readCookie(req.headers.cookie, cookieName),
    newSession: { issuer, providerSessionId, nowMs },
  }
  const transaction = config.sessions.signInTransaction
  const { identity, created, session, replaced } =
    transaction !== undefined && transaction.identities === config.identities
      ? await signInAtOnce(config, transaction, step)
      : await signInStepByStep(config, step)
  // Every sign-in, as the same identity too, gets a new session id and cookie and ends the presented
  // session (OWASP Session Management Cheat Sheet: renew the session ID after any privilege level
  // change): a session id planted or leaked before the sign-in is worth nothing after it.
  const cookies = [
    serializeCookie({
      name: cookieName,
      value: session,
      secure,
      domain: config.cookie.domain,
      maxAgeSeconds: config.session.absoluteLifetimeMs / 1000,
    }),
  ]
  // The pre-session ends too (OWASP CSRF Prevention Cheat Sheet, login CSRF): the next page gets a new token.
  if (config.csrf) cookies.push(clearCsrfCookie(secure, config.cookie))
  config.emit?.({
    type: 'sign-in',
    identityId: identity.id,
    issuer,
    created,
    replaced,
    requestId: req.requestId,
  })
  return signedIn(req, identity, cookies)
}
