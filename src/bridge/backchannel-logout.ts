/**
 * OpenID Connect Back-Channel Logout 1.0: the provider POSTs `logout_token=<JWT>` (form-encoded, §2.5)
 * when a user's session there ends, and the app ends its matching sessions. The app session then
 * does not outlive the provider's (identity-providers.md §4.5).
 *
 * No request guard and no cookie: the provider calls server to server, and the signed logout token is
 * the request's only authority. The token is checked by the logout verifier (logout-verifier.ts), then
 * here again for what a verifier policy cannot express (§2.6), so that even a Verifier handed in by the
 * app cannot skip a rule.
 */
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import { normalizeTyp } from '../jose/header.js'
import type { VerifiedJwt } from '../jose/verify-jwt.js'
import { FORM_TYPE, readTokenField } from './body.js'
import { baseHeaders, logoutStatusForCode } from './http-status.js'
import { LOGOUT_TYP } from './logout-verifier.js'
import type { BridgeConfig } from './options.js'
import { markTokenUsed, replayKey } from './replay-guard.js'
import { type BridgeRequest, type BridgeResponse, requestLogger } from './types.js'

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

function claimError(code: 'ERR_CLAIMS_INVALID' | 'ERR_CLAIM_MISSING', claim: string, message: string) {
  return new JwksBridgeError(code, message, { claim })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optionalId(payload: JwtPayload, claim: 'sid' | 'sub'): string | undefined {
  const value = payload[claim]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw claimError('ERR_CLAIMS_INVALID', claim, `"${claim}" is not a non-empty string`)
  }
  return value
}

/** §2.6 steps 3-7 (signature, iss, aud and iat are the verifier's). Returns what to log out. */
export function checkLogoutToken(result: VerifiedJwt): { issuer: string; sid?: string; sub?: string } {
  const { header, payload } = result
  // §4.1 / RFC 8725 §3.11: explicit typing, so that no ID token passes for a logout token.
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== LOGOUT_TYP) {
    throw new JwksBridgeError('ERR_TYP_MISMATCH', 'a logout token must have "typ": "logout+jwt"', {
      claim: 'typ',
    })
  }
  // §2.4: events holds the back-channel logout member, whose value is a JSON object.
  const events = payload.events
  if (!isPlainObject(events) || !Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT)) {
    throw claimError('ERR_CLAIMS_INVALID', 'events', '"events" has no back-channel logout event')
  }
  if (!isPlainObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw claimError('ERR_CLAIMS_INVALID', 'events', 'the back-channel logout event is not an object')
  }
  // §2.4: nonce is prohibited, so that a logout token can never be used as an ID token in an
  // authentication response.
  if (Object.hasOwn(payload, 'nonce')) {
    throw claimError('ERR_CLAIMS_INVALID', 'nonce', 'a logout token must not contain "nonce"')
  }
  if (typeof payload.iat !== 'number')
    throw claimError('ERR_CLAIM_MISSING', 'iat', 'the "iat" claim is required')
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) {
    throw claimError('ERR_CLAIM_MISSING', 'jti', 'the "jti" claim is required')
  }
  if (typeof payload.iss !== 'string')
    throw claimError('ERR_CLAIM_MISSING', 'iss', 'the "iss" claim is required')
  const sid = optionalId(payload, 'sid')
  const sub = optionalId(payload, 'sub')
  // §2.4: a logout token names a sub, a sid, or both.
  if (sid === undefined && sub === undefined) {
    throw claimError('ERR_CLAIM_MISSING', 'sid', 'a logout token must contain "sid" or "sub"')
  }
  return { issuer: payload.iss, ...(sid === undefined ? {} : { sid }), ...(sub === undefined ? {} : { sub }) }
}

/** §2.8: 200 on success, 400 on a refused token (OAuth 2.0 error body); 503 when we cannot act now. */
function logoutError(error: JwksBridgeError): BridgeResponse {
  const status = logoutStatusForCode(error.code)
  const body: Record<string, string> = { error: 'invalid_request', code: error.code }
  if (status === 400) body.error_description = error.message
  return { status, headers: baseHeaders(), cookies: [], body }
}

export async function backChannelLogout(config: BridgeConfig, req: BridgeRequest): Promise<BridgeResponse> {
  const verifier = config.logoutVerifier
  if (verifier === undefined) throw new Error('back-channel logout is not configured')
  try {
    const token = readTokenField(req, {
      field: 'logout_token',
      types: [FORM_TYPE],
      maxBodyBytes: config.maxBodyBytes,
    })
    const result = await verifier.verify(token)
    const target = checkLogoutToken(result)
    const nowMs = Math.floor(config.nowMs())
    // §2.6 step 8 (optional there, done here): a jti seen before is refused, so that a captured logout
    // token cannot end sessions again after the user signed back in.
    await markTokenUsed(
      config.sessions,
      replayKey('logout', token, result.payload),
      result.payload,
      nowMs,
      config.maxTokenAgeSeconds,
    )
    let ended = 0
    if (target.sid !== undefined) {
      // §2.7: with a sid, only the sessions opened under that provider session end.
      ended = await config.sessions.deleteByProviderSession(target.issuer, target.sid)
    } else if (target.sub !== undefined) {
      // Without a sid: every session of that subject at that issuer.
      const identity = await config.identities.findBySubject(target.issuer, target.sub)
      if (identity !== undefined) ended = await config.sessions.deleteByIdentity(identity.id)
    }
    requestLogger(config.logger, req)?.info(
      { event: 'bridge.backchannel-logout', issuer: target.issuer, ended },
      'back-channel logout',
    )
    return { status: 200, headers: baseHeaders(), cookies: [] }
  } catch (error) {
    if (!(error instanceof JwksBridgeError)) throw error
    const response = logoutError(error)
    const fields = { event: 'bridge.backchannel-logout.refused', code: error.code, status: response.status }
    if (response.status >= 500) requestLogger(config.logger, req)?.error(fields, 'back-channel logout failed')
    else requestLogger(config.logger, req)?.warn(fields, 'back-channel logout refused')
    return response
  }
}
