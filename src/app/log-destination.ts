/**
 * Where the reference app's log lines go: stdout, written in batches rather than line by line. pino's
 * default destination makes one write(2) per line, synchronously, on the request's path, and wakes
 * the reader (a log shipper, a pipe) as often; here a line is appended to a batch, and the batch is
 * written at most FLUSH_DELAY_MS later, or as soon as it fills MAX_BATCH_BYTES, so that a busy app
 * makes one write per 4 KB of lines (about 15 access lines) instead of one per line.
 *
 * Nothing is lost on the way out: `flushSync()` writes what is pending (the app calls it when it
 * closes), and the process's `exit` event, which Node emits on `process.exit()` and after an
 * uncaught exception, writes the rest. Only SIGKILL (or a native crash) loses the last batch.
 */
import { writeSync } from 'node:fs'

/**
 * Most bytes in one write: PIPE_BUF on Linux. A write to a pipe up to this size is atomic, so that
 * the workers of `serve --workers N`, which share stdout, never interleave within a line.
 */
const MAX_BATCH_BYTES = 4096
/** Longest a line waits in a batch: short enough for `tail -f`, long enough to batch many requests. */
const FLUSH_DELAY_MS = 10
/** How long a write may keep retrying a full pipe (EAGAIN) before the batch is dropped. */
const MAX_BLOCKED_MS = 10_000

export interface LogDestination {
  write(line: string): void
  /** Writes every pending line now. */
  flushSync(): void
  /** Flushes, and stops watching the process's exit. */
  close(): void
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Writes all of `data` to `fd`, retrying a full non-blocking pipe; false when it could not. */
function writeAll(fd: number, data: Buffer): boolean {
  let offset = 0
  const start = Date.now()
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // A reader slower than the app (a full pipe): wait for it, as a synchronous logger would, but
      // not forever.
      if ((code === 'EAGAIN' || code === 'EBUSY') && Date.now() - start < MAX_BLOCKED_MS) {
        Atomics.wait(sleeper, 0, 0, 1)
        continue
      }
      return false
    }
  }
  return true
}

export function createLogDestination(fd = 1): LogDestination {
  let pending: string[] = []
  let pendingBytes = 0
  let scheduled = false
  // After a failed write (the reader is gone: EPIPE), lines are dropped: the app keeps serving.
  let broken = false

  const flushSync = () => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.length === 1 ? (pending[0] as string) : pending.join('')
    pending = []
    pendingBytes = 0
    if (broken) return
    // Most writes take the whole batch: the string goes to the kernel without a Buffer of our own.
    let written = 0
    try {
      written = writeSync(fd, text)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EAGAIN' && code !== 'EBUSY') {
        broken = true
        return
      }
    }
    if (written === Buffer.byteLength(text, 'utf8')) return
    // A full pipe took part of it (or none): the rest, retried.
    if (!writeAll(fd, Buffer.from(text, 'utf8').subarray(written))) broken = true
  }
  const onTimer = () => {
    if (scheduled) flushSync()
  }
  process.on('exit', flushSync)

  return {
    write(line) {
      if (broken) return
      const bytes = Buffer.byteLength(line, 'utf8')
      // Whole lines only: a batch that this line would push past the atomic size goes first.
      if (pendingBytes + bytes > MAX_BATCH_BYTES && pending.length > 0) flushSync()
      pending.push(line)
      pendingBytes += bytes
      if (!scheduled) {
        scheduled = true
        // Unreferenced: a pending batch never keeps the process alive (the exit hook writes it).
        setTimeout(onTimer, FLUSH_DELAY_MS).unref()
      }
    },
    flushSync,
    close() {
      flushSync()
      process.off('exit', flushSync)
    },
  }
}
