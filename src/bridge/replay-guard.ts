/**
 * The replay guard. A sign-in token is a bearer credential for its whole lifetime (SuperTokens: an
 * hour, no `jti`, `iat` reset at each refresh), so a stolen one could open sessions until it expires
 * (identity-providers.md §4.3). Two rules bound that:
 * - age: the token must have been issued within `maxTokenAgeSeconds` (a fresh token from the SDK);
 * - single use: the token is remembered in the session store until it expires, so it opens at most one
 *   session, across every instance sharing the store.
 */
import { createHash } from 'node:crypto'
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import type { SessionStore } from '../stores/types.js'

/** Refuses a token without `iat` or issued longer than `maxAgeSeconds` ago. */
export function checkTokenAge(payload: JwtPayload, nowMs: number, maxAgeSeconds: number): void {
  const iat = payload.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw new JwksBridgeError('ERR_CLAIM_MISSING', 'the "iat" claim is required to check the token\'s age', {
      claim: 'iat',
    })
  }
  if (nowMs / 1000 - iat > maxAgeSeconds) {
    throw new JwksBridgeError('ERR_JWT_TOO_OLD', 'the token is older than allowed for sign-in', {
      claim: 'iat',
    })
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url')
}

/**
 * The replay key: by `jti` when the token has one (with its issuer: jti values are unique per issuer
 * only), otherwise by a hash of the whole token. Hashed either way: keys have a fixed length, and the
 * store never holds a token. `kind` keeps sign-in and logout tokens apart.
 */
export function replayKey(kind: 'handoff' | 'logout', token: string, payload: JwtPayload): string {
  if (typeof payload.jti === 'string' && payload.jti.length > 0) {
    return `${kind}:jti:${sha256(`${payload.iss ?? ''}\u0000${payload.jti}`)}`
  }
  return `${kind}:token:${sha256(token)}`
}

/**
 * How long a used token is remembered: until it expires. Without `exp`, until the age limit would
 * refuse it anyway.
 */
export function usedUntilMs(payload: JwtPayload, nowMs: number, maxAgeSeconds: number): number {
  let untilMs: number
  if (typeof payload.exp === 'number') untilMs = payload.exp * 1000
  else if (typeof payload.iat === 'number') untilMs = (payload.iat + maxAgeSeconds) * 1000
  else untilMs = nowMs + maxAgeSeconds * 1000
  // A little past the end, so that a second instance whose clock runs slightly behind still refuses it.
  return Math.ceil(Math.max(untilMs, nowMs) + 60_000)
}

export function tokenReplayed(): JwksBridgeError {
  return new JwksBridgeError('ERR_TOKEN_REPLAYED', 'this token has already been used')
}

/** Records the token as used until it expires; throws ERR_TOKEN_REPLAYED if it already was. */
export async function markTokenUsed(
  sessions: SessionStore,
  key: string,
  payload: JwtPayload,
  nowMs: number,
  maxAgeSeconds: number,
): Promise<void> {
  const first = await sessions.markTokenUsed(key, usedUntilMs(payload, nowMs, maxAgeSeconds))
  if (!first) throw tokenReplayed()
}
