/**
 * JWK SHA-256 thumbprints (RFC 7638), the value a DPoP-bound access token carries in `cnf.jkt`
 * (RFC 9449 §6.1).
 */
import { createHash } from 'node:crypto'
import type { VerificationKey } from '../jose/jwk.js'

// RFC 7638 §3.2: only the required members of the key type, in lexicographic order. Optional members
// (kid, alg, use) are left out, so that the same key always has the same thumbprint.
const REQUIRED_MEMBERS = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
} as const

/**
 * The RFC 7638 §3 thumbprint of an imported public key, base64url-encoded SHA-256 of the JSON object
 * of its required members, without whitespace, members in lexicographic order.
 *
 * @example
 * const jkt = jwkThumbprint(importPublicJwk(jwk)) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' for RFC 7638 §3.1
 */
export function jwkThumbprint(key: Pick<VerificationKey, 'kty' | 'publicJwk'>): string {
  const jwk = key.publicJwk
  const members = REQUIRED_MEMBERS[key.kty]
  // The values are base64url strings and short names: JSON.stringify writes them exactly as RFC 7638
  // §3.3 asks (no escapes are possible in them).
  const json = `{${members.map((name) => `${JSON.stringify(name)}:${JSON.stringify(jwk[name])}`).join(',')}}`
  return createHash('sha256').update(json).digest('base64url')
}
