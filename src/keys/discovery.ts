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
    // Both issuers are public, and they usually differ by one character (a trailing slash,
    // localhost for 127.0.0.1, a port): naming them side by side is what makes the fault visible.
    const named =
      typeof document.issuer === 'string'
        ? `the issuer ${JSON.stringify(document.issuer.slice(0, 200))}`
        : 'no issuer string'
    throw new JwksBridgeError(
      'ERR_DISCOVERY_FAILED',
      `the discovery document names another issuer: it names ${named}, the configured issuer is ${JSON.stringify(issuer)}; set issuer to exactly the value the provider puts in "iss" (a trailing slash, localhost for 127.0.0.1 and the port all count)`,
      { reason: 'issuer mismatch' },
    )
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
