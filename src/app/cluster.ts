/**
 * `jwks-bridge serve --workers N`: one primary process forks N workers (node:cluster), each running
 * the reference app on the same port; the primary holds the listening socket and hands connections
 * out in turn. The primary runs no app code and opens no database: it forks, watches and stops.
 *
 * - A worker that dies after it started is replaced, at most MAX_RESTARTS times per RESTART_WINDOW_MS;
 *   past that something is wrong that restarting will not fix, and the primary stops everything and
 *   exits 1. A worker that fails before it ever listened (bad configuration, database unreachable)
 *   stops the start-up at once: N copies of the same error are no help.
 * - SIGTERM or SIGINT to the primary asks every worker to stop (an IPC message, so that a terminal's
 *   Ctrl+C reaching the workers too does not count twice); each finishes its in-flight requests and
 *   closes its pools; the primary exits 0 once all have exited 0, or 1 after the shutdown timeout
 *   (it then kills what is left).
 * - /metrics on any worker answers for the whole cluster: the worker asks the primary, which gathers
 *   every worker's registry with prom-client's AggregatorRegistry (counters and histograms summed).
 */
import cluster, { type Worker } from 'node:cluster'
import type { AppMetrics } from './metrics.js'
import type { ClusterWorkerHooks } from './server.js'

/** Set by the primary in its workers' environment (a cluster worker of another tool is not ours). */
export const WORKER_ENV = 'JWKS_BRIDGE_WORKER'

export const MAX_RESTARTS = 5
export const RESTART_WINDOW_MS = 60_000

const STOP = 'jwks-bridge:stop'
const METRICS_REQUEST = 'jwks-bridge:metrics-request'
const METRICS_RESPONSE = 'jwks-bridge:metrics-response'

interface Message {
  type?: unknown
  id?: unknown
  text?: unknown
  error?: unknown
}

/** Whether this process is a worker forked by `serve --workers`. */
export function isServeWorker(env: Record<string, string | undefined>): boolean {
  return cluster.isWorker && env[WORKER_ENV] === '1'
}

/** In a worker: resolves when the primary asks it to stop, or the primary is gone. */
export function primaryStop(): { stopped: Promise<void>; dispose(): void } {
  let resolveStop = () => {}
  const stopped = new Promise<void>((resolve) => {
    resolveStop = resolve
  })
  const onMessage = (message: Message) => {
    if (message?.type === STOP) resolveStop()
  }
  // Signals sent to the whole process group (Ctrl+C) reach the workers too: they count as a stop,
  // and repeated ones are ignored (the primary bounds the shutdown, and kills after its timeout).
  const onSignal = () => resolveStop()
  process.on('message', onMessage)
  process.on('disconnect', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return {
    stopped,
    dispose() {
      process.off('message', onMessage)
      process.off('disconnect', onSignal)
      // The signal handlers stay: a second Ctrl+C during the drain must not kill the worker mid-request.
    },
  }
}

/**
 * Ends a worker's membership once its app is closed: the IPC channel is what keeps it alive. Through
 * `worker.disconnect()`, not `process.disconnect()`: a worker whose channel closes otherwise is
 * taken for orphaned and exits 0 at once (node:cluster), hiding a failed start or shutdown.
 */
export function leaveCluster(exitCode: number): void {
  process.exitCode = exitCode
  cluster.worker?.disconnect()
}

/** The worker's side of cluster-wide metrics. */
export function workerHooks(): ClusterWorkerHooks {
  let next = 0
  const pending = new Map<number, { resolve(text: string): void; reject(error: Error): void }>()
  let listening = false
  const listen = () => {
    if (listening) return
    listening = true
    process.on('message', (message: Message) => {
      if (message?.type !== METRICS_RESPONSE || typeof message.id !== 'number') return
      const request = pending.get(message.id)
      if (request === undefined) return
      pending.delete(message.id)
      if (typeof message.text === 'string') request.resolve(message.text)
      else request.reject(new Error('the primary could not gather the workers’ metrics'))
    })
  }
  return {
    async attach(metrics: AppMetrics) {
      // prom-client answers the primary's requests for this worker's registry (its own IPC protocol).
      const prom = await import('prom-client')
      prom.AggregatorRegistry.setRegistries([metrics.registry])
      new prom.AggregatorRegistry()
      listen()
    },
    metrics() {
      listen()
      const id = next++
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error('the primary did not answer with the metrics in time'))
        }, 7000)
        pending.set(id, {
          resolve: (text) => {
            clearTimeout(timer)
            resolve(text)
          },
          reject: (error) => {
            clearTimeout(timer)
            reject(error)
          },
        })
        process.send?.({ type: METRICS_REQUEST, id })
      })
    },
  }
}

