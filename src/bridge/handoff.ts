/**
 * The handoff (PUT or POST to the authentication URL): the browser's identity-provider token becomes
 * the app's own identity and session. Each step refuses before anything is written, in this order:
 * transport → request guard → body → signature and claims → profile → age → single use → identity →
 * session.
 */
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import type { Identity } from '../stores/types.js'
import { FORM_TYPE, JSON_TYPE, readTokenField } from './body.js'
import { readCookie, serializeCookie, sessionCookieName } from './cookies.js'
import { clearCsrfCookie } from './csrf.js'
import { guardRequest } from './guard.js'
import { baseHeaders } from './http-status.js'
import type { BridgeConfig } from './options.js'
import { checkTokenAge, markTokenUsed, replayKey } from './replay-guard.js'
import { createSession, findSession } from './sessions.js'
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

export async function handoff(config: BridgeConfig, req: BridgeRequest): Promise<BridgeResponse> {
  const secure = guardRequest(config, req)
  const token = readTokenField(req, {
    field: 'jwt',
    types: [JSON_TYPE, FORM_TYPE],
    maxBodyBytes: config.maxBodyBytes,
  })
  const result = await config.verifier.verify(token)
  const { subject, providerSessionId } = config.profile.check(result)
  const payload = result.payload
  const issuer = payload.iss
  if (typeof issuer !== 'string' || typeof subject !== 'string' || subject.length === 0) {
    throw new JwksBridgeError('ERR_PROFILE_MISMATCH', 'the token names no issuer or subject', {
      claim: 'iss',
    })
  }
  const nowMs = Math.floor(config.nowMs())
  checkTokenAge(payload, nowMs, config.maxTokenAgeSeconds)
  // Single use before anything is written: a replayed token changes nothing.
  await markTokenUsed(
    config.sessions,
    replayKey('handoff', token, payload),
    payload,
    nowMs,
    config.maxTokenAgeSeconds,
  )
  const { identity, created } = await config.identities.upsert({
    issuer,
    subject,
    claims: snapshotClaims(payload, config.claimsSnapshot),
    nowMs,
  })

  const cookieName = sessionCookieName(config.cookie, secure)
  const current = await findSession(
    config.sessions,
    readCookie(req.headers.cookie, cookieName),
    nowMs,
    config.session,
  )
  if (current !== undefined && current.identityId === identity.id) {
    // Signing in again as the same identity (a page served from cache still saying "no session") is
    // idempotent: the session and cookie stay as they are.
    config.logger?.info(
      { event: 'bridge.sign-in', identityId: identity.id, renewed: false },
      'already signed in',
    )
    return signedIn(req, identity, [])
  }
  // Another identity, or none: the old session ends and a new one begins with a new id and secret.
  if (current !== undefined) await config.sessions.delete(current.id)
  const session = await createSession(
    config.sessions,
    { identityId: identity.id, issuer, providerSessionId, nowMs },
    config.session,
  )
  const cookies = [
    serializeCookie({
      name: cookieName,
      value: session.token,
      secure,
      domain: config.cookie.domain,
      maxAgeSeconds: config.session.absoluteLifetimeMs / 1000,
    }),
  ]
  if (config.csrf) cookies.push(clearCsrfCookie(secure, config.cookie))
  config.logger?.info(
    { event: 'bridge.sign-in', identityId: identity.id, issuer, created, replaced: current !== undefined },
    'signed in',
  )
  return signedIn(req, identity, cookies)
}
