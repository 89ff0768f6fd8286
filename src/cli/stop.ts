// Long-running commands (serve, dev-issuer) stop on SIGINT/SIGTERM, or on an AbortSignal in tests.

export interface StopWatch {
  /** Resolves when `signal` aborts, or on the first SIGINT/SIGTERM when no signal is given. */
  stopped: Promise<void>
  /** Removes the signal handlers (the default action of SIGINT and SIGTERM comes back). */
  dispose(): void
}

export function watchStop(signal: AbortSignal | undefined): StopWatch {
  if (signal !== undefined) {
    let onAbort = () => {}
    const stopped = new Promise<void>((resolve) => {
      onAbort = () => resolve()
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
    return { stopped, dispose: () => signal.removeEventListener('abort', onAbort) }
  }
  let stop = () => {}
  const dispose = () => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      dispose()
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  return { stopped, dispose }
}
