/**
 * Token profiles: which verified tokens may sign someone in, and what their subject and provider
 * session id are. The verifier answers "is this token genuine, current, from our issuer, for us?";
 * a profile answers "is it a sign-in token of the kind this provider issues for sessions?" (security
 * catalogue E3: one issuer signs several kinds of tokens with one key set).
 */
import { invalidOptions } from '../errors.js'
import { type GenericProfileOptions, genericProfile } from './profiles/generic.js'
import { type OidcIdTokenProfileOptions, oidcIdTokenProfile } from './profiles/oidc-id-token.js'
import { type SupertokensProfileOptions, supertokensProfile } from './profiles/supertokens.js'
import type { TokenProfile } from './types.js'

export { type CommonProfileOptions, MAX_IDENTIFIER_LENGTH } from './profiles/common.js'
export type { GenericProfileOptions } from './profiles/generic.js'
export { genericProfile } from './profiles/generic.js'
export type { OidcIdTokenProfileOptions } from './profiles/oidc-id-token.js'
export { oidcIdTokenProfile } from './profiles/oidc-id-token.js'
export {
  type SupertokensIssuerOptions,
  type SupertokensProfileOptions,
  supertokensIssuer,
  supertokensProfile,
} from './profiles/supertokens.js'
export type { ProfileResult, TokenProfile } from './types.js'

export type TokenProfileName = 'generic' | 'oidc-id-token' | 'supertokens'

/** The names `tokenProfile` knows. */
export const TOKEN_PROFILE_NAMES: readonly TokenProfileName[] = Object.freeze([
  'generic',
  'oidc-id-token',
  'supertokens',
])

/**
 * A profile by name, with its options validated now (a misconfigured profile fails at start-up, not on
 * the first sign-in).
 *
 * @example
 * tokenProfile('oidc-id-token', { audience: 'my-client-id' })
 * tokenProfile('supertokens')
 * tokenProfile('generic', { authorizedParties: ['https://app.example.com'] })
 */
export function tokenProfile(name: 'generic', options?: GenericProfileOptions): TokenProfile
export function tokenProfile(name: 'oidc-id-token', options: OidcIdTokenProfileOptions): TokenProfile
export function tokenProfile(name: 'supertokens', options?: SupertokensProfileOptions): TokenProfile
export function tokenProfile(name: TokenProfileName, options?: unknown): TokenProfile
export function tokenProfile(name: TokenProfileName, options?: unknown): TokenProfile {
  switch (name) {
    case 'generic':
      return genericProfile(options as GenericProfileOptions | undefined)
    case 'oidc-id-token':
      return oidcIdTokenProfile(options as OidcIdTokenProfileOptions)
    case 'supertokens':
      return supertokensProfile(options as SupertokensProfileOptions | undefined)
    default:
      throw invalidOptions(`unknown token profile; expected one of ${TOKEN_PROFILE_NAMES.join(', ')}`)
  }
}
