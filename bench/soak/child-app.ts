// Starts bench/soak/app-process.ts as a child process and watches it: its URL, its resident memory
// (from /proc, independent of how busy it is), its heap (asked over IPC), and its stderr (counted, the
// last lines kept for the report).
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ChildMessage, ParentMessage } from './app-process.ts'

export interface ChildApp {
  url: string
  pid: number
  /** Resident set size in bytes (VmRSS), or undefined without /proc. */
  rss(): number | undefined
  /** process.memoryUsage() of the child after a full collection, or undefined if it does not answer within 2 s. */
  memory(): Promise<{ rss: number; heapTotal: number; heapUsed: number; external: number } | undefined>
  /** Lines the child wrote to stderr, and the last few of them. */
  stderr(): { lines: number; tail: string[] }
  stop(): Promise<void>
}

const ENTRY = fileURLToPath(new URL('./app-process.ts', import.meta.url))

/** Reads VmRSS of a process from /proc, in bytes. */
export function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

export async function startChildApp(env: Record<string, string>): Promise<ChildApp> {
  // A clean environment: only what the app is meant to read, so the caller's DATABASE_URL and the like
  // cannot leak in.
  const base: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name]
    if (value !== undefined) base[name] = value
  }
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ENTRY], {
    env: { ...base, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let lines = 0
  const tail: string[] = []
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue
      lines += 1
      tail.push(line.slice(0, 300))
      if (tail.length > 8) tail.shift()
    }
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the app did not start within 30 s')), 30_000)
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        resolve(message.url)
      } else if (message.type === 'failed') {
        clearTimeout(timer)
        reject(new Error(`the app failed to start: ${message.message}`))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the app exited at start (${code}): ${tail.join('\n')}`))
    })
  }).catch(async (error) => {
    child.kill('SIGKILL')
    await exited
    throw error
  })
  const pid = child.pid as number
  return {
    url,
    pid,
    rss: () => readRss(pid),
    memory() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.off('message', listener)
          resolve(undefined)
        }, 2000)
        const listener = (message: ChildMessage) => {
          if (message.type !== 'memory') return
          clearTimeout(timer)
          child.off('message', listener)
          resolve({
            rss: message.rss,
            heapTotal: message.heapTotal,
            heapUsed: message.heapUsed,
            external: message.external,
          })
        }
        child.on('message', listener)
        child.send({ type: 'memory' } satisfies ParentMessage)
      })
    },
    stderr: () => ({ lines, tail: [...tail] }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage)
      else child.kill('SIGTERM')
      await exited
      clearTimeout(timer)
    },
  }
}
