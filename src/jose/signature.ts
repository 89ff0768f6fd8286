import { constants, verify } from 'node:crypto'
import { JwksBridgeError } from '../errors.js'
import type { AlgorithmSpec } from './algorithms.js'
import { CURVES } from './algorithms.js'
import { type CompactToken, signatureBytes, signingInput } from './compact.js'
import type { VerificationKey } from './jwk.js'

/**
 * Checks a JWS signature with node:crypto (OpenSSL). The cryptography is OpenSSL's; what this
 * function adds are the JOSE encoding rules that OpenSSL cannot know, checked before any crypto:
 * - RSA: the signature is exactly as long as the modulus (RFC 8017 §8.2.2, §8.1.2 step 1);
 * - RSA-PSS: the salt is exactly the hash length (RFC 7518 §3.5), MGF1 with the same hash;
 * - ECDSA: exactly R||S of the curve's size, never DER (RFC 7518 §3.4), and 1 <= r, s <= n-1
 *   ("psychic signatures", CVE-2022-21449);
 * - EdDSA: exactly 64 bytes.
 * The caller has already checked that `key` fits `spec` (KeySet.select).
 */
export function verifySignature(
  spec: AlgorithmSpec,
  key: VerificationKey,
  data: Buffer,
  signature: Buffer,
): boolean {
  switch (spec.family) {
    case 'rsa-pkcs1':
      if (signature.length !== key.modulusBytes) return false
      return verify(spec.hash, data, key.keyObject, signature)
    case 'rsa-pss':
      if (signature.length !== key.modulusBytes) return false
      return verify(
        spec.hash,
        data,
        { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes },
        signature,
      )
    case 'ecdsa': {
      if (signature.length !== spec.signatureBytes) return false
      const half = spec.signatureBytes / 2
      const { order } = CURVES[spec.crv as keyof typeof CURVES]
      if (!inRange(signature, 0, half, order) || !inRange(signature, half, half * 2, order)) return false
      return verify(spec.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, signature)
    }
    case 'eddsa':
      if (signature.length !== 64) return false
      return verify(null, data, key.keyObject, signature)
  }
}

/** True when the big-endian integer bytes[start, end) is in 1..order-1. */
function inRange(bytes: Buffer, start: number, end: number, order: Buffer): boolean {
  let zero = true
  for (let i = start; i < end; i++) {
    if (bytes[i] !== 0) {
      zero = false
      break
    }
  }
  if (zero) return false
  return Buffer.compare(bytes.subarray(start, end), order) < 0
}

/** Checks a compact token's signature; throws ERR_SIGNATURE_INVALID when it does not verify. */
export function assertCompactSignature(
  compact: CompactToken,
  spec: AlgorithmSpec,
  key: VerificationKey,
): void {
  let valid: boolean
  try {
    valid = verifySignature(spec, key, signingInput(compact), signatureBytes(compact))
  } catch {
    valid = false
  }
  if (!valid) throw new JwksBridgeError('ERR_SIGNATURE_INVALID', 'the signature does not verify')
}
