/**
 * The resource server: the verifier on an API's hot path. Reads the credentials of a request, verifies
 * the access token (RFC 9068) and, with DPoP, its proof (RFC 9449), checks scopes, and answers
 * refusals with RFC 6750 / RFC 9449 challenges. No HTTP framework: the adapters translate.
 */
import { JwksBridgeError } from '../errors.js'
import type { JwtPayload } from '../jose/claims.js'
import type { VerifiedJwt } from '../jose/verify-jwt.js'
import { sha256 } from '../lib/sha256.js'
import { signaturePool } from '../verifier/signature-pool.js'
import { createVerifier, type Verifier } from '../verifier/verifier.js'
import { checkAccessToken, checkScopes, scopesOf } from './access-token.js'
import {
  invalidRequest,
  type PresentedCredentials,
  type RequestHeaders,
  readCredentials,
  refuseOtherTokenMethods,
  searchOf,
} from './authorization-header.js'
import { buildChallenge, type ChallengeAnswer, type ChallengeConfig } from './challenge.js'
import {
  type CheckedProof,
  ProofKeyCache,
  type ProofPolicy,
  type ProofRequest,
  readDpopProof,
  verifyDpopProof,
  verifyDpopProofInPool,
} from './dpop-proof.js'
import { HtuCache, htuOf, pathIsNormalized } from './htu.js'
import { MemoryReplayStore } from './memory-replay-store.js'
import { buildMetadata, metadataUrlFor, type ProtectedResourceMetadata } from './metadata.js'
import { DpopNonces } from './nonce.js'
import { type ReplayStore, type ResourceServerOptions, resolveResourceServerOptions } from './options.js'

/** A request as plain data. */
export interface AccessTokenRequest {
  method: string
  /** The absolute URL the client addressed (scheme, host and path as the client wrote them). */
  url: string | URL
  headers: RequestHeaders
  /** The parsed body, when the framework has parsed one: a token in it is refused (RFC 6750 §2). */
  body?: unknown
}

/** A request that passed: who it is for, what it may do, and how the token was presented. */
export interface AccessTokenAuth {
  /** The access token's claims, verified (frozen). */
  payload: JwtPayload
  /** The token's scopes (frozen). */
  scopes: readonly string[]
  scheme: 'Bearer' | 'DPoP'
  /** DPoP: the thumbprint of the key the token is bound to (`cnf.jkt`). */
  jkt?: string
  /** With server nonces: a fresher nonce to send back in a `DPoP-Nonce` header (RFC 9449 §8.2). */
  dpopNonce?: string
}

export interface AuthenticateOptions {
  /** Scopes this route needs, in addition to the resource server's own. */
  scopes?: readonly string[]
}

export interface ChallengeOptions {
  /** The scopes the refused route needed (default: those of the refused `authenticate` call). */
  scopes?: readonly string[]
}

export interface ResourceServer {
  /**
   * Authenticates one request. Resolves when its access token (and DPoP proof) pass every rule;
   * rejects with a `JwksBridgeError` whose `code` names the rule; `challenge(error)` gives the answer.
   */
  authenticate(request: AccessTokenRequest, options?: AuthenticateOptions): Promise<AccessTokenAuth>
  /** The status and headers (`WWW-Authenticate`, `DPoP-Nonce`) of the answer to a refused request. */
  challenge(error: unknown, options?: ChallengeOptions): ChallengeAnswer
  /** The RFC 9728 Protected Resource Metadata document. */
  metadata(): ProtectedResourceMetadata
  /** The resource identifier, as configured. */
  readonly resource: string
  /** Where the metadata is published (RFC 9728 §3.1), and its path (for routing). */
  readonly metadataUrl: string
  readonly metadataPath: string
  /** The verifier underneath (key sets, stats). */
  readonly verifier: Verifier
  /** Loads the remote key sets now. */
  ready(): Promise<void>
  close(): void
}

