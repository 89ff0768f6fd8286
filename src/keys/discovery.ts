import { JwksBridgeError } from '../errors.js'
import type { JsonObject } from '../jose/json.js'
import { checkKeySetUrl } from './url-policy.js'

/**
 * The OpenID Provider Configuration URL for an issuer (OpenID Connect Discovery 1.0 §4): the issuer
 * with any trailing slash removed, then `/.well-known/openid-configuration`.
 */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
}

/**
 * Reads `jwks_uri` from a discovery document. Its `issuer` must equal ours exactly (Discovery §4.3:
 * otherwise one provider could speak for another, the mix-up attack), and `jwks_uri` must obey the
 * same URL rules as a configured one.
 */
export function processDiscoveryDocument(document: JsonObject, issuer: string): string {
  if (document.issuer !== issuer) {
    throw new JwksBridgeError('ERR_DISCOVERY_FAILED', 'the discovery document names another issuer', {
      reason: 'issuer mismatch',
    })
  }
  const jwksUri = document.jwks_uri
  try {
    return checkKeySetUrl(jwksUri, 'jwks_uri').href
  } catch (error) {
    throw new JwksBridgeError('ERR_DISCOVERY_FAILED', 'the discovery document has no acceptable jwks_uri', {
      reason: (error as Error).message,
      cause: error,
    })
  }
}
