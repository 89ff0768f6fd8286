// `jwks-bridge serve` as a real process (through tsx, from src/), for what only a process shows:
// signals, exit status, cluster workers. Always killed by the end of the test, even on failure.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')

export interface ServeProcess {
  child: ChildProcess
  /** The app's URL, from the "listening on" line. */
  url: string
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>
  /** SIGKILL if still running (cleanup). */
  kill(): void
}

export async function startServe(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', ...args],
    {
      cwd: ROOT,
      // A clean environment: nothing from the test runner's (DATABASE_URL, ISSUER_URL…) leaks in.
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8')
  })
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start in time\n${err}`)), timeoutMs)
      const look = () => {
        const match = /listening on (http:\/\/\S+)/.exec(out)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1] as string)
        }
      }
      child.stdout?.on('data', look)
      exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`serve exited (${code}) before listening\n${err}`))
      })
    })
    return { child, url, stdout: () => out, stderr: () => err, exited, kill }
  } catch (error) {
    kill()
    throw error
  }
}

/** Waits for the exit, at most `timeoutMs`; kills and throws past it. */
export async function exitWithin(serve: ServeProcess, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`serve still running after ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([serve.exited, late])
  } finally {
    clearTimeout(timer)
    serve.kill()
  }
}
