// The child-process side of the HTTP benchmark: start one app, announce its URL on stdout as one JSON
// line, and stop cleanly (so that --cpu-prof writes its profile) on SIGTERM, SIGINT, or when the
// parent goes away (stdin closes), or after a hard time limit, whichever comes first.

export interface ChildApp {
  url: string
  close(): Promise<void>
}

/** Longest a benchmark server lives, whatever happens to its parent. */
const MAX_LIFETIME_MS = Number(process.env.BENCH_CHILD_MAX_MS ?? 20 * 60 * 1000)

export async function serveUntilStopped(start: () => Promise<ChildApp>): Promise<void> {
  let app: ChildApp | undefined
  let stopping = false
  const stop = async (exitCode: number) => {
    if (stopping) return
    stopping = true
    // Bounded: a close that hangs must not keep the process (and the port) alive.
    const force = setTimeout(() => process.exit(exitCode === 0 ? 3 : exitCode), 5000)
    try {
      await app?.close()
    } catch (error) {
      process.stderr.write(`close failed: ${(error as Error).name}\n`)
    }
    clearTimeout(force)
    process.exit(exitCode)
  }
  process.once('SIGTERM', () => void stop(0))
  process.once('SIGINT', () => void stop(0))
  process.stdin.on('end', () => void stop(0))
  process.stdin.on('close', () => void stop(0))
  process.stdin.resume()
  setTimeout(() => void stop(4), MAX_LIFETIME_MS).unref()
  try {
    app = await start()
  } catch (error) {
    process.stderr.write(`start failed: ${(error as Error).message}\n`)
    process.exit(1)
  }
  process.stdout.write(`${JSON.stringify({ url: app.url, pid: process.pid })}\n`)
}
