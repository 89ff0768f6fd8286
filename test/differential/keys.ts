// Keys and key sets shared by both verifiers of the differential test. Real keys from node:crypto;
// the "weak" set adds two RSA keys that jwks-bridge refuses at import (e=1, 1024 bits).
import { createHash, createHmac, type KeyObject } from 'node:crypto'
import { makeKey, signRaw, type TestAlg, type TestKey } from '../helpers/tokens.ts'

/** The algorithms both verifiers allow (`algorithms` option of each). */
export const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'] as const

/** The algorithms the corpus is generated for (Ed25519 appears as an `alg` rename of EdDSA). */
export const CORPUS_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const
export type CorpusAlg = (typeof CORPUS_ALGS)[number]

export const AUDIENCE = 'api'
/** The `crit` extension both verifiers are told they understand. */
export const UNDERSTOOD_CRIT = 'x-ext'
/**
 * Also declared understood by both: a name every plain object inherits. `crit` lists it without the
 * header having it; only an own-member check (RFC 7515 §4.1.11 "present") refuses that.
 */
export const INHERITED_CRIT = 'toString'
/** The `typ` the "typ" context requires. */
export const REQUIRED_TYP = 'at+jwt'

export type ContextName = 'main' | 'weak' | 'typ'

export interface Keys {
  /** The key that signs tokens of each corpus algorithm. */
  signer: Record<CorpusAlg, TestKey>
  /** An RSA key pair outside every set (the "attacker"). */
  attacker: TestKey
  /** A 1024-bit RSA key published in the weak set. */
  rsa1024: TestKey
  /** Modulus length of the e=1 key, in bytes (it reuses the RS256 key's modulus). */
  e1ModulusBytes: number
  /** PEM of the RS256 public key: the classic HS256 "public key as secret" confusion. */
  rsaPublicPem: string
  jwks: Record<ContextName, { keys: Record<string, unknown>[] }>
}

/** Public JWK without `alg`: the key may then verify any algorithm of its type and curve. */
function withoutAlg(key: TestKey): Record<string, unknown> {
  const { alg: _alg, ...rest } = key.jwk
  return rest
}

export function buildKeys(): Keys {
  const rs = makeKey('RS256', 'rs')
  const ps = makeKey('PS256', 'ps')
  const es256 = makeKey('ES256', 'es256')
  const es384 = makeKey('ES384', 'es384')
  const ed = makeKey('EdDSA', 'ed')
  const attacker = makeKey('RS256', 'attacker')
  const rsa1024 = makeKey('RS256', 'rs-1024', 1024)
  const n = rs.jwk.n as string
  // Every RSA and EC key carries `alg`, so that a kid-less token has exactly one candidate in
  // both libraries; the P-384 and Ed25519 keys have none (curve alone decides, and `Ed25519` and
  // `EdDSA` both fit).
  const main = [rs.jwk, ps.jwk, es256.jwk, withoutAlg(es384), withoutAlg(ed)]
  const weak = [...main, { kty: 'RSA', n, e: 'AQ', kid: 'rs-e1', alg: 'RS256', use: 'sig' }, rsa1024.jwk]
  return {
    signer: { RS256: rs, PS256: ps, ES256: es256, ES384: es384, EdDSA: ed },
    attacker,
    rsa1024,
    e1ModulusBytes: Buffer.from(n, 'base64url').length,
    rsaPublicPem: rs.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    jwks: { main: { keys: main }, weak: { keys: weak }, typ: { keys: main } },
  }
}

/** The kids that jwks-bridge refuses at import in the weak set. */
export const WEAK_KIDS: ReadonlySet<string> = new Set(['rs-e1', 'rs-1024'])

export function sign(alg: TestAlg, privateKey: KeyObject, signingInput: string): string {
  return signRaw(alg, privateKey, signingInput)
}

export function hmacSign(secret: string, signingInput: string): string {
  return createHmac('sha256', secret).update(signingInput).digest('base64url')
}

// DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex')

/**
 * The RS256 "signature" for an RSA key with e=1: s^1 mod n = s, so the signature is the
 * EMSA-PKCS1-v1_5 encoded message itself, which anyone can compute (Wycheproof JWK tcId 9).
 */
export function forgeE1Signature(modulusBytes: number, signingInput: string): string {
  const t = Buffer.concat([SHA256_DIGEST_INFO, createHash('sha256').update(signingInput).digest()])
  const padding = Buffer.alloc(modulusBytes - t.length - 3, 0xff)
  return Buffer.concat([Buffer.from([0, 1]), padding, Buffer.from([0]), t]).toString('base64url')
}
