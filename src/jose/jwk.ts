import { createPublicKey, type KeyObject } from 'node:crypto'
import { JwksBridgeError } from '../errors.js'
import { type Algorithm, algorithmSpec, CURVES } from './algorithms.js'
import { isCanonicalBase64url } from './base64url.js'

/** Limits applied to every key before it is imported. */
export interface KeyLimits {
  /** Smallest RSA modulus accepted, in bits. RFC 7518 §3.3 requires 2048 or more. */
  minRsaModulusBits: number
  /** Largest RSA modulus accepted, in bits: a huge modulus is a CPU sink (RFC 7518 §8.6). */
  maxRsaModulusBits: number
}

export const DEFAULT_KEY_LIMITS: KeyLimits = Object.freeze({
  minRsaModulusBits: 2048,
  maxRsaModulusBits: 8192,
})

/** A public key, checked and imported once, ready for `crypto.verify`. */
export interface VerificationKey {
  readonly kid: string | undefined
  readonly kty: 'RSA' | 'EC' | 'OKP'
  readonly crv: 'P-256' | 'P-384' | 'P-521' | 'Ed25519' | undefined
  readonly alg: Algorithm | undefined
  readonly use: string | undefined
  readonly keyOps: readonly string[] | undefined
  /** RSA modulus length in bytes (every RSA signature has exactly this length); 0 for other keys. */
  readonly modulusBytes: number
  /** Size for display: RSA modulus bits, or the curve's field size. */
  readonly bits: number
  readonly keyObject: KeyObject
  /** The public members only, as imported. Never carries private material. */
  readonly publicJwk: Readonly<Record<string, unknown>>
  /** A string that is equal for two JWKs describing the same key with the same parameters. */
  readonly fingerprint: string
}

// Members that only a private or symmetric key has. A key set is public; a set that carries
// private material has leaked it, and its key must not be trusted (RFC 7517 §5, Wycheproof JWK tcId 1).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

// RSA exponents above 64 bits are refused, as OpenSSL refuses them for large moduli.
const MAX_RSA_EXPONENT_BYTES = 8

/** Longest `kid` accepted, in characters: it is only ever an exact-match lookup key (RFC 8725 §3.10). */
export const MAX_KID_LENGTH = 1024

function invalid(reason: string): JwksBridgeError {
  return new JwksBridgeError('ERR_KEY_INVALID', `key is not usable: ${reason}`, { reason })
}

function optionalString(jwk: Record<string, unknown>, member: string): string | undefined {
  const value = jwk[member]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw invalid(`"${member}" is not a string`)
  return value
}

/** Decodes a base64urlUInt or a fixed-length member, canonical spelling only. */
function decodeMember(jwk: Record<string, unknown>, member: string): Buffer {
  const value = jwk[member]
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${member}" is missing or not a string`)
  if (!isCanonicalBase64url(value)) throw invalid(`"${member}" is not canonical base64url`)
  return Buffer.from(value, 'base64url')
}

function bitLength(bytes: Buffer): number {
  const first = bytes[0] ?? 0
  return bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(first))
}

/**
 * Checks one JWK from a key set and imports it as a `KeyObject`, or throws ERR_KEY_INVALID with a
 * reason that names the rule. The caller decides whether a bad key breaks anything (it should not:
 * an unusable key in a set is skipped and reported).
 */
export function importPublicJwk(input: unknown, limits: KeyLimits = DEFAULT_KEY_LIMITS): VerificationKey {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('not a JSON object')
  const jwk = input as Record<string, unknown>
  const kty = jwk.kty
  if (typeof kty !== 'string') throw invalid('"kty" is missing or not a string')
  // Symmetric keys never belong in a key set used for verification: with them comes HMAC, and with
  // HMAC the classic public-key-as-secret confusion (CVE-2015-9235). There is no code path for them.
  if (kty === 'oct') throw invalid('symmetric ("oct") keys are not accepted')
  for (const member of PRIVATE_MEMBERS) {
    if (member in jwk)
      throw invalid(`private member "${member}" present: a key set must hold public keys only`)
  }
  const kid = optionalString(jwk, 'kid')
  if (kid !== undefined && kid.length > MAX_KID_LENGTH) throw invalid('"kid" is too long')
  const use = optionalString(jwk, 'use')
  const keyOps = readKeyOps(jwk.key_ops)
  const algName = optionalString(jwk, 'alg')
  let alg: Algorithm | undefined
  if (algName !== undefined) {
    const spec = algorithmSpec(algName)
    // A key restricted to an algorithm we do not verify with (RSA1_5, ES521, HS256...) is of no use.
    if (!spec)
      throw invalid(`"alg" ${JSON.stringify(algName.slice(0, 32))} is not a supported signature algorithm`)
    if (spec.kty !== kty) throw invalid(`"alg" ${spec.name} does not fit key type ${kty}`)
    alg = spec.name
  }
  const common = { kid, alg, use, keyOps }
  switch (kty) {
    case 'RSA':
      return importRsa(jwk, limits, common)
    case 'EC':
      return importEc(jwk, common)
    case 'OKP':
      return importOkp(jwk, common)
    default:
      throw invalid(`unsupported key type ${JSON.stringify(kty.slice(0, 16))}`)
  }
}

