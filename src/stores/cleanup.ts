/**
 * The cleanup scheduler: removes expired and idle sessions, their index entries and expired replay
 * records on a timer, so that the stores stay bounded by what is alive. Without it every sign-in
 * leaves a replay record and, sooner or later, a dead session behind, and anyone who can obtain
 * tokens grows the database without limit.
 *
 * - The timer is unref'd: it never keeps a process alive. Ticks never overlap (each one schedules the
 *   next when it ends).
 * - Each tick runs at most `maxBatchesPerTick` rounds of at most `batchSize` rows, each round short,
 *   so that a backlog is worked off over several ticks without holding a lock (or SQLite's event
 *   loop) for long.
 * - Of several instances sharing a store, one cleans at a time: the store's cleanup lease (a
 *   PostgreSQL advisory lock, a Redis SET NX PX key; SQLite's write lock serializes each round).
 *   An instance that finds the lease taken skips its tick.
 */
import { invalidOptions } from '../errors.js'
import { MAX_CLEANUP_BATCH } from './records.js'
import type { CleanupLease, SessionStore } from './types.js'

export interface CleanupOptions {
  /** The bridge's idle timeout: sessions not seen for this long are removed. Required. */
  idleTimeoutSeconds: number
  /** Time between two ticks. Default 300 (5 minutes). */
  intervalSeconds?: number
  /** Most rows of each kind one round deletes. Default 500. */
  batchSize?: number
  /** Most rounds in one tick; a backlog beyond that waits for the next tick. Default 20. */
  maxBatchesPerTick?: number
  /** The clock expiries are compared with. Default `Date.now`. */
  nowMs?: () => number
  /** Told what each tick did (for logs and metrics). */
  onTick?: (result: CleanupTickResult) => void
  /** Told when a tick failed (the store was unreachable); the next tick tries again. */
  onError?: (error: unknown) => void
}

export interface CleanupTickResult {
  /** False when another instance held the cleanup lease, so this one did nothing. */
  ran: boolean
  sessions: number
  usedTokens: number
  /** Rounds run. */
  batches: number
  /** True when the last round was not full: nothing was left to clean. */
  complete: boolean
}

/** What the scheduler uses of a session store. */
export type CleanupTarget = Pick<SessionStore, 'deleteExpired' | 'deleteExpiredBatch' | 'acquireCleanupLease'>

export interface CleanupScheduler {
  /** Runs one tick now (waits for a tick in progress first). */
  runOnce(): Promise<CleanupTickResult>
  /** Stops the timer and waits for a tick in progress. Idempotent. */
  stop(): Promise<void>
}

// A lease outlives any tick: rounds stop being started once half of it has passed.
const LEASE_MS = 60_000

function whole(name: string, value: unknown, fallback: number, max: number): number {
  const chosen = value ?? fallback
  if (typeof chosen !== 'number' || !Number.isSafeInteger(chosen) || chosen < 1 || chosen > max) {
    throw invalidOptions(`${name} must be a whole number from 1 to ${max}`)
  }
  return chosen
}

const OPTION_NAMES = new Set([
  'idleTimeoutSeconds',
  'intervalSeconds',
  'batchSize',
  'maxBatchesPerTick',
  'nowMs',
  'onTick',
  'onError',
])

/**
 * Starts cleaning `sessions` every `intervalSeconds`; the first tick comes after one interval.
 * Call `stop()` before closing the store.
 *
 * @example
 * const cleanup = startCleanup(stores.sessions, { idleTimeoutSeconds: 86_400 })
 * // ... on shutdown:
 * await cleanup.stop()
 * await stores.close()
 */
export function startCleanup(sessions: CleanupTarget, options: CleanupOptions): CleanupScheduler {
  if (typeof sessions?.deleteExpired !== 'function') {
    throw invalidOptions('startCleanup needs a session store')
  }
  for (const name of Object.keys(options ?? {})) {
    if (!OPTION_NAMES.has(name)) throw invalidOptions(`unknown cleanup option ${JSON.stringify(name)}`)
  }
  const idle = options?.idleTimeoutSeconds
  if (typeof idle !== 'number' || !Number.isFinite(idle) || idle <= 0) {
    throw invalidOptions('idleTimeoutSeconds must be a number of seconds above 0')
  }
  const idleTimeoutMs = Math.round(idle * 1000)
  const intervalMs = whole('intervalSeconds', options.intervalSeconds, 300, 86_400) * 1000
  const batchSize = whole('batchSize', options.batchSize, 500, MAX_CLEANUP_BATCH)
  const maxBatches = whole('maxBatchesPerTick', options.maxBatchesPerTick, 20, 10_000)
  const now = options.nowMs ?? Date.now
  for (const name of ['nowMs', 'onTick', 'onError'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw invalidOptions(`${name} must be a function`)
    }
  }

  async function rounds(): Promise<CleanupTickResult> {
    const result: CleanupTickResult = { ran: true, sessions: 0, usedTokens: 0, batches: 0, complete: false }
    // A store without bounded rounds (a custom one) gets its one unbounded call.
    if (sessions.deleteExpiredBatch === undefined) {
      result.sessions = await sessions.deleteExpired(Math.floor(now()), idleTimeoutMs)
      result.batches = 1
      result.complete = true
      return result
    }
    const started = performance.now()
    while (result.batches < maxBatches && performance.now() - started < LEASE_MS / 2) {
      const round = await sessions.deleteExpiredBatch(Math.floor(now()), idleTimeoutMs, batchSize)
      result.batches++
      result.sessions += round.sessions
      result.usedTokens += round.usedTokens
      if (!round.more) {
        result.complete = true
        break
      }
    }
    return result
  }

  async function tick(): Promise<CleanupTickResult> {
    let lease: CleanupLease | undefined
    if (sessions.acquireCleanupLease !== undefined) {
      lease = await sessions.acquireCleanupLease(LEASE_MS)
      if (lease === undefined) return { ran: false, sessions: 0, usedTokens: 0, batches: 0, complete: false }
    }
    try {
      return await rounds()
    } finally {
      // A lease that cannot be released runs out by itself (Redis) or with its connection (PostgreSQL).
      await lease?.release().catch(() => {})
    }
  }

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<CleanupTickResult> | undefined

  function run(): Promise<CleanupTickResult> {
    const previous = running ?? Promise.resolve(undefined)
    const next = previous.catch(() => undefined).then(tick)
    running = next
    const clear = () => {
      if (running === next) running = undefined
    }
    next.then(clear, clear)
    return next
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(async () => {
      timer = undefined
      try {
        const result = await run()
        options.onTick?.(result)
      } catch (error) {
        options.onError?.(error)
      }
      // The next tick is counted from the end of this one: ticks never overlap.
      schedule()
    }, intervalMs)
    // Never keeps the process alive on its own.
    timer.unref()
  }

  schedule()
  return {
    runOnce: run,
    async stop() {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      await running?.catch(() => {})
    },
  }
}
