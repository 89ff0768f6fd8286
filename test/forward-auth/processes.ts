// Real nginx, Caddy and Ruby (Debian's packages) as foreground, loopback-only child processes with
// configuration generated into a temp dir from examples/forward-auth/. A missing binary fails the test
// with the command that installs it (.ci/run installs them).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const EXAMPLES = fileURLToPath(new URL('../../examples/forward-auth/', import.meta.url))

const PACKAGES: Record<string, string> = {
  nginx: 'nginx-light',
  caddy: 'caddy',
  ruby: 'ruby ruby-rack ruby-webrick',
}

export function requireBinary(name: 'nginx' | 'caddy' | 'ruby'): void {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0
  assert.ok(found, `${name} is not installed: apt-get install -y ${PACKAGES[name]} (.ci/run does this)`)
}

/** Fills {{NAME}} placeholders of an example file and writes it into `dir`. */
export function writeConfig(dir: string, file: string, values: Record<string, string | number>): string {
  let text = readFileSync(join(EXAMPLES, file), 'utf8')
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{{${name}}}`, String(value))
  assert.doesNotMatch(text, /\{\{[A-Z_]+\}\}/, `a placeholder of ${file} was left unfilled`)
  const path = join(dir, file)
  writeFileSync(path, text)
  return path
}

export interface Child {
  process: ChildProcess
  output: () => string
  /**
   * Resolves once the output matches `pattern`, failing after `timeoutMs`. A child prints its log
   * line on its own schedule (after the answer, through a pipe): reading `output()` right after a
   * response races with it.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>
  stop(): Promise<void>
}

/** Starts a child and waits until its port accepts connections (bounded). */
export async function startChild(
  command: string,
  args: string[],
  port: number,
  env: Record<string, string> = {},
): Promise<Child> {
  let output = ''
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  const deadline = Date.now() + 15_000
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      assert.fail(`${command} did not start listening on ${port}:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const waitForOutput = async (pattern: RegExp, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs
    while (!pattern.test(output)) {
      if (Date.now() > deadline)
        assert.fail(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return output
  }
  return { process: child, output: () => output, waitForOutput, stop }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export function startRuby(port: number): Promise<Child> {
  requireBinary('ruby')
  return startChild('ruby', [join(EXAMPLES, 'app.rb')], port, { PORT: String(port) })
}

export function startNginx(dir: string, ports: { PORT: number; BRIDGE_PORT: number; APP_PORT: number }) {
  requireBinary('nginx')
  const config = writeConfig(dir, 'nginx.conf', { DIR: dir, ...ports })
  return startChild('nginx', ['-p', dir, '-c', config, '-g', 'daemon off;'], ports.PORT)
}

export function startCaddy(dir: string, ports: { PORT: number; BRIDGE_PORT: number; APP_PORT: number }) {
  requireBinary('caddy')
  mkdirSync(join(dir, 'caddy-data'), { recursive: true })
  const config = writeConfig(dir, 'Caddyfile', { DIR: dir, ...ports })
  return startChild('caddy', ['run', '--config', config, '--adapter', 'caddyfile'], ports.PORT, {
    HOME: dir,
    XDG_DATA_HOME: dir,
    XDG_CONFIG_HOME: dir,
  })
}