export interface PrimaryOptions {
  workers: number
  /** The workers' environment (PORT fixed by the caller, never 0: every worker must bind the same port). */
  env: Record<string, string | undefined>
  metrics: 'auto' | 'on' | 'off'
  shutdownTimeoutMs: number
  /** Resolves when the primary should stop (SIGTERM/SIGINT). */
  stopped: Promise<void>
  /** Progress and problems, for stderr. */
  report(line: string): void
  /** Called once, when every worker listens. */
  onReady(pids: number[]): void
}

/** Runs the primary until it is stopped or gives up; resolves with the exit status. */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const aggregator = await metricsAggregator(options.metrics)
  const workerEnv = { ...options.env, [WORKER_ENV]: '1' }
  const restarts: number[] = []
  const listened = new Set<number>()
  let ready = false
  let stopping = false
  let failed = false
  let finish: (code: number) => void = () => {}
  const done = new Promise<number>((resolve) => {
    finish = resolve
  })

  const onMessage = (worker: Worker, message: Message) => {
    if (message?.type !== METRICS_REQUEST || typeof message.id !== 'number') return
    const id = message.id
    const answer = (reply: Message) => {
      if (worker.isConnected()) worker.send(reply)
    }
    if (aggregator === undefined) {
      answer({ type: METRICS_RESPONSE, id, error: true })
      return
    }
    aggregator.clusterMetrics().then(
      (text) => answer({ type: METRICS_RESPONSE, id, text }),
      () => answer({ type: METRICS_RESPONSE, id, error: true }),
    )
  }
  const onListening = (worker: Worker) => {
    listened.add(worker.id)
    if (!ready && listened.size >= options.workers) {
      ready = true
      options.onReady(liveWorkers().map((w) => w.process.pid ?? 0))
    }
  }
  const onExit = (worker: Worker, code: number | null, signal: string | null) => {
    const how = signal === null ? `exit code ${code}` : `signal ${signal}`
    const wasListening = listened.delete(worker.id)
    if (stopping) {
      if (code !== 0) failed = true
      if (liveWorkers().length === 0) finish(failed ? 1 : 0)
      return
    }
    if (!ready && !wasListening) {
      options.report(`a worker could not start (${how}); see its output above. Stopping.`)
      stopAll(true)
      return
    }
    const now = Date.now()
    while (restarts.length > 0 && now - (restarts[0] as number) > RESTART_WINDOW_MS) restarts.shift()
    if (restarts.length >= MAX_RESTARTS) {
      options.report(
        `worker ${worker.process.pid} stopped (${how}); ${MAX_RESTARTS} restarts within ` +
          `${RESTART_WINDOW_MS / 1000} s already: giving up. Stopping.`,
      )
      stopAll(true)
      return
    }
    restarts.push(now)
    options.report(
      `worker ${worker.process.pid} stopped (${how}); starting another (${restarts.length} of ${MAX_RESTARTS} restarts per ${RESTART_WINDOW_MS / 1000} s)`,
    )
    cluster.fork(workerEnv)
  }

  let killTimer: NodeJS.Timeout | undefined
  function stopAll(failure: boolean): void {
    if (stopping) return
    stopping = true
    if (failure) failed = true
    const live = liveWorkers()
    if (live.length === 0) {
      finish(failed ? 1 : 0)
      return
    }
    for (const worker of live) {
      if (worker.isConnected()) worker.send({ type: STOP })
      else worker.process.kill('SIGTERM')
    }
    // The workers bound their own drain by the same timeout; this is the backstop.
    killTimer = setTimeout(() => {
      const left = liveWorkers()
      if (left.length > 0) {
        options.report(`${left.length} worker(s) still running after the shutdown timeout: killed`)
        failed = true
        for (const worker of left) worker.process.kill('SIGKILL')
      }
    }, options.shutdownTimeoutMs + 2000)
  }

  cluster.on('message', onMessage)
  cluster.on('listening', onListening)
  cluster.on('exit', onExit)
  try {
    for (let i = 0; i < options.workers; i++) cluster.fork(workerEnv)
    options.stopped.then(() => stopAll(false))
    return await done
  } finally {
    clearTimeout(killTimer)
    cluster.off('message', onMessage)
    cluster.off('listening', onListening)
    cluster.off('exit', onExit)
  }
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter(
    (worker): worker is Worker => worker !== undefined && !worker.isDead(),
  )
}

async function metricsAggregator(
  setting: 'auto' | 'on' | 'off',
): Promise<{ clusterMetrics(): Promise<string> } | undefined> {
  if (setting === 'off') return undefined
  try {
    const prom = await import('prom-client')
    return new prom.AggregatorRegistry()
  } catch {
    // Without prom-client the workers serve no /metrics either (METRICS=true fails in the workers).
    return undefined
  }
}
