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
  const call = verifyCall(spec, key, signature)
  return typeof call !== 'string' && verify(call.algorithm, data, call.key, signature)
}

/**
 * The same check with OpenSSL's work on libuv's thread pool (`crypto.verify` with a callback), so the
 * event loop is free meanwhile. `data` and `signature` must stay unchanged until it settles: never
 * pass scratch buffers.
 */
export function verifySignatureInPool(
  spec: AlgorithmSpec,
  key: VerificationKey,
  data: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const call = verifyCall(spec, key, signature)
  if (typeof call === 'string') return Promise.resolve(false)
  return new Promise((resolve) => {
    verify(call.algorithm, data, call.key, signature, (error, valid) => resolve(error === null && valid))
  })
}

type VerifyKeyInput = Parameters<typeof verify>[2]

/** Which JOSE encoding rule refused a signature before any crypto. */
export type SignatureRefusal = 'length' | 'ecdsa-scalar-range'

/** The arguments for crypto.verify, once the JOSE rules let the signature through. */
export interface VerifyArguments {
  algorithm: string | null
  key: VerifyKeyInput
}

/**
 * The JOSE rules, then the arguments for crypto.verify; the rule that refused the signature otherwise.
 * Exported for its tests: OpenSSL 3 refuses most of what these rules refuse, so a test that only
 * looks at the final answer cannot tell whether a rule is still here.
 */
export function verifyCall(
  spec: AlgorithmSpec,
  key: VerificationKey,
  signature: Buffer,
): VerifyArguments | SignatureRefusal {
  switch (spec.family) {
    case 'rsa-pkcs1':
      if (signature.length !== key.modulusBytes) return 'length'
      return { algorithm: spec.hash, key: key.keyObject }
    case 'rsa-pss':
      if (signature.length !== key.modulusBytes) return 'length'
      return {
        algorithm: spec.hash,
        key: { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes },
      }
    case 'ecdsa': {
      if (signature.length !== spec.signatureBytes) return 'length'
      const half = spec.signatureBytes / 2
      const { order } = CURVES[spec.crv as keyof typeof CURVES]
      // 1 <= r, s <= n-1 (FIPS 186-4 §6.4.2 step 1): r = s = 0 verified against any message in Java's
      // own ECDSA ("psychic signatures", CVE-2022-21449); checked here rather than left to OpenSSL.
      if (!inRange(signature, 0, half, order) || !inRange(signature, half, half * 2, order)) {
        return 'ecdsa-scalar-range'
      }
      return { algorithm: spec.hash, key: { key: key.keyObject, dsaEncoding: 'ieee-p1363' } }
    }
    case 'eddsa':
      if (signature.length !== 64) return 'length'
      return { algorithm: null, key: key.keyObject }
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

/** `assertCompactSignature` with OpenSSL's work on the thread pool (the buffers are the token's own copies). */
export async function assertCompactSignatureInPool(
  compact: CompactToken,
  spec: AlgorithmSpec,
  key: VerificationKey,
): Promise<void> {
  let valid: boolean
  try {
    const data = Buffer.from(compact.token.slice(0, compact.secondDot), 'latin1')
    const signature = Buffer.from(compact.token.slice(compact.secondDot + 1), 'base64url')
    valid = await verifySignatureInPool(spec, key, data, signature)
  } catch {
    valid = false
  }
  if (!valid) throw new JwksBridgeError('ERR_SIGNATURE_INVALID', 'the signature does not verify')
}
