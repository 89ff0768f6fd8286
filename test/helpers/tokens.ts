// Test helpers: real keys from node:crypto and real signatures, so that every test exercises the
// same OpenSSL path users get. Nothing here is mocked.
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'

export type TestAlg =
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

export interface TestKey {
  alg: TestAlg
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** Public JWK with kid, alg and use. */
  jwk: Record<string, unknown>
}

const keyCache = new Map<string, TestKey>()

export function makeKey(alg: TestAlg, kid = `${alg}-key`, modulusLength = 2048): TestKey {
  const cacheKey = `${alg}|${kid}|${modulusLength}`
  const cached = keyCache.get(cacheKey)
  if (cached) return cached
  let pair: { privateKey: KeyObject; publicKey: KeyObject }
  if (alg.startsWith('RS') || alg.startsWith('PS')) pair = generateKeyPairSync('rsa', { modulusLength })
  else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  else if (alg === 'ES384') pair = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  else if (alg === 'ES512') pair = generateKeyPairSync('ec', { namedCurve: 'P-521' })
  else pair = generateKeyPairSync('ed25519')
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }
  const key = { alg, kid, ...pair, jwk }
  keyCache.set(cacheKey, key)
  return key
}

export const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url')

const HASH: Record<string, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
  Ed25519: null,
}

/** Signs `signingInput` (header.payload, already encoded) with the algorithm `alg` and returns base64url. */
export function signRaw(alg: TestAlg, privateKey: KeyObject, signingInput: string): string {
  const data = Buffer.from(signingInput)
  const hash = HASH[alg] ?? null
  let sig: Buffer
  if (alg.startsWith('PS')) {
    const saltLength = hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64
    sig = sign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
  } else if (alg.startsWith('ES')) {
    sig = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  } else {
    sig = sign(hash, data, privateKey)
  }
  return b64u(sig)
}

/** Builds a signed compact token from raw JSON text (so tests can write duplicates, BOMs, odd bytes). */
export function signText(
  key: TestKey,
  headerText: string | Uint8Array,
  payloadText: string | Uint8Array,
  alg: TestAlg = key.alg,
): string {
  const input = `${b64u(headerText)}.${b64u(payloadText)}`
  return `${input}.${signRaw(alg, key.privateKey, input)}`
}

export const ISSUER = 'https://issuer.example.com'
export const NOW_SECONDS = 1_800_000_000

/** A valid token for `key`: header { alg, typ, kid } and iss/sub/iat/exp, plus `claims`. */
export function signToken(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  const h = { alg: key.alg, typ: 'JWT', kid: key.kid, ...header }
  const p = { iss: ISSUER, sub: 'user-1', iat: NOW_SECONDS - 10, exp: NOW_SECONDS + 600, ...claims }
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete (h as Record<string, unknown>)[k]
  for (const [k, v] of Object.entries(p)) if (v === undefined) delete (p as Record<string, unknown>)[k]
  return signText(key, JSON.stringify(h), JSON.stringify(p), key.alg)
}

export const fixedClock =
  (seconds = NOW_SECONDS) =>
  () =>
    seconds * 1000
