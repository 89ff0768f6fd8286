// Signature-encoding mutations: the same signing input with a signature that is re-encoded,
// malleated or malformed at the byte level (then spelled canonically, so that only the bytes differ).
import { sign as cryptoSign, type KeyObject } from 'node:crypto'
import { algKind } from './builder.ts'
import type { CorpusAlg } from './keys.ts'

const ORDER: Record<'ES256' | 'ES384', bigint> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
}
// Order of the Ed25519 group (RFC 8032 §5.1): S must be below it.
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n

const toBig = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`)
const fromBig = (value: bigint, length: number): Buffer =>
  Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex')

export interface SignatureVariant {
  kind: string
  signature: Buffer
  /** Both libraries must accept it (high-S ECDSA is a valid signature). */
  expectValid?: boolean
}

/** Variants of a valid signature `sig` over `input` for `alg`. */
export function signatureVariants(
  alg: CorpusAlg,
  key: KeyObject,
  input: string,
  sig: Buffer,
): SignatureVariant[] {
  const kind = algKind(alg)
  if (kind === 'ecdsa') {
    const ecAlg = alg as 'ES256' | 'ES384'
    const n = ORDER[ecAlg]
    const half = sig.length / 2
    const r = sig.subarray(0, half)
    const s = toBig(sig.subarray(half))
    const hash = ecAlg === 'ES256' ? 'sha256' : 'sha384'
    return [
      { kind: 'ecdsa-high-s', signature: Buffer.concat([r, fromBig(n - s, half)]), expectValid: true },
      { kind: 'ecdsa-der', signature: cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'der' }) },
      { kind: 'ecdsa-zero', signature: Buffer.alloc(sig.length) },
      { kind: 'ecdsa-r-equals-n', signature: Buffer.concat([fromBig(n, half), sig.subarray(half)]) },
      { kind: 'ecdsa-s-plus-n', signature: Buffer.concat([r, fromBig(s + n, half + 1)]) },
      { kind: 'ecdsa-short', signature: sig.subarray(0, sig.length - 1) },
      { kind: 'ecdsa-long', signature: Buffer.concat([sig, Buffer.from([0])]) },
    ]
  }
  if (kind === 'eddsa') {
    const sLittle = Buffer.from(sig.subarray(32)).reverse()
    const bigS = Buffer.from(fromBig(toBig(sLittle) + ED25519_L, 32)).reverse()
    return [
      { kind: 'eddsa-s-plus-l', signature: Buffer.concat([sig.subarray(0, 32), bigS]) },
      { kind: 'eddsa-zero', signature: Buffer.alloc(64) },
      { kind: 'eddsa-short', signature: sig.subarray(0, 63) },
    ]
  }
  return [
    // The last byte dropped, not the first: a PS256 signature starts with 0x00 once in 256, and without
    // that byte it is the same integer, which WebCrypto (jose) accepts and the exact-length rule refuses:
    // a disagreement by chance in one run of 256 (a flaky test), not a rule the corpus means to show.
    { kind: 'rsa-short', signature: sig.subarray(0, sig.length - 1) },
    { kind: 'rsa-leading-zero', signature: Buffer.concat([Buffer.from([0]), sig]) },
    { kind: 'rsa-zero', signature: Buffer.alloc(sig.length) },
    { kind: 'rsa-one', signature: fromBig(1n, sig.length) },
  ]
}
