/**
 * The replay guard. A sign-in token is a bearer credential for its whole lifetime (SuperTokens: an
 * hour, no `jti`, `iat` reset at each refresh), so a stolen one could open sessions until it expires
 * (identity-providers.md §4.3). Two rules bound that:
 * - age: the token must have been issued within `maxTokenAgeSeconds` (a fresh token from the SDK);
 * - single use: the token is remembered in the session store for as long as the age rule could still
 *   accept it, so it opens at most one session, across every instance sharing the store.
 */
import { createHash } from 'node:crypto'
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import type { SessionStore } from '../stores/types.js'

/**
 * Refuses a token without `iat` or issued longer than `maxAgeSeconds` ago. Returns the end of the
 * window in which this check accepts the token (`iat` + `maxAgeSeconds`, in milliseconds): whatever
 * the verifier's tolerance or the token's `exp`, the handoff accepts it no later, so the replay record
 * is kept until then.
 */
export function checkTokenAge(payload: JwtPayload, nowMs: number, maxAgeSeconds: number): number {
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
  return (iat + maxAgeSeconds) * 1000
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
 * A little past the end of the acceptance window, so that a second instance whose clock runs slightly
 * behind still refuses the token.
 */
export const REPLAY_MARGIN_MS = 60_000

/**
 * How long a used token is remembered: for as long as any check could still accept it, plus the
 * margin. `acceptedUntilMs` is the end of the window the bridge itself enforces for that kind of token
 * (sign-in: `iat` + the maximum age; logout: `exp` + the clock tolerance). It is never taken from
 * `exp` alone: a verifier's clock tolerance accepts a token past `exp`, and a token used once must not
 * sign in again then.
 */
export function usedUntilMs(acceptedUntilMs: number, nowMs: number): number {
  return Math.ceil(Math.max(acceptedUntilMs, nowMs) + REPLAY_MARGIN_MS)
}

export function tokenReplayed(): JwksBridgeError {
  return new JwksBridgeError('ERR_TOKEN_REPLAYED', 'this token has already been used')
}

/** Records the token as used for as long as it could be accepted; throws ERR_TOKEN_REPLAYED if it was. */
export async function markTokenUsed(
  sessions: SessionStore,
  key: string,
  acceptedUntilMs: number,
  nowMs: number,
): Promise<void> {
  const first = await sessions.markTokenUsed(key, usedUntilMs(acceptedUntilMs, nowMs))
  if (!first) throw tokenReplayed()
}
