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

// CommonJS, evaluated in the worker: no file to find next to the built or the TypeScript sources.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driverPath)
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 })
db.pragma('synchronous = NORMAL')
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (error) {
    // Another connection (another process sharing the file) is checkpointing: next time.
    if (error && error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error
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
    workerData: { driverPath, path: resolve(path), intervalMs: options.intervalMs },
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
  // From here on, a worker that fails hands checkpoints back to SQLite.
  worker.on('error', restoreAutomatic)
  worker.once('exit', restoreAutomatic)
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`)
  db.pragma('wal_autocheckpoint = 0')
  return {
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
