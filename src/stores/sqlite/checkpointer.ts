/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside whichever COMMIT takes the write-ahead log past 1000
 * pages: that commit copies the log back into the database file and fsyncs it, on the thread that
 * committed, which here is the event loop. Measured on a sign-in (three small writes), it was half of
 * the mean time and all of the p99 (bench/http, `npm run bench:stores`). So the stores' connection
 * turns automatic checkpoints off, and a worker thread with its own connection runs a PASSIVE
 * checkpoint every `intervalMs`. PASSIVE never blocks readers or writers (https://sqlite.org/wal.html,
 * "Checkpointing"); WAL mode lets it run beside the writer.
 *
 * The log is reused from its start only when a write begins with every frame copied back, which a
 * checkpoint running beside steady writes never achieves (measured: a 2.4 GB log after 100,000
 * sign-ins). So once the log passes RESTART_FRAMES, the worker copies all it can twice over and asks
 * this thread to copy the few frames left: here no write can be half-done (this thread is the one
 * that writes), the copy completes, and the next write starts the log over. Nobody waits on a lock.
 * Past FORCE_FRAMES (several processes writing to the file), the worker forces it with a RESTART.
 *
 * Durability is unchanged: a commit is in the log either way, and `synchronous = NORMAL` syncs the log
 * before each checkpoint and the database after it, whichever connection runs it. If the worker
 * fails, automatic checkpoints come back on, so the log never grows without bound.
 */
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { SqliteDatabase } from './driver.js'

/** SQLite's own default for `wal_autocheckpoint`, restored when the worker cannot do the job. */
const AUTOMATIC_CHECKPOINT_PAGES = 1000
/** The log is truncated back to this size after a checkpoint resets it (it is reused, not shrunk). */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
/** A log this long (in frames of one page: 16 MiB at 4 KiB pages) is started over. */
const RESTART_FRAMES = 4096
/** A log this long is started over by a RESTART checkpoint, which holds writers back while it runs. */
const FORCE_FRAMES = 65_536
/** How long that RESTART checkpoint waits for the writer before trying again next time. */
const RESTART_WAIT_MS = 1000

// CommonJS, evaluated in the worker: no file to find next to the built or the TypeScript sources.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driverPath)
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 })
db.pragma('synchronous = NORMAL')
function checkpoint(mode) {
  try {
    return db.pragma('wal_checkpoint(' + mode + ')')[0]
  } catch (error) {
    // Another connection (another process sharing the file) is checkpointing: next time.
    if (error && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED')) return undefined
    throw error
  }
}
const timer = setInterval(() => {
  if (checkpoint('PASSIVE') === undefined) return
  // Again at once: the second pass copies what was written during the first, so little is left.
  const second = checkpoint('PASSIVE')
  if (second === undefined || second.log < workerData.restartFrames) return
  if (second.log < workerData.forceFrames) {
    // The log only starts over when a write begins with every frame copied back, which steady writes
    // never allow from here. The stores' thread copies the few frames left between two of its own
    // writes, so the next write starts the log from the beginning, and nobody waits on a lock.
    parentPort.postMessage('finish')
    return
  }
  // Far too long (several processes writing, the stores' thread too busy): RESTART holds writers back
  // until it has copied everything, so that the next write starts the log over.
  db.pragma('busy_timeout = ' + workerData.restartWaitMs)
  try {
    checkpoint('RESTART')
  } finally {
    db.pragma('busy_timeout = 0')
  }
}, workerData.intervalMs)
parentPort.on('message', (message) => {
  if (message !== 'stop') return
  clearInterval(timer)
  db.close()
  parentPort.close()
})
parentPort.postMessage('ready')
`

export interface Checkpointer {
  /** The worker thread (for tests: ending it must hand checkpoints back to SQLite). */
  readonly thread: Worker
  /** Stops the worker and closes its connection; safe to call twice. */
  stop(): Promise<void>
}

export interface CheckpointerOptions {
  /** Time between two checkpoints. */
  intervalMs: number
}

/**
 * Starts the background checkpointer for `db`, an open WAL database at `path`, and turns `db`'s
 * automatic checkpoints off once the worker's connection is open. Resolves when it is running.
 */
export async function startCheckpointer(
  db: SqliteDatabase,
  path: string,
  options: CheckpointerOptions,
): Promise<Checkpointer> {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driverPath,
      path: resolve(path),
      intervalMs: options.intervalMs,
      restartFrames: RESTART_FRAMES,
      forceFrames: FORCE_FRAMES,
      restartWaitMs: RESTART_WAIT_MS,
    },
    // Not the parent's flags: a loader or --input-type=module would change how this CommonJS runs.
    execArgv: [],
  })
  let stopping = false
  const exited = new Promise<void>((done) => worker.once('exit', () => done()))
  const restoreAutomatic = () => {
    if (!stopping && db.open) db.pragma(`wal_autocheckpoint = ${AUTOMATIC_CHECKPOINT_PAGES}`)
  }
  await new Promise<void>((ready, failed) => {
    worker.once('message', () => ready())
    worker.once('error', failed)
    worker.once('exit', () => failed(new Error('the checkpoint worker stopped while starting')))
  })
  // Once running, the worker holds a connection and a timer, nothing the process should wait for.
  worker.unref()
  worker.on('message', (message) => {
    if (message !== 'finish' || !db.open) return
    try {
      // The worker copied all but the last few frames; this copies those (no writer can be mid-way:
      // this thread is the one that writes), and the next write starts the log from the beginning.
      db.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // Busy (another process checkpointing) or closing: the worker asks again next time.
    }
  })
  // From here on, a worker that fails hands checkpoints back to SQLite.
  worker.on('error', restoreAutomatic)
  worker.once('exit', restoreAutomatic)
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`)
  db.pragma('wal_autocheckpoint = 0')
  return {
    thread: worker,
    async stop() {
      if (stopping) return exited
      stopping = true
      // Kept alive until it has closed its connection.
      worker.ref()
      worker.postMessage('stop')
      await exited
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOMATIC_CHECKPOINT_PAGES}`)
    },
  }
}
