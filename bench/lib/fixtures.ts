// Keys, key sets and tokens for the verifier benchmark. Everything is real: keys come from
// node:crypto and tokens are signed with them, exactly as a provider would sign them.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'

export const BENCH_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const
export type BenchAlg = (typeof BENCH_ALGORITHMS)[number]

export const ISSUER = 'https://auth.bench.example.com/'
export const AUDIENCE = 'https://api.bench.example.com'
export const SUBJECT = 'auth0|6561e4c7a1b2c3d4e5f60718'

export interface Fixture {
  alg: BenchAlg
  /** The public key set, three keys like a provider in mid-rotation (previous, current, next). */
  jwks: { keys: Record<string, unknown>[] }
  /** The verifying key of `token`, as a pre-imported KeyObject and as SPKI PEM. */
  publicKey: KeyObject
  publicPem: string
  /** One valid token, signed with the middle key of `jwks`. */
  token: string
  /** `token` split for a bare crypto.verify: the ASCII signing input and the raw signature bytes. */
  signingInput: Buffer
  signature: Buffer
}

function keyPair(alg: BenchAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 })
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return generateKeyPairSync('ed25519')
}

/** The JWS signature of `input` (RFC 7518 §3.3, §3.4 R||S, RFC 8037 §3.1). */
function signInput(alg: BenchAlg, privateKey: KeyObject, input: string): Buffer {
  const data = Buffer.from(input, 'latin1')
  if (alg === 'RS256') return sign('sha256', data, privateKey)
  if (alg === 'ES256') return sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return sign(null, data, privateKey)
}

const b64u = (text: string): string => Buffer.from(text).toString('base64url')

/**
 * A token shaped like an OIDC ID token or access token from a hosted provider: kid and typ in the
 * header, the usual registered claims and a handful of profile claims. Valid for an hour from now,
 * so that every library checks it against the real clock.
 */
function claims(nowSeconds: number): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: SUBJECT,
    aud: [AUDIENCE, 'https://auth.bench.example.com/userinfo'],
    iat: nowSeconds - 5,
    nbf: nowSeconds - 5,
    exp: nowSeconds + 3600,
    azp: 'k3Jd93hfQ0aPz8s1VbW2',
    scope: 'openid profile email read:orders',
    email: 'ada.lovelace@example.com',
    email_verified: true,
    name: 'Ada Lovelace',
    sid: '1f7e4c52-93b0-4d5e-8a1c-2b6f0d9e3a71',
    jti: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
    auth_time: nowSeconds - 60,
  }
}

export function makeFixture(alg: BenchAlg, nowSeconds = Math.floor(Date.now() / 1000)): Fixture {
  const pairs = [keyPair(alg), keyPair(alg), keyPair(alg)]
  const kids = ['2024-09-rotated', '2025-03-current', '2025-09-next'].map((k) => `${alg.toLowerCase()}-${k}`)
  const jwks = {
    keys: pairs.map((pair, i) => ({
      ...pair.publicKey.export({ format: 'jwk' }),
      kid: kids[i],
      alg,
      use: 'sig',
    })),
  }
  const signer = pairs[1]!
  const header = { alg, typ: 'JWT', kid: kids[1] }
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims(nowSeconds)))}`
  const signature = signInput(alg, signer.privateKey, input)
  return {
    alg,
    jwks,
    publicKey: signer.publicKey,
    publicPem: signer.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    token: `${input}.${signature.toString('base64url')}`,
    signingInput: Buffer.from(input, 'latin1'),
    signature,
  }
}
