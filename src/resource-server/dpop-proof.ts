/**
 * DPoP proofs (RFC 9449 §4): a JWS the client signs for each request with the private key whose public
 * half travels in the proof's own header. The checks of RFC 9449 §4.3, except single use (the
 * resource server asks the store) and the nonce value (the resource server knows the current one).
 * Plain data in and out; the JWS work is the verifier's own (compact.ts, header.ts, jwk.ts, signature.ts).
 */
import { JwksBridgeError } from '../errors.js'
import type { AlgorithmSpec } from '../jose/algorithms.js'
import { type CompactToken, decodeHeader, decodePayload, splitCompact } from '../jose/compact.js'
import { checkHeader, normalizeTyp } from '../jose/header.js'
import type { JsonObject } from '../jose/json.js'
import { DEFAULT_KEY_LIMITS, importPublicJwk, type VerificationKey } from '../jose/jwk.js'
import { fits } from '../jose/key-set.js'
import { assertCompactSignature, assertCompactSignatureInPool } from '../jose/signature.js'
import { sha256 } from '../lib/sha256.js'
import { type HtuCache, htuOfString } from './htu.js'
import { jwkThumbprint } from './thumbprint.js'

export interface ProofPolicy {
  /** Asymmetric algorithms a proof may use (exact names; HS* and none do not exist here). */
  algorithms: ReadonlySet<string>
  /** Oldest proof accepted, from its `iat`, in seconds. */
  maxAgeSeconds: number
  /** Leeway for a client clock ahead of or behind ours, in seconds. */
  clockToleranceSeconds: number
  /** Longest proof accepted, in characters. */
  maxProofLength: number
}

export interface ProofRequest {
  /** The request's method, as received. */
  method: string
  /** The `htu` form (`htuOf`) of the URL the client addressed. */
  htu: string
  /** The access token the proof must be bound to (`ath`). */
  accessToken: string
  nowSeconds: number
}

export interface CheckedProof {
  /** RFC 7638 thumbprint of the proof's key: what `cnf.jkt` must equal. */
  jkt: string
  jti: string
  iat: number
  /** The proof's `nonce`, when it has one; the resource server compares it. */
  nonce: string | undefined
}

interface ProofKey {
  spec: AlgorithmSpec
  key: VerificationKey
  jkt: string
}

/** A proof whose structure, header and key passed; its signature and claims are still to check. */
export interface ReadProof {
  compact: CompactToken
  /** The encoded header: the ProofKeyCache's key. */
  segment: string
  proofKey: ProofKey
  /** Whether the key came from the cache. */
  cached: boolean
}

/**
 * Imported proof keys by the proof's encoded header. A client signs every proof with one key, so its
 * header segment (typ, alg, jwk) is the same each time: the header checks, the key import and the
 * thumbprint are done once per client key. Only headers of proofs that verified are kept, so junk
 * cannot fill it; bounded, it starts over when full.
 */
export class ProofKeyCache {
  readonly #entries = new Map<string, ProofKey>()
  constructor(readonly maxEntries = 1000) {}

  get(segment: string): ProofKey | undefined {
    return this.#entries.get(segment)
  }

