/**
 * Signing for the test issuer (src/testing) and the development provider (src/dev-issuer): real keys
 * from node:crypto and real JWS signatures (RFC 7515), so tokens they mint exercise the same
 * verification path as production. Nothing on the verification side (verifier, bridge, resource
 * server) imports this file: the library verifies, only those two issuers sign.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'

/** The algorithms the test issuer and the development provider sign with (one per key family). */
export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze(['RS256', 'ES256', 'EdDSA'])

export interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  privateKey: KeyObject
  /** The public JWK as published: kty and key members, plus kid, alg and use. */
  publicJwk: Readonly<Record<string, unknown>>
}

/** A fresh key pair in memory. RSA keys are 2048 bits: the verifier's floor, and quick to generate. */
export function generateSigningKey(alg: SigningAlgorithm, kid: string): SigningKey {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519')
  const publicJwk = Object.freeze({ ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' })
  return { kid, alg, privateKey: pair.privateKey, publicJwk }
}

const base64url = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url')

/**
 * A compact JWS of `header` and `payload` (both serialized with JSON.stringify). ES256 signatures use
 * the JOSE form R || S (RFC 7518 §3.4), not DER.
 */
export function signCompact(
  key: SigningKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const data = Buffer.from(input)
  const signature =
    key.alg === 'RS256'
      ? sign('sha256', data, key.privateKey)
      : key.alg === 'ES256'
        ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign(null, data, key.privateKey)
  return `${input}.${base64url(signature)}`
}
