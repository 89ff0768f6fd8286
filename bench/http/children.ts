// The parent side: start each app in its own Node.js process (so it never shares an event loop with
// the load generator), wait for its URL, read its CPU time, and stop it, even when the benchmark fails.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface AppProcess {
  name: string
  url: string
  pid: number
  /** Bytes the app has written to stdout (its log) since it announced its URL. */
  stdoutBytes(): number
  /**
   * CPU seconds (user + system) the process and its child processes (`serve --workers`' workers)
   * have used so far, all threads; NaN where /proc is not available.
   */
  cpuSeconds(): number
  /**
   * The main thread (the event loop): seconds on a CPU, and seconds runnable but waiting for one
   * (other processes had it); with child processes, their main threads' summed. NaN where
   * /proc/<pid>/task/<pid>/schedstat is not available.
   */
  mainThread(): { cpuSeconds: number; waitSeconds: number }
  /** SIGTERM, then SIGKILL after a grace period. Resolves when the process has exited. */
  stop(): Promise<void>
}

export interface SpawnOptions {
  env: Record<string, string>
  /** Arguments after the script (e.g. `serve` for the CLI). */
  args?: string[]
  /**
   * Finds the app's URL in a line of its stdout (the first line that gives one counts). Default: the
   * line is JSON `{"url"}` (serve-child.ts). Every line after it (the app's log) is drained unparsed.
   */
  urlFromLine?: (line: string) => string | undefined
  /** Write a V8 CPU profile (.cpuprofile) of the app into this folder when it stops. */
  cpuProfDir?: string | undefined
  startTimeoutMs?: number
}

const running = new Set<ChildProcess>()

// Last resort: whatever way the parent leaves, no server is left behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

let clockTicks: number | undefined
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** The process and its descendants, read from /proc (just the process where that fails). */
function processTree(pid: number): number[] {
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]!
    try {
      for (const thread of readdirSync(`/proc/${parent}/task`)) {
        const children = readFileSync(`/proc/${parent}/task/${thread}/children`, 'utf8').trim()
        if (children !== '') tree.push(...children.split(' ').map(Number))
      }
    } catch {
      // Gone meanwhile, or no /proc: what was found so far.
    }
  }
  return tree
}

function cpuSecondsOf(pid: number): number {
  try {
    let ticks = 0
    for (const member of processTree(pid)) {
      const stat = readFileSync(`/proc/${member}/stat`, 'utf8')
      // Fields after the command name (which may contain spaces, hence the last ')'): utime is 14th, stime 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    }
    return ticks / ticksPerSecond()
  } catch {
    return Number.NaN
  }
}

function mainThreadOf(pid: number): { cpuSeconds: number; waitSeconds: number } {
  try {
    let cpuNs = 0
    let waitNs = 0
    for (const member of processTree(pid)) {
      const [cpu, wait] = readFileSync(`/proc/${member}/task/${member}/schedstat`, 'utf8').trim().split(' ')
      cpuNs += Number(cpu)
      waitNs += Number(wait)
    }
    return { cpuSeconds: cpuNs / 1e9, waitSeconds: waitNs / 1e9 }
  } catch {
    return { cpuSeconds: Number.NaN, waitSeconds: Number.NaN }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

function jsonUrl(line: string): string | undefined {
  try {
    return (JSON.parse(line) as { url?: string }).url
  } catch {
    return undefined
  }
}

/**
 * Spawns `node <script> [args]` (plain JavaScript: see compile.ts, or the built CLI) and waits for the
 * line that gives its URL. After that line, stdout is drained as it comes, bytes counted, never split
 * into lines: the app writes its log to a pipe that is read as fast as a log shipper would.
 */
export async function spawnApp(name: string, script: string, options: SpawnOptions): Promise<AppProcess> {
  const args: string[] = []
  if (options.cpuProfDir !== undefined) {
    // Node's default file names (with pid and thread id): worker threads (SQLite's checkpointer) write their own.
    args.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`)
  }
  args.push(script, ...(options.args ?? []))
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000)
    await exited(child)
    clearTimeout(timer)
  }

  let drained = 0
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timeoutMs = options.startTimeoutMs ?? 30_000
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${timeoutMs} ms`)),
        timeoutMs,
      )
      const parse = options.urlFromLine ?? jsonUrl
      let pending = ''
      const stdout = child.stdout!
      const lookForUrl = (chunk: Buffer) => {
        pending += chunk.toString('utf8')
        let newline = pending.indexOf('\n')
        while (newline !== -1) {
          const found = parse(pending.slice(0, newline))
          pending = pending.slice(newline + 1)
          if (found !== undefined) {
            clearTimeout(timer)
            stdout.off('data', lookForUrl)
            drained = Buffer.byteLength(pending)
            stdout.on('data', (more: Buffer) => {
              drained += more.length
            })
            resolve(found)
            return
          }
          newline = pending.indexOf('\n')
        }
        if (pending.length > 1 << 20) reject(new Error(`${name} printed 1 MB without its URL`))
      }
      stdout.on('data', lookForUrl)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited before it started (code ${code}, signal ${signal})`))
      })
    })
    const pid = child.pid!
    return {
      name,
      url,
      pid,
      stdoutBytes: () => drained,
      cpuSeconds: () => cpuSecondsOf(pid),
      mainThread: () => mainThreadOf(pid),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