  set(segment: string, entry: ProofKey): void {
    if (this.#entries.size >= this.maxEntries) this.#entries.clear()
    this.#entries.set(segment, entry)
  }

  get size(): number {
    return this.#entries.size
  }
}

export function proofInvalid(reason: string, claim?: string, cause?: unknown): JwksBridgeError {
  return new JwksBridgeError('ERR_DPOP_PROOF_INVALID', `the DPoP proof is not valid: ${reason}`, {
    reason,
    ...(claim === undefined ? {} : { claim }),
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII octets. A token is ASCII
 * (b64token); for any other string the UTF-8 octets are hashed, never a lossy 'ascii' encoding, which
 * keeps one byte of each character and gives two different strings the same hash.
 */
export function accessTokenHash(accessToken: string): string {
  return sha256(accessToken, 'base64url')
}

/**
 * Checks a DPoP proof for one request. Throws ERR_DPOP_PROOF_INVALID with a `reason` naming the rule
 * (the message never contains the proof). Does not check single use or the nonce value.
 */
export function checkDpopProof(
  proof: string,
  request: ProofRequest,
  policy: ProofPolicy,
  cache?: ProofKeyCache,
  htus?: HtuCache,
): CheckedProof {
  return verifyDpopProof(readDpopProof(proof, policy, cache), request, policy, cache, htus)
}

/** The rest of `checkDpopProof` for a proof `readDpopProof` has read: signature, then claims. */
export function verifyDpopProof(
  read: ReadProof,
  request: ProofRequest,
  policy: ProofPolicy,
  cache?: ProofKeyCache,
  htus?: HtuCache,
): CheckedProof {
  let failure: unknown
  try {
    assertCompactSignature(read.compact, read.proofKey.spec, read.proofKey.key)
  } catch (error) {
    failure = error
  }
  return acceptDpopProof(read, failure, request, policy, cache, htus)
}

/**
 * `verifyDpopProof` with the signature checked on libuv's thread pool (`crypto.verify` with a
 * callback): the event loop serves other requests meanwhile. `request` is asked for once the
 * signature has been checked, so that its clock is read then.
 */
export async function verifyDpopProofInPool(
  read: ReadProof,
  request: () => ProofRequest,
  policy: ProofPolicy,
  cache?: ProofKeyCache,
  htus?: HtuCache,
): Promise<CheckedProof> {
  let failure: unknown
  try {
    await assertCompactSignatureInPool(read.compact, read.proofKey.spec, read.proofKey.key)
  } catch (error) {
    failure = error
  }
  return acceptDpopProof(read, failure, request(), policy, cache, htus)
}

/** The first half of the checks, before the signature: structure, header, key (or the cached key). */
export function readDpopProof(proof: string, policy: ProofPolicy, cache?: ProofKeyCache): ReadProof {
  let compact: CompactToken
  try {
    // RFC 9449 §4.3 check 2: a well-formed JWS, under every rule the verifier applies to tokens.
    compact = splitCompact(proof, policy.maxProofLength)
  } catch (error) {
    throw proofInvalid('it is not a compact JWS', undefined, error)
  }
  const segment = proof.slice(0, compact.firstDot)
  const known = cache?.get(segment)
  return { compact, segment, proofKey: known ?? readProofKey(compact, policy), cached: known !== undefined }
}

/**
 * The second half, once the signature has been checked (`signatureFailure`: what refused it, or
 * undefined): the claims, and only then is the key remembered.
 */
function acceptDpopProof(
  read: ReadProof,
  signatureFailure: unknown,
  request: ProofRequest,
  policy: ProofPolicy,
  cache: ProofKeyCache | undefined,
  htus: HtuCache | undefined,
): CheckedProof {
  // RFC 9449 §4.3 check 6: the signature verifies with the public key in the header.
  if (signatureFailure !== undefined) {
    throw proofInvalid('its signature does not verify with its own "jwk"', undefined, signatureFailure)
  }
  let claims: JsonObject
  try {
    claims = decodePayload(read.compact)
  } catch (error) {
    throw proofInvalid('its payload is not a JSON object', undefined, error)
  }
  const checked = checkClaims(claims, request, policy, read.proofKey.jkt, htus)
  if (!read.cached) cache?.set(read.segment, read.proofKey)
  return checked
}

function readProofKey(compact: CompactToken, policy: ProofPolicy): ProofKey {
  let header: JsonObject
  let spec: AlgorithmSpec
  try {
    header = decodeHeader(compact)
    // RFC 9449 §4.3 check 5: an asymmetric algorithm from the allowlist (never none or a MAC: there is
    // no code path for them); `crit` per RFC 7515 with no extension understood.
    spec = checkHeader(header, { algorithms: policy.algorithms, criticalHeaders: new Set() })
  } catch (error) {
    const reason = error instanceof JwksBridgeError ? error.message : 'its header cannot be read'
    throw proofInvalid(reason, error instanceof JwksBridgeError ? error.claim : undefined, error)
  }
  // RFC 9449 §4.3 check 4: typ is dpop+jwt. Explicit typing keeps an access token or ID token, signed
  // by a client key, from passing for a proof (RFC 8725 §3.11).
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== 'dpop+jwt') {
    throw proofInvalid('its "typ" is not dpop+jwt', 'typ')
  }
  const jwk = header.jwk
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw proofInvalid('its header has no "jwk" object', 'jwk')
  }
  let key: VerificationKey
  try {
    // RFC 9449 §4.3 check 7: the key is public (private members refused), and it passes the rules of
    // any key set key: no symmetric key, RSA of at least 2048 bits with a sane exponent, EC on its curve.
    key = importPublicJwk(jwk, DEFAULT_KEY_LIMITS)
  } catch (error) {
    const reason = error instanceof JwksBridgeError ? error.message : 'its "jwk" cannot be imported'
    throw proofInvalid(reason, 'jwk', error)
  }
  // One key, one algorithm (RFC 8725 §3.1): the key's type, curve, alg, use and key_ops fit `alg`.
  if (!fits(key, spec)) throw proofInvalid(`its "jwk" does not fit ${spec.name}`, 'jwk')
  return { spec, key, jkt: jwkThumbprint(key) }
}

function stringClaim(claims: JsonObject, name: string, max: number): string {
  const value = claims[name]
  if (typeof value !== 'string' || value.length === 0) throw proofInvalid(`"${name}" is missing`, name)
  if (value.length > max) throw proofInvalid(`"${name}" is longer than ${max} characters`, name)
  return value
}

function checkClaims(
  claims: JsonObject,
  request: ProofRequest,
  policy: ProofPolicy,
  jkt: string,
  htus: HtuCache | undefined,
): CheckedProof {
  // RFC 9449 §4.2: jti, htm, htu and iat are required; ath when an access token is presented.
  const jti = stringClaim(claims, 'jti', 256)
  // RFC 9449 §4.3 check 8: the method of this request, exactly (methods are case-sensitive, RFC 9110 §9.1).
  if (stringClaim(claims, 'htm', 32) !== request.method) {
    throw proofInvalid('"htm" is not the method of this request', 'htm')
  }
  const htu = stringClaim(claims, 'htu', 8192)
  const proofHtu = htus === undefined ? htuOfString(htu) : htus.of(htu)
  if (proofHtu === undefined) throw proofInvalid('"htu" is not an absolute URL', 'htu')
  // RFC 9449 §4.3 check 9: the URL of this request, query and fragment ignored. A proof captured for
  // one endpoint cannot be replayed to another.
  if (proofHtu !== request.htu) throw proofInvalid('"htu" is not the URL of this request', 'htu')
  const iat = claims.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw proofInvalid('"iat" is missing', 'iat')
  // RFC 9449 §4.3 check 11, §11.1: a proof is fresh. Its age bounds how long its jti must be remembered.
  if (request.nowSeconds - iat > policy.maxAgeSeconds + policy.clockToleranceSeconds) {
    throw proofInvalid('"iat" is too old', 'iat')
  }
  if (iat - request.nowSeconds > policy.clockToleranceSeconds)
    throw proofInvalid('"iat" is in the future', 'iat')
  // RFC 9449 §4.3 check 12: the proof is bound to the access token presented with it, so a proof
  // made for one token (say, by a client holding several) cannot go with another.
  const ath = claims.ath
  if (typeof ath !== 'string') throw proofInvalid('"ath" is missing', 'ath')
  if (ath !== accessTokenHash(request.accessToken)) {
    throw proofInvalid('"ath" is not the hash of the access token', 'ath')
  }
  const nonce = claims.nonce
  if (nonce !== undefined && typeof nonce !== 'string') throw proofInvalid('"nonce" is not a string', 'nonce')
  return { jkt, jti, iat, nonce }
}
