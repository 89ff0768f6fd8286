/**
 * Where the resource server checks DPoP proof signatures. A client signs a new proof for every request,
 * so unlike an access token (verified once, then served from the verifier's cache) a proof's signature
 * is checked on every DPoP request: for ES256, most of what such a request costs the event loop. On
 * libuv's thread pool (`crypto.verify` with a callback) the loop serves other requests meanwhile.
 */
import type { AlgorithmSpec } from '../jose/algorithms.js'

/** `false`: on the event loop; `true`: always on the pool; `'auto'`: on the pool where it pays. */
export type ProofSignatureMode = boolean | 'auto'

/** libuv's pool size as libuv reads UV_THREADPOOL_SIZE: 4 when unset, clamped to 1..1024. */
export function poolThreads(value: string | undefined): number {
  if (value === undefined) return 4
  const threads = Number.parseInt(value, 10)
  if (!Number.isFinite(threads) || threads < 1) return 1
  return Math.min(threads, 1024)
}

/**
 * Counts the proof signatures this process has on the pool (every resource server shares the pool)
 * and decides where the next one goes. One comparison and one counter per proof.
 */
export class ProofSignaturePool {
  #inFlight = 0
  constructor(readonly capacity: number) {}

  get inFlight(): number {
    return this.#inFlight
  }

  /**
   * Whether this proof's signature goes to the pool; when it does, it counts until `release()`. `'auto'`
   * sends ECDSA and EdDSA only, while fewer than `capacity` are in flight: an RSA check (about 20 µs)
   * costs the loop little more than the hand-off itself, and a full pool would queue the job behind
   * the others, so the answer would come later than from the loop.
   */
  admit(mode: ProofSignatureMode, spec: AlgorithmSpec): boolean {
    if (mode === false) return false
    if (mode === 'auto' && (spec.kty === 'RSA' || this.#inFlight >= this.capacity)) return false
    this.#inFlight++
    return true
  }

  release(): void {
    this.#inFlight--
  }
}

/** The process's count, sized as libuv sizes its pool. */
export const proofSignaturePool = new ProofSignaturePool(poolThreads(process.env.UV_THREADPOOL_SIZE))
