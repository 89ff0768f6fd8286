/**
 * The asymmetric JWS algorithms jwks-bridge verifies. There is deliberately no entry for `none` or
 * HS*: a key set holds public keys, and a library with no HMAC path cannot be tricked into using a
 * public key as an HMAC secret (CVE-2015-9235, CVE-2016-10555, fast-jwt CVE-2023-48223 and its sequels).
 */
export type Algorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

export type AlgorithmFamily = 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa' | 'eddsa'

export interface AlgorithmSpec {
  readonly name: Algorithm
  readonly family: AlgorithmFamily
  readonly kty: 'RSA' | 'EC' | 'OKP'
  /** Required curve for EC and OKP keys. */
  readonly crv?: 'P-256' | 'P-384' | 'P-521' | 'Ed25519'
  /** Digest for node:crypto; null for EdDSA (the digest is part of the scheme). */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null
  /** Digest length in bytes: the RSA-PSS salt length RFC 7518 §3.5 requires. */
  readonly hashBytes: number
  /** Exact signature length for ECDSA (R||S, RFC 7518 §3.4) and EdDSA; 0 when it depends on the key. */
  readonly signatureBytes: number
}

function spec(
  name: Algorithm,
  family: AlgorithmFamily,
  kty: AlgorithmSpec['kty'],
  hash: AlgorithmSpec['hash'],
  crv?: AlgorithmSpec['crv'],
): AlgorithmSpec {
  const hashBytes = hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64
  const signatureBytes =
    crv === 'P-256' ? 64 : crv === 'P-384' ? 96 : crv === 'P-521' ? 132 : crv === 'Ed25519' ? 64 : 0
  return Object.freeze(
    crv
      ? { name, family, kty, crv, hash, hashBytes, signatureBytes }
      : { name, family, kty, hash, hashBytes, signatureBytes },
  )
}

const TABLE: ReadonlyMap<string, AlgorithmSpec> = new Map(
  [
    spec('RS256', 'rsa-pkcs1', 'RSA', 'sha256'),
    spec('RS384', 'rsa-pkcs1', 'RSA', 'sha384'),
    spec('RS512', 'rsa-pkcs1', 'RSA', 'sha512'),
    spec('PS256', 'rsa-pss', 'RSA', 'sha256'),
    spec('PS384', 'rsa-pss', 'RSA', 'sha384'),
    spec('PS512', 'rsa-pss', 'RSA', 'sha512'),
    spec('ES256', 'ecdsa', 'EC', 'sha256', 'P-256'),
    spec('ES384', 'ecdsa', 'EC', 'sha384', 'P-384'),
    spec('ES512', 'ecdsa', 'EC', 'sha512', 'P-521'),
    // RFC 8037 `EdDSA` and its RFC 9864 fully specified name `Ed25519`; Ed448 is not offered.
    spec('EdDSA', 'eddsa', 'OKP', null, 'Ed25519'),
    spec('Ed25519', 'eddsa', 'OKP', null, 'Ed25519'),
  ].map((s) => [s.name, s]),
)

export const SUPPORTED_ALGORITHMS: readonly Algorithm[] = Object.freeze([...TABLE.keys()] as Algorithm[])

/** Exact, case-sensitive lookup (RFC 7515 §4.1.1): `rs256` and `NONE` find nothing. */
export function algorithmSpec(name: string): AlgorithmSpec | undefined {
  return TABLE.get(name)
}

/** Bytes of each EC coordinate and the group order n (big-endian), for the R||S range check. */
export const CURVES = {
  'P-256': {
    coordinateBytes: 32,
    order: Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex'),
  },
  'P-384': {
    coordinateBytes: 48,
    order: Buffer.from(
      'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
      'hex',
    ),
  },
  'P-521': {
    coordinateBytes: 66,
    order: Buffer.from(
      '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
      'hex',
    ),
  },
} as const
