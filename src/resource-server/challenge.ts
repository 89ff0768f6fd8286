/**
 * The answer to a refused request: its status and `WWW-Authenticate` challenges, per RFC 6750 §3
 * (Bearer), RFC 9449 §7.1 (DPoP) and RFC 9728 §5.1 (`resource_metadata`). Plain data in and out.
 */
import { statusForCode } from '../bridge/http-status.js'
import { type ErrorCode, isJwksBridgeError } from '../errors.js'

export type DpopMode = 'off' | 'allowed' | 'required'

export interface ChallengeConfig {
  dpop: DpopMode
  dpopAlgorithms: readonly string[]
  /** RFC 9728 §5.1: where the client finds this API's metadata. */
  resourceMetadataUrl: string
  realm: string | undefined
}

export interface ChallengeContext {
  /** The scheme the refused request used, when it got that far. */
  scheme?: 'Bearer' | 'DPoP' | undefined
  /** The scopes the request needed (for `insufficient_scope`). */
  scopes?: readonly string[] | undefined
  /** The current DPoP nonce, for `use_dpop_nonce`. */
  nonce?: string | undefined
}

export interface ChallengeAnswer {
  status: number
  headers: Record<string, string>
}

type OAuthError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'

// RFC 6750 §3.1: a request with no credentials for the scheme gets a challenge without an error code.
const NO_ERROR_CODE = new Set<ErrorCode>([
  'ERR_TOKEN_MISSING',
  'ERR_AUTH_SCHEME_UNSUPPORTED',
  'ERR_DPOP_REQUIRED',
])
// RFC 9449 §7.1: these concern the proof, so they go on the DPoP challenge whatever else is offered.
const DPOP_ERRORS: Partial<Record<ErrorCode, OAuthError>> = {
  ERR_DPOP_PROOF_INVALID: 'invalid_dpop_proof',
  ERR_DPOP_PROOF_REPLAYED: 'invalid_dpop_proof',
  ERR_DPOP_NONCE_REQUIRED: 'use_dpop_nonce',
  ERR_DPOP_BINDING_MISMATCH: 'invalid_token',
}

/**
 * RFC 9110 §5.6.4 quoted-string, kept to what RFC 6750 §3 allows in `error_description`
 * (%x20-21 / %x23-5B / %x5D-7E): quotes become apostrophes, anything else outside it is dropped.
 */
export function quoted(text: string): string {
  return `"${text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')}"`
}

function challengeFor(scheme: 'Bearer' | 'DPoP', params: [string, string][]): string {
  const rendered = params.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')
  return rendered.length === 0 ? scheme : `${scheme} ${rendered}`
}

/**
 * Status and headers for `error`. A `JwksBridgeError` of a token or a proof gets 401 (400 for a
 * malformed request, 403 for a missing scope) with one challenge per accepted scheme, the error on
 * the scheme it concerns; a key set or store outage gets 503 and no challenge (the client did nothing
 * wrong); anything else 500.
 */
export function buildChallenge(
  error: unknown,
  config: ChallengeConfig,
  context: ChallengeContext = {},
): ChallengeAnswer {
  const headers: Record<string, string> = { 'cache-control': 'no-store' }
  if (!isJwksBridgeError(error)) return { status: 500, headers }
  const status = statusForCode(error.code)
  if (status !== 400 && status !== 401 && status !== 403) return { status, headers }
  let oauthError: OAuthError | undefined
  let on: 'Bearer' | 'DPoP' | undefined = context.scheme
  const dpopError = DPOP_ERRORS[error.code]
  if (dpopError !== undefined) {
    oauthError = dpopError
    on = 'DPoP'
  } else if (status === 400) oauthError = 'invalid_request'
  else if (status === 403) oauthError = 'insufficient_scope'
  else if (!NO_ERROR_CODE.has(error.code)) oauthError = 'invalid_token'
  const schemes: ('Bearer' | 'DPoP')[] =
    config.dpop === 'off' ? ['Bearer'] : config.dpop === 'required' ? ['DPoP'] : ['Bearer', 'DPoP']
  if (on === undefined || !schemes.includes(on)) on = schemes[0]
  const challenges = schemes.map((scheme) => {
    const params: [string, string][] = []
    if (config.realm !== undefined) params.push(['realm', config.realm])
    if (scheme === on && oauthError !== undefined) {
      params.push(['error', oauthError])
      params.push(['error_description', error.message])
      // RFC 6750 §3: the scope needed, so that the client can ask for a token that carries it.
      if (oauthError === 'insufficient_scope' && context.scopes !== undefined && context.scopes.length > 0) {
        params.push(['scope', context.scopes.join(' ')])
      }
    }
    // RFC 9449 §7.1: the DPoP challenge lists the proof algorithms accepted.
    if (scheme === 'DPoP') params.push(['algs', config.dpopAlgorithms.join(' ')])
    params.push(['resource_metadata', config.resourceMetadataUrl])
    return challengeFor(scheme, params)
  })
  headers['www-authenticate'] = challenges.join(', ')
  // RFC 9449 §9: the nonce to use comes with the use_dpop_nonce error.
  if (oauthError === 'use_dpop_nonce' && context.nonce !== undefined) headers['dpop-nonce'] = context.nonce
  return { status, headers }
}