// What challenge() needs to know about an error that authenticate() raised.
interface Refusal {
  scheme: 'Bearer' | 'DPoP' | undefined
  scopes: readonly string[]
}

/**
 * Creates a resource server for one API.
 *
 * @example
 * const api = createResourceServer({
 *   resource: 'https://api.example.com',
 *   issuer: 'https://auth.example.com/',
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   dpop: 'allowed',
 *   scopes: ['read:things'],
 * })
 * try {
 *   const { payload, scopes } = await api.authenticate({ method, url, headers })
 * } catch (error) {
 *   const { status, headers } = api.challenge(error)
 * }
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const config = resolveResourceServerOptions(options)
  const verifier = createVerifier(config.verifierOptions)
  const { nowMs, dpop, scopes: baseScopes } = config
  const replayStore: ReplayStore = config.replayStore ?? new MemoryReplayStore(nowMs)
  const nonces =
    config.dpopNonce === undefined
      ? undefined
      : new DpopNonces(config.dpopNonce.secret, config.dpopNonce.lifetimeSeconds, nowMs)
  const proofPolicy: ProofPolicy = {
    algorithms: new Set(config.dpopAlgorithms),
    maxAgeSeconds: config.dpopMaxAgeSeconds,
    clockToleranceSeconds: config.dpopClockToleranceSeconds,
    maxProofLength: 8192,
  }
  const proofKeys = new ProofKeyCache()
  const htus = new HtuCache()
  const proofPoolMode = config.dpopProofThreadPool
  const headerLimits = {
    // Room for the scheme and its spaces; a longer header cannot hold a token the verifier would take.
    maxAuthorizationLength: config.maxTokenLength + 32,
    maxProofLength: proofPolicy.maxProofLength,
  }
  const metadataUrl = metadataUrlFor(config.resourceUrl)
  const challengeConfig: ChallengeConfig = {
    dpop,
    dpopAlgorithms: config.dpopAlgorithms,
    resourceMetadataUrl: metadataUrl.href,
    realm: config.realm,
  }
  const refusals = new WeakMap<object, Refusal>()
  // Access tokens that passed checkAccessToken, by the verifier's result, with their scopes once read.
  // While a token is in the verifier's cache, every request presenting it gets the same frozen result
  // object, and the checks are a function of that result and of this server's fixed profile and
  // resource alone: they run once per token, not once per request. A result that is not frozen (the
  // verifier's cache is off) is never kept.
  const accepted = new WeakMap<VerifiedJwt, { scopes: readonly string[] | undefined }>()

  function acceptAccessToken(verified: VerifiedJwt): void {
    if (accepted.has(verified)) return
    checkAccessToken(verified, config.profile, config.resource)
    if (Object.isFrozen(verified) && Object.isFrozen(verified.payload)) {
      accepted.set(verified, { scopes: undefined })
    }
  }

  function scopesFor(verified: VerifiedJwt): readonly string[] {
    const entry = accepted.get(verified)
    if (entry?.scopes !== undefined) return entry.scopes
    const scopes = Object.freeze(scopesOf(verified.payload))
    if (entry !== undefined) entry.scopes = scopes
    return scopes
  }

  async function authenticateNow(
    request: AccessTokenRequest,
    required: readonly string[],
    refusal: Refusal,
  ): Promise<AccessTokenAuth> {
    // One async function on a Bearer request's path: each more would be one more promise and tick.
    try {
      const credentials = credentialsOf(request, refusal)
      const verified = await verifier.verify(credentials.token)
      acceptAccessToken(verified)
      if (credentials.scheme === 'Bearer') return bearerAuth(verified, required)
      return await dpopAuth(request, credentials, verified, required)
    } catch (error) {
      if (typeof error === 'object' && error !== null) refusals.set(error, refusal)
      throw error
    }
  }

  /** The request's credentials, in a scheme this API takes; `refusal` learns the scheme. */
  function credentialsOf(request: AccessTokenRequest, refusal: Refusal): PresentedCredentials {
    if (typeof request !== 'object' || request === null || typeof request.headers !== 'object') {
      throw invalidRequest('the request must be { method, url, headers }')
    }
    refuseOtherTokenMethods(searchOf(request.url), request.body)
    const credentials = readCredentials(request.headers, headerLimits)
    refusal.scheme = credentials.scheme
    if (credentials.scheme === 'Bearer' && dpop === 'required') {
      throw new JwksBridgeError(
        'ERR_DPOP_REQUIRED',
        'this API takes DPoP-bound access tokens only; use the DPoP scheme',
      )
    }
    if (credentials.scheme === 'DPoP' && dpop === 'off') {
      throw new JwksBridgeError(
        'ERR_AUTH_SCHEME_UNSUPPORTED',
        'this API does not accept DPoP; send a Bearer token',
      )
    }
    return credentials
  }

  function bearerAuth(verified: VerifiedJwt, required: readonly string[]): AccessTokenAuth {
    const { payload } = verified
    // RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused, or the binding would be
    // worth nothing. The same holds for any other confirmation method (mTLS, RFC 8705), which this
    // server cannot check.
    if (payload.cnf !== undefined) {
      throw new JwksBridgeError(
        'ERR_TOKEN_BOUND',
        'the access token is bound to a key ("cnf"); present it with the DPoP scheme',
        {
          claim: 'cnf',
        },
      )
    }
    const scopes = scopesFor(verified)
    checkScopes(scopes, required)
    return { payload, scopes, scheme: 'Bearer' }
  }

  async function dpopAuth(
    request: AccessTokenRequest,
    credentials: PresentedCredentials,
    verified: VerifiedJwt,
    required: readonly string[],
  ): Promise<AccessTokenAuth> {
    if (credentials.proof === undefined) {
      throw new JwksBridgeError(
        'ERR_DPOP_PROOF_INVALID',
        'the DPoP scheme needs a DPoP header with a proof',
        {
          claim: 'dpop',
          reason: 'no DPoP header',
        },
      )
    }
    // Read here only: a Bearer request needs no more of its URL than the query.
    const htu = typeof request.url === 'string' ? htus.of(request.url) : htuOf(request.url)
    if (htu === undefined) {
      throw invalidRequest(
        'the request URL is not absolute; the adapter must give the URL the client addressed',
      )
    }
    if (typeof request.url === 'string' && !pathIsNormalized(request.url, htu)) {
      throw invalidRequest(
        'the request path has dot segments, backslashes or characters to percent-encode; send the ' +
          'normalized path the DPoP proof names (its htu)',
      )
    }
    const proofRequest = (): ProofRequest => ({
      method: request.method,
      htu,
      accessToken: credentials.token,
      nowSeconds: nowMs() / 1000,
    })
    const checking = checkProof(credentials.proof, proofRequest)
    const proof = checking instanceof Promise ? await checking : checking
    // RFC 9449 §6.1, §7.1: the proof's key is the one the token is bound to.
    const { payload } = verified
    const cnf = payload.cnf
    const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>).jkt : undefined
    if (typeof jkt !== 'string') {
      throw new JwksBridgeError(
        'ERR_DPOP_BINDING_MISMATCH',
        'the access token is not bound to a DPoP key ("cnf.jkt")',
        {
          claim: 'cnf',
        },
      )
    }
    if (jkt !== proof.jkt) {
      throw new JwksBridgeError(
        'ERR_DPOP_BINDING_MISMATCH',
        "the DPoP proof's key is not the one the access token is bound to",
        {
          claim: 'cnf',
        },
      )
    }
    let dpopNonce: string | undefined
    if (nonces !== undefined) {
      // RFC 9449 §9: with server nonces, a proof without a valid recent one is answered use_dpop_nonce.
      if (proof.nonce === undefined || !nonces.isValid(proof.nonce)) {
        throw new JwksBridgeError(
          'ERR_DPOP_NONCE_REQUIRED',
          'the DPoP proof needs the nonce this server provides',
          {
            claim: 'nonce',
          },
        )
      }
      if (!nonces.isCurrent(proof.nonce)) dpopNonce = nonces.current()
    }
    const scopes = scopesFor(verified)
    checkScopes(scopes, required)
    await markProofUsed(proof.jkt, proof.jti, proof.iat)
    const auth: AccessTokenAuth = { payload, scopes, scheme: 'DPoP', jkt }
    if (dpopNonce !== undefined) auth.dpopNonce = dpopNonce
    return auth
  }

  /**
   * The proof's checks (RFC 9449 §4.3), its signature on libuv's thread pool where the process's pool
   * count admits it (`dpopProofThreadPool`, counted with the verifiers' own hand-offs), else inline.
   * Measured with bench:api (2 cores, 10 connections): ES256 proofs on the pool gave about a third
   * more requests/s than inline (the check costs the loop about 60 µs inline, 8 µs handed off); PS256
   * proofs gained nothing, as `'auto'` expects.
   */
  function checkProof(proof: string, request: () => ProofRequest): CheckedProof | Promise<CheckedProof> {
    const read = readDpopProof(proof, proofPolicy, proofKeys)
    if (!signaturePool.admit(proofPoolMode, read.proofKey.spec)) {
      return verifyDpopProof(read, request(), proofPolicy, proofKeys, htus)
    }
    return verifyDpopProofInPool(read, request, proofPolicy, proofKeys, htus).finally(() =>
      signaturePool.release(),
    )
  }

  /**
   * RFC 9449 §11.1: a proof is single use. Its jti is recorded in the shared store until the proof
   * would be too old anyway, so that a proof captured in transit cannot be played again, on this
   * instance or another. The key is hashed (fixed length) and scoped to the proof's key.
   */
  async function markProofUsed(jkt: string, jti: string, iat: number): Promise<void> {
    const key = `dpop:jti:${sha256(`${jkt}\u0000${jti}`, 'base64url')}`
    const window = config.dpopMaxAgeSeconds + config.dpopClockToleranceSeconds
    // A minute past the end, so that an instance whose clock runs behind still refuses it.
    const untilMs = Math.ceil(Math.max((iat + window) * 1000, nowMs()) + 60_000)
    if (!(await replayStore.markTokenUsed(key, untilMs))) {
      throw new JwksBridgeError(
        'ERR_DPOP_PROOF_REPLAYED',
        'this DPoP proof has already been used; make a new one for each request',
        {
          claim: 'jti',
        },
      )
    }
  }

  return {
    authenticate(request, authOptions = {}) {
      const extra = authOptions.scopes
      const required = extra === undefined || extra.length === 0 ? baseScopes : [...baseScopes, ...extra]
      return authenticateNow(request, required, { scheme: undefined, scopes: required })
    },
    challenge(error, challengeOptions = {}) {
      const refusal = typeof error === 'object' && error !== null ? refusals.get(error) : undefined
      return buildChallenge(error, challengeConfig, {
        scheme: refusal?.scheme,
        scopes: challengeOptions.scopes ?? refusal?.scopes ?? baseScopes,
        nonce: nonces?.current(),
      })
    },
    metadata() {
      return buildMetadata({
        resource: config.resource,
        authorizationServers: config.authorizationServers,
        scopesSupported: config.scopesSupported,
        dpop,
        dpopAlgorithms: config.dpopAlgorithms,
        resourceName: config.resourceName,
        resourceDocumentation: config.resourceDocumentation,
      })
    },
    resource: config.resource,
    metadataUrl: metadataUrl.href,
    metadataPath: metadataUrl.pathname,
    verifier,
    ready: () => verifier.ready(),
    close: () => verifier.close(),
  }
}
