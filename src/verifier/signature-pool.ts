import type { AlgorithmSpec } from '../jose/algorithms.js'

/**
 * Where a verifier checks signatures: `false` on the event loop, `true` always on libuv's thread pool,
 * `'auto'` on the pool for the algorithms whose check is worth the hand-off, while the pool has room.
 */
export type SignatureThreadPoolMode = boolean | 'auto'

export const SIGNATURE_THREAD_POOL_MODES: readonly SignatureThreadPoolMode[] = Object.freeze([
  false,
  true,
  'auto',
])

/** libuv's default thread pool size (UV_THREADPOOL_SIZE unset). */
const DEFAULT_POOL_THREADS = 4
/** libuv's own ceiling on UV_THREADPOOL_SIZE. */
const MAX_POOL_THREADS = 1024

/**
 * The number of threads in libuv's pool, read from UV_THREADPOOL_SIZE as libuv reads it (`atoi` into
 * an unsigned int, then clamped): unset gives 4, a value that does not start with a number gives 1,
 * anything above 1024 (a negative number wraps around) gives 1024.
 */
export function libuvPoolThreads(value: string | undefined): number {
  if (value === undefined) return DEFAULT_POOL_THREADS
  const match = /^\s*([+-]?)(\d+)/.exec(value)
  const threads = match === null ? 0 : Number(match[2])
  if (threads === 0) return 1
  if (match?.[1] === '-' || threads > MAX_POOL_THREADS) return MAX_POOL_THREADS
  return threads
}

/**
 * How many verifications `'auto'` keeps on the pool per pool thread. The count of a verification
 * falls only when the event loop collects its answer, which a busy loop does once a turn: a cap of
 * one per thread hands off at most four verifications per turn however many requests the turn
 * carries. Measured with bench:http (ES256 sign-ins, 10 and 64 connections, the event loop spending
 * 180 to 224 µs per sign-in inline), one per thread saved the loop 2 to 17 µs per sign-in, sixteen
 * per thread 47 to 80 µs. Sixteen per thread still bounds the wait in the pool's queue to about
 * sixteen verifications per thread (some 1 ms for ES256).
 */
export const JOBS_PER_POOL_THREAD = 16

/**
 * Counts the verifications this process has on libuv's thread pool, across every verifier (the pool
 * is the process's), and decides where the next one goes. Nothing is timed: a comparison or two per
 * verification, and two counters for one handed off.
 */
export class SignaturePool {
  #inFlight = 0
  #handedOff = 0

  /** How many verifications `'auto'` lets onto the pool at once. */
  constructor(readonly capacity: number) {}

  /** Verifications on the pool now, from the hand-off until the event loop has their answer. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Verifications handed to the pool since the process started. */
  get handedOff(): number {
    return this.#handedOff
  }

  /**
   * Whether this signature goes to the pool; when it does, it is counted until `release()`.
   * `'auto'` sends only ECDSA and EdDSA, and only while fewer than `capacity` are in flight.
   */
  admit(mode: SignatureThreadPoolMode, spec: AlgorithmSpec): boolean {
    if (mode === false) return false
    if (mode === 'auto') {
      // RSA verification is one modular exponentiation with a small exponent: about as cheap on the
      // loop (some 20 µs) as the hand-off's own cost there, and the answer would wait for a turn.
      // ECDSA and EdDSA cost 2 (ES256) to 50 (ES512) times as much inline; handed off, the loop pays
      // only the hand-off.
      if (spec.kty === 'RSA') return false
      // Past this, a burst would wait in the pool's queue behind too many others: checked here.
      if (this.#inFlight >= this.capacity) return false
    }
    this.#inFlight++
    this.#handedOff++
    return true
  }

  /** A verification admitted by `admit` has settled. */
  release(): void {
    this.#inFlight--
  }
}

/** The process's pool, sized from libuv's thread count. */
export const signaturePool = new SignaturePool(
  libuvPoolThreads(process.env.UV_THREADPOOL_SIZE) * JOBS_PER_POOL_THREAD,
)
