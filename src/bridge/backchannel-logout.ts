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
import { isPlainObject } from '../lib/options.js'
import { FORM_TYPE, readTokenField } from './body.js'
import { baseHeaders, logoutStatusForCode } from './http-status.js'
import { LOGOUT_TYP, type LogoutRules } from './logout-verifier.js'
import type { BridgeConfig } from './options.js'
import { markTokenUsed, replayKey } from './replay-guard.js'
import type { BridgeRequest, BridgeResponse } from './types.js'

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

function claimError(code: 'ERR_CLAIMS_INVALID' | 'ERR_CLAIM_MISSING', claim: string, message: string) {
  return new JwksBridgeError(code, message, { claim })
}

function optionalId(payload: JwtPayload, claim: 'sid' | 'sub'): string | undefined {
  const value = payload[claim]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw claimError('ERR_CLAIMS_INVALID', claim, `"${claim}" is not a non-empty string`)
  }
  return value
}

function audienceList(payload: JwtPayload): string[] {
  const aud = payload.aud
  if (typeof aud === 'string') return [aud]
  if (Array.isArray(aud) && aud.every((value) => typeof value === 'string')) return aud
  if (aud === undefined) throw claimError('ERR_CLAIM_MISSING', 'aud', 'the "aud" claim is required')
  throw claimError('ERR_CLAIMS_INVALID', 'aud', '"aud" is not a string or an array of strings')
}

/** What a logout token ends, and until when it could be accepted (for its replay record). */
export interface LogoutTarget {
  issuer: string
  sid?: string
  sub?: string
  /** `exp` + the clock tolerance, in milliseconds: after it, this check refuses the token. */
  acceptedUntilMs: number
}

/**
 * §2.6 steps 3-7 (the signature is the verifier's). The audience and the expiry are checked here again
 * with the bridge's own rules, so that neither depends on the verifier the app handed in.
 */
export function checkLogoutToken(result: VerifiedJwt, rules: LogoutRules, nowMs: number): LogoutTarget {
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
  const audiences = rules.audiences.get(payload.iss)
  const tolerance = rules.clockToleranceSeconds.get(payload.iss)
  if (audiences === undefined || tolerance === undefined) {
    throw new JwksBridgeError(
      'ERR_ISSUER_UNKNOWN',
      'the logout token claims an issuer that is not configured',
      {
        claim: 'iss',
      },
    )
  }
  // §2.6 step 3: the token must be addressed to this client; a logout token of another client of the
  // same provider must not end sessions here.
  if (!audienceList(payload).some((value) => audiences.includes(value))) {
    throw new JwksBridgeError('ERR_AUDIENCE_MISMATCH', 'the logout token is not meant for this client', {
      claim: 'aud',
    })
  }
  // Always an expiry, whatever `requireExp` says for sign-in tokens: the replay record below lives
  // until it; a token without one would end sessions again once the record lapsed.
  const exp = payload.exp
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw claimError('ERR_CLAIM_MISSING', 'exp', 'the "exp" claim is required in a logout token')
  // RFC 7519 §4.1.4, with the logout verifier's tolerance: the bridge enforces the window the replay
  // record covers, even when a Verifier instance would accept longer.
  if (nowMs / 1000 - tolerance >= exp) {
    throw new JwksBridgeError('ERR_JWT_EXPIRED', 'the logout token has expired', { claim: 'exp' })
  }
  const sid = optionalId(payload, 'sid')
  const sub = optionalId(payload, 'sub')
  // §2.4: a logout token names a sub, a sid, or both.
  if (sid === undefined && sub === undefined) {
    throw claimError('ERR_CLAIM_MISSING', 'sid', 'a logout token must contain "sid" or "sub"')
  }
  return {
    issuer: payload.iss,
    ...(sid === undefined ? {} : { sid }),
    ...(sub === undefined ? {} : { sub }),
    acceptedUntilMs: (exp + tolerance) * 1000,
  }
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
  const rules = config.logoutRules
  if (verifier === undefined || rules === undefined) throw new Error('back-channel logout is not configured')
  let verified: boolean | undefined
  try {
    const token = readTokenField(req, {
      field: 'logout_token',
      types: [FORM_TYPE],
      maxBodyBytes: config.maxBodyBytes,
    })
    verified = false
    const result = await verifier.verify(token)
    verified = true
    const nowMs = Math.floor(config.nowMs())
    const target = checkLogoutToken(result, rules, nowMs)
    // §2.6 step 8 (optional there, done here): a jti seen before is refused, so that a captured logout
    // token cannot end sessions again after the user signed back in. Remembered for as long as the
    // check above could accept it (exp + tolerance), and a margin.
    await markTokenUsed(
      config.sessions,
      replayKey('logout', token, result.payload),
      target.acceptedUntilMs,
      nowMs,
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
    config.emit?.({
      type: 'logout',
      issuer: target.issuer,
      by: target.sid === undefined ? 'sub' : 'sid',
      sessionsEnded: ended,
      requestId: req.requestId,
    })
    return { status: 200, headers: baseHeaders(), cookies: [] }
  } catch (error) {
    if (!(error instanceof JwksBridgeError)) {
      config.emit?.({
        type: 'refusal',
        route: 'back-channel-logout',
        code: 'error',
        status: 500,
        error: error instanceof Error ? error.name : typeof error,
        verified,
        requestId: req.requestId,
      })
      throw error
    }
    const response = logoutError(error)
    config.emit?.({
      type: 'refusal',
      route: 'back-channel-logout',
      code: error.code,
      status: response.status,
      claim: error.claim,
      reason: error.reason,
      verified,
      requestId: req.requestId,
    })
    return response
  }
}
