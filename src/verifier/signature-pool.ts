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
 * Counts the verifications this process has on libuv's thread pool, across every verifier (the pool
 * is the process's), and decides where the next one goes. Nothing is timed: one comparison and one
 * counter per verification.
 */
export class SignaturePool {
  #inFlight = 0

  /** How many verifications `'auto'` lets onto the pool at once: its thread count. */
  constructor(readonly capacity: number) {}

  /** Verifications on the pool now. */
  get inFlight(): number {
    return this.#inFlight
  }

  /**
   * Whether this signature goes to the pool; when it does, it is counted until `release()`.
   * `'auto'` sends only ECDSA and EdDSA, and only while fewer than `capacity` are in flight.
   */
  admit(mode: SignatureThreadPoolMode, spec: AlgorithmSpec): boolean {
    if (mode === false) return false
    if (mode === 'auto') {
      // RSA verification is one modular exponentiation with a small exponent: cheaper on the loop
      // (about 20 µs) than the hand-off's own cost there plus the wait for the answer. ECDSA and
      // EdDSA cost 3 to 50 times as much inline and several times less loop time handed off.
      if (spec.kty === 'RSA') return false
      // A full pool queues the job behind the others: the answer would wait longer than checking
      // it here, so past the pool's size the loop does the work itself.
      if (this.#inFlight >= this.capacity) return false
    }
    this.#inFlight++
    return true
  }

  /** A verification admitted by `admit` has settled. */
  release(): void {
    this.#inFlight--
  }
}

/** The process's pool, sized as libuv sizes it. */
export const signaturePool = new SignaturePool(libuvPoolThreads(process.env.UV_THREADPOOL_SIZE))