function readKeyOps(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((op) => typeof op !== 'string')) {
    throw invalid('"key_ops" is not an array of strings')
  }
  if (new Set(value).size !== value.length) throw invalid('"key_ops" has duplicate values (RFC 7517 §4.3)')
  return Object.freeze([...value] as string[])
}

interface Common {
  kid: string | undefined
  alg: Algorithm | undefined
  use: string | undefined
  keyOps: readonly string[] | undefined
}

function publicMembers(common: Common, members: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...members }
  if (common.kid !== undefined) out.kid = common.kid
  if (common.alg !== undefined) out.alg = common.alg
  if (common.use !== undefined) out.use = common.use
  if (common.keyOps !== undefined) out.key_ops = [...common.keyOps]
  return Object.freeze(out)
}

function fingerprintOf(common: Common, members: Record<string, string>): string {
  return JSON.stringify([
    members,
    common.kid ?? null,
    common.alg ?? null,
    common.use ?? null,
    common.keyOps ?? null,
  ])
}

function importRsa(jwk: Record<string, unknown>, limits: KeyLimits, common: Common): VerificationKey {
  const n = decodeMember(jwk, 'n')
  const e = decodeMember(jwk, 'e')
  // Base64urlUInt is the minimal big-endian encoding (RFC 7518 §2, §6.3.1): no leading zero octet.
  if (n[0] === 0) throw invalid('"n" has a leading zero octet (not minimal)')
  if (e[0] === 0) throw invalid('"e" has a leading zero octet (not minimal)')
  const bits = bitLength(n)
  if (bits < limits.minRsaModulusBits)
    throw invalid(`RSA modulus of ${bits} bits is under ${limits.minRsaModulusBits}`)
  if (bits > limits.maxRsaModulusBits)
    throw invalid(`RSA modulus of ${bits} bits is over ${limits.maxRsaModulusBits}`)
  if (e.length > MAX_RSA_EXPONENT_BYTES) throw invalid('RSA public exponent is too large')
  // e must be odd and at least 3. With e = 1 the "signature" equals the padded message, so anyone can
  // forge one (Wycheproof JWK tcId 9; jose accepted such a key, security catalogue B6).
  const last = e[e.length - 1] as number
  if ((last & 1) === 0) throw invalid('RSA public exponent is even')
  if (e.length === 1 && last < 3) throw invalid('RSA public exponent is below 3')
  const members = { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
  return verificationKey(common, members, { kty: 'RSA', crv: undefined, modulusBytes: n.length, bits })
}

function importEc(jwk: Record<string, unknown>, common: Common): VerificationKey {
  const crv = jwk.crv
  if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') {
    throw invalid(`unsupported EC curve ${JSON.stringify(String(crv).slice(0, 16))}`)
  }
  if (common.alg !== undefined && algorithmSpec(common.alg)?.crv !== crv) {
    throw invalid(`"alg" ${common.alg} does not fit curve ${crv}`)
  }
  const size = CURVES[crv].coordinateBytes
  // Coordinates are full-length octet strings (RFC 7518 §6.2.1.2-3): no dropped leading zeros.
  if (decodeMember(jwk, 'x').length !== size) throw invalid(`"x" is not ${size} octets for ${crv}`)
  if (decodeMember(jwk, 'y').length !== size) throw invalid(`"y" is not ${size} octets for ${crv}`)
  const members = { kty: 'EC', crv, x: jwk.x as string, y: jwk.y as string }
  // node:crypto (OpenSSL) refuses a point that is not on the curve (Wycheproof JWK tcId 22).
  return verificationKey(common, members, {
    kty: 'EC',
    crv,
    modulusBytes: 0,
    bits: crv === 'P-521' ? 521 : size * 8,
  })
}

function importOkp(jwk: Record<string, unknown>, common: Common): VerificationKey {
  const crv = jwk.crv
  if (crv !== 'Ed25519') throw invalid(`unsupported OKP curve ${JSON.stringify(String(crv).slice(0, 16))}`)
  if (decodeMember(jwk, 'x').length !== 32) throw invalid('"x" is not 32 octets for Ed25519')
  const members = { kty: 'OKP', crv, x: jwk.x as string }
  return verificationKey(common, members, { kty: 'OKP', crv, modulusBytes: 0, bits: 256 })
}

/**
 * The imported key, the same for every key type: node:crypto's KeyObject made from exactly the
 * public members (createKey refuses what OpenSSL cannot use), the published JWK and the fingerprint.
 */
function verificationKey(
  common: Common,
  members: Record<string, string>,
  shape: Pick<VerificationKey, 'kty' | 'crv' | 'modulusBytes' | 'bits'>,
): VerificationKey {
  const keyObject = createKey(members)
  return Object.freeze({
    ...common,
    ...shape,
    keyObject,
    publicJwk: publicMembers(common, members),
    fingerprint: fingerprintOf(common, members),
  })
}

function createKey(members: Record<string, string>): KeyObject {
  try {
    return createPublicKey({ key: members, format: 'jwk' })
  } catch {
    throw invalid('node:crypto refused the key material (for EC: the point is not on the curve)')
  }
}
