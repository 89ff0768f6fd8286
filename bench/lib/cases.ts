// The verifiers under comparison, each set up the way its documentation recommends for a key set
// held in memory, with the same checks: signature, allowed algorithm, issuer, audience, exp/nbf.
import { verify as cryptoVerify } from 'node:crypto'
import { createVerifier as createFastJwtVerifier } from 'fast-jwt'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { createVerifier } from 'jwks-bridge'
import { AUDIENCE, type BenchAlg, type Fixture, ISSUER, SUBJECT } from './fixtures.js'
import type { BenchCase } from './measure.js'

export interface CaseSpec {
  id: string
  label: string
  /** Sets the case up for one fixture; undefined when the library cannot verify that algorithm. */
  build(fixture: Fixture): BenchCase | undefined
  /** Whether one call's result shows that the token really was verified. */
  accept(result: unknown): boolean
  /** Shown instead of figures when `build` returns undefined. */
  missing?: string
}

const hasSubject = (payload: unknown): boolean =>
  typeof payload === 'object' && payload !== null && (payload as { sub?: unknown }).sub === SUBJECT

const payloadHasSubject = (result: unknown): boolean => hasSubject((result as { payload?: unknown }).payload)

/** OpenSSL alone: pre-imported KeyObject, pre-made Buffers and options, no parsing, no claims. */
function bare(f: Fixture): BenchCase {
  const { signingInput, signature, publicKey } = f
  let run: () => boolean
  if (f.alg === 'RS256') run = () => cryptoVerify('sha256', signingInput, publicKey, signature)
  else if (f.alg === 'ES256') {
    const key = { key: publicKey, dsaEncoding: 'ieee-p1363' as const }
    run = () => cryptoVerify('sha256', signingInput, key, signature)
  } else run = () => cryptoVerify(null, signingInput, publicKey, signature)
  return { id: 'bare', async: false, run }
}

function jwksBridge(f: Fixture, cached: boolean): BenchCase {
  const verifier = createVerifier({
    issuer: ISSUER,
    jwks: f.jwks,
    algorithms: [f.alg],
    audience: AUDIENCE,
    ...(cached ? {} : { tokenCache: false as const }),
  })
  const { token } = f
  return { id: cached ? 'jwks-bridge-hit' : 'jwks-bridge', async: true, run: () => verifier.verify(token) }
}

function jose(f: Fixture): BenchCase {
  const keySet = createLocalJWKSet(f.jwks as JSONWebKeySet)
  const options = { issuer: ISSUER, audience: AUDIENCE, algorithms: [f.alg], requiredClaims: ['exp'] }
  const { token } = f
  return { id: 'jose', async: true, run: () => jwtVerify(token, keySet, options) }
}

function fastJwt(f: Fixture, cached: boolean): BenchCase {
  // The PEM of the token's key, given directly: fast-jwt's synchronous path, its fastest. A key
  // function (to pick the key by kid from a set) would make every call asynchronous.
  const verify = createFastJwtVerifier({
    key: f.publicPem,
    algorithms: [f.alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp'],
    ...(cached ? { cache: true } : {}),
  })
  const { token } = f
  return { id: cached ? 'fast-jwt-hit' : 'fast-jwt', async: false, run: () => verify(token) }
}

function jsonWebToken(f: Fixture): BenchCase | undefined {
  // jsonwebtoken 9 verifies through jwa, which has no EdDSA.
  if (f.alg === 'EdDSA') return undefined
  const options = { algorithms: [f.alg as Exclude<BenchAlg, 'EdDSA'>], issuer: ISSUER, audience: AUDIENCE }
  const { token, publicKey } = f
  return { id: 'jsonwebtoken', async: false, run: () => jsonwebtoken.verify(token, publicKey, options) }
}

export const CASES: readonly CaseSpec[] = [
  { id: 'bare', label: 'bare `crypto.verify` (limit)', build: bare, accept: (r) => r === true },
  {
    id: 'jwks-bridge',
    label: 'jwks-bridge, token cache off',
    build: (f) => jwksBridge(f, false),
    accept: payloadHasSubject,
  },
  {
    id: 'jwks-bridge-hit',
    label: 'jwks-bridge, cache hit',
    build: (f) => jwksBridge(f, true),
    accept: payloadHasSubject,
  },
  { id: 'jose', label: 'jose `jwtVerify`, local JWKS', build: jose, accept: payloadHasSubject },
  { id: 'fast-jwt', label: 'fast-jwt, no cache', build: (f) => fastJwt(f, false), accept: hasSubject },
  { id: 'fast-jwt-hit', label: 'fast-jwt, cache hit', build: (f) => fastJwt(f, true), accept: hasSubject },
  {
    id: 'jsonwebtoken',
    label: 'jsonwebtoken `verify`',
    build: jsonWebToken,
    accept: hasSubject,
    missing: 'no EdDSA',
  },
]
