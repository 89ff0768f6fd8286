// Private PostgreSQL and Redis servers for fault tests and benchmarks: each on a random free port of
// 127.0.0.1, with its data in its own temporary folder, so that a test can stop and restart it without
// touching the machine's shared servers (5432, 6379), which other tests use at the same time.
//
// Missing binaries fail loudly: a fault test that cannot start its server must not pass or skip.
// Everything started here is stopped and deleted by stop(), by an exit or signal handler if the
// process ends first, and by the next start (a folder whose owner process is gone is reaped).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface PrivateService {
  /** postgres://… or redis://… on 127.0.0.1. */
  url: string
  port: number
  /** Stops the server (data kept) and starts it again on the same port; resolves once it answers. */
  restart(options?: { downMs?: number }): Promise<void>
  /** Stops the server, keeping its data; `up()` starts it again. */
  down(): Promise<void>
  /** Starts a stopped server on the same port and waits until it answers. */
  up(): Promise<void>
  /** The server's process id while it runs (for memory readings), else undefined. */
  pid(): number | undefined
  /** Stops the server and deletes its folder. Safe to call twice and after a failure. */
  stop(): Promise<void>
}

const OWNER_FILE = 'owner.pid'
const READY_TIMEOUT_MS = 20_000

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// Cleanups to run if the process ends before stop(): synchronous, as 'exit' handlers must be.
const exitCleanups = new Set<() => void>()
let handlersInstalled = false

function onExit(cleanup: () => void): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true
    process.on('exit', () => {
      for (const run of exitCleanups) run()
    })
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // Without a handler Node ends at once and 'exit' never fires, leaving a server behind.
      process.once(signal, () => {
        for (const run of exitCleanups) run()
        exitCleanups.clear()
        process.exit(signal === 'SIGINT' ? 130 : 143)
      })
    }
  }
  exitCleanups.add(cleanup)
  return () => exitCleanups.delete(cleanup)
}

function newFolder(kind: 'pg' | 'redis'): string {
  reapStale(kind)
  const dir = mkdtempSync(join(tmpdir(), `jwks-bridge-${kind}-`))
  writeFileSync(join(dir, OWNER_FILE), String(process.pid))
  return dir
}

/** Removes folders (and PostgreSQL servers) left by runs that were killed before cleaning up. */
function reapStale(kind: 'pg' | 'redis'): void {
  const prefix = `jwks-bridge-${kind}-`
  let names: string[]
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(prefix))
  } catch {
    return
  }
  for (const name of names) {
    const dir = join(tmpdir(), name)
    let owner: number
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'))
    } catch {
      continue // Being created right now, or not ours.
    }
    if (!Number.isSafeInteger(owner) || owner <= 0 || processAlive(owner)) continue
    if (kind === 'redis') killOrphanRedis(dir)
    if (kind === 'pg' && existsSync(join(dir, 'data', 'postmaster.pid'))) {
      postgresTools().runSync('pg_ctl', [
        'stop',
        '-D',
        join(dir, 'data'),
        '-m',
        'immediate',
        '-w',
        '-t',
        '10',
      ])
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

const REDIS_PID_FILE = 'redis-server.pid'

/** A redis-server whose test process was killed outlives it (children are not killed with a parent). */
function killOrphanRedis(dir: string): void {
  try {
    const pid = Number(readFileSync(join(dir, REDIS_PID_FILE), 'utf8'))
    // Only if that process is still a redis-server (a pid can be reused).
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server')) process.kill(pid, 'SIGKILL')
  } catch {
    // No pid file, or the process is gone.
  }
}

/** Tails a log for error messages, never more than `max` characters. */
function tail(text: string, max = 2000): string {
  return text.length <= max ? text : text.slice(-max)
}

// --- Redis -----------------------------------------------------------------------------------------

function redisAnswersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let answer = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      // "-LOADING" while an append-only file is read back: not ready yet.
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
    socket.once('connect', () => socket.write('PING\r\n'))
  })
}

export interface PrivateRedisOptions {
  /**
   * Keep data across restarts: an append-only file written on every command (appendfsync always), as
   * a production Redis holding sessions would. Default false: `--save "" --appendonly no`, so a
   * restart empties it.
   */
  persistent?: boolean
  /**
   * A Redis Cluster node (`--cluster-enabled yes`, its nodes.conf in its folder, so that a restart
   * keeps its identity and slots); startPrivateRedisCluster joins several into a cluster.
   */
  cluster?: boolean
}

/** A `redis-server` child process on a free loopback port. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateService> {
  const check = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (check.error !== undefined || check.status !== 0) {
    throw new Error('redis-server is not installed: the fault tests need it to run a private Redis')
  }
  const port = await freePort()
  const dir = newFolder('redis')
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no']
  args.push('--dir', dir, '--protected-mode', 'yes', '--logfile', '')
  if (options.persistent === true) args.push('--appendonly', 'yes', '--appendfsync', 'always')
  else args.push('--appendonly', 'no')
  if (options.cluster === true) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'))
    args.push('--cluster-node-timeout', '5000')
  }
  let child: ChildProcess | undefined
  let output = ''
  let stopped = false

  const forget = onExit(() => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  async function up(): Promise<void> {
    if (child !== undefined) return
    output = ''
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    if (started.pid !== undefined) writeFileSync(join(dir, REDIS_PID_FILE), String(started.pid))
    const keep = (chunk: Buffer) => {
      output = tail(output + chunk.toString('utf8'), 4000)
    }
    started.stdout?.on('data', keep)
    started.stderr?.on('data', keep)
    started.once('exit', () => {
      if (child === started) child = undefined
    })
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (child !== started) throw new Error(`redis-server exited at start:\n${tail(output)}`)
      if (await redisAnswersPing(port)) return
      await sleep(50)
    }
    throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms:\n${tail(output)}`)
  }

  async function down(): Promise<void> {
    const running = child
    if (running === undefined) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    // SIGTERM: Redis shuts down cleanly (flushing the append-only file when there is one).
    running.kill('SIGTERM')
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    child = undefined
  }

  try {
    await up()
  } catch (error) {
    await down()
    forget()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    up,
    down,
    pid: () => child?.pid,
    async restart(restartOptions = {}) {
      await down()
      if (restartOptions.downMs) await sleep(restartOptions.downMs)
      await up()
    },
    async stop() {
      if (stopped) return
      stopped = true
      try {
        await down()
      } finally {
        forget()
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

export interface PrivateRedisCluster {
  /** The primaries, each a PrivateService (restart() keeps its slots; without persistence, not its data). */
  nodes: PrivateService[]
  /** host:port of every primary, as REDIS_CLUSTER_NODES takes them. */
  seeds: { host: string; port: number }[]
  /** Resolves once every node reports cluster_state:ok (after a restart, for instance). */
  ready(): Promise<void>
  /** Stops every node and deletes their folders. */
  stop(): Promise<void>
}

function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer) => {
      output = tail(output + chunk.toString('utf8'), 4000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`redis-cli failed (${error.message})`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`redis-cli ${args.join(' ')} failed (exit ${code}):\n${tail(output)}`))
    })
  })
}

/**
 * A Redis Cluster of `primaries` primaries (no replicas) on free loopback ports, each a redis-server
 * child process without persistence, joined with `redis-cli --cluster create` (slots split evenly).
 */
export async function startPrivateRedisCluster(primaries = 3): Promise<PrivateRedisCluster> {
  const nodes: PrivateService[] = []
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()))
  }
  const ready = async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      const states = await Promise.all(
        nodes.map((node) =>
          redisCli(['-p', String(node.port), 'cluster', 'info']).catch((error: Error) => error.message),
        ),
      )
      if (states.every((state) => state.includes('cluster_state:ok'))) return
      if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok:\n${states[0]}`)
      await sleep(100)
    }
  }
  try {
    for (let i = 0; i < primaries; i++) nodes.push(await startPrivateRedis({ cluster: true }))
    await redisCli([
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await ready()
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes, seeds: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), ready, stop }
}

// --- PostgreSQL ------------------------------------------------------------------------------------

interface PostgresTools {
  bin: string
  /**
   * Runs a server tool as the `postgres` OS user when we are root (PostgreSQL refuses to run as root).
   * Asynchronous: the app under test often shares this process, and must keep answering meanwhile.
   */
  run(tool: string, args: string[]): Promise<string>
  /** The same, blocking: for exit handlers only. */
  runSync(tool: string, args: string[]): void
  uid: number | undefined
  gid: number | undefined
}

let tools: PostgresTools | undefined

/** The newest /usr/lib/postgresql/<version>/bin (or $PG_BIN), and how to run its tools. */
function postgresTools(): PostgresTools {
  if (tools !== undefined) return tools
  let bin = process.env.PG_BIN
  if (bin === undefined) {
    const root = '/usr/lib/postgresql'
    const versions = existsSync(root)
      ? readdirSync(root)
          .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
          .sort((a, b) => Number(b) - Number(a))
      : []
    if (versions[0] !== undefined) bin = join(root, versions[0], 'bin')
  }
  if (bin === undefined || !existsSync(join(bin, 'initdb')) || !existsSync(join(bin, 'pg_ctl'))) {
    throw new Error(
      'PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin or $PG_BIN): the fault tests need initdb and pg_ctl',
    )
  }
  const asRoot = process.getuid?.() === 0
  let uid: number | undefined
  let gid: number | undefined
  if (asRoot) {
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
      gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    } catch {
      throw new Error('running as root needs a `postgres` OS user to run a private PostgreSQL')
    }
  }
  const found = bin
  const command = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(found, tool), ...args]] : [join(found, tool), args]
  tools = {
    bin: found,
    uid,
    gid,
    run(tool, args) {
      const [file, argv] = command(tool, args)
      return new Promise((resolve, reject) => {
        // pg_ctl start leaves the server running with our pipes open: read output only until the tool
        // itself exits, then let go of the pipes.
        const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
        let output = ''
        const keep = (chunk: Buffer) => {
          output = tail(output + chunk.toString('utf8'), 4000)
        }
        child.stdout.on('data', keep)
        child.stderr.on('data', keep)
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
        child.once('error', (error) => {
          clearTimeout(timer)
          reject(new Error(`${tool} failed (${error.message})`))
        })
        child.once('exit', (code, signal) => {
          clearTimeout(timer)
          child.stdout.destroy()
          child.stderr.destroy()
          if (code === 0) resolve(output)
          else reject(new Error(`${tool} failed (${signal ?? `exit ${code}`}):\n${tail(output)}`))
        })
      })
    },
    runSync(tool, args) {
      const [file, argv] = command(tool, args)
      spawnSync(file, argv, { stdio: 'ignore', timeout: 30_000 })
    },
  }
  return tools
}

export interface PrivatePostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. { shared_buffers: '256MB' }. */
  settings?: Record<string, string>
}

/**
 * A PostgreSQL cluster of its own: initdb in a temporary folder (trust authentication, loopback and a
 * socket in that folder only), a `test` database, pg_ctl to stop and start it.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivateService> {
  const pg = postgresTools()
  const port = await freePort()
  const dir = newFolder('pg')
  const data = join(dir, 'data')
  const log = join(dir, 'postgres.log')
  if (pg.uid !== undefined && pg.gid !== undefined) chownSync(dir, pg.uid, pg.gid)
  // Durability settings off: nothing here outlives the test, and a clean stop (-m fast) loses nothing.
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '50',
    ...options.settings,
  }
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ')
  let running = false
  let stopped = false

  const forget = onExit(() => {
    if (running) pg.runSync('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '10'])
    rmSync(dir, { recursive: true, force: true })
  })

  const withLog = (error: unknown): Error => {
    let logText = ''
    try {
      logText = readFileSync(log, 'utf8')
    } catch {}
    return new Error(`${(error as Error).message}\n--- postgres.log ---\n${tail(logText)}`)
  }

  async function up(): Promise<void> {
    if (running) return
    try {
      await pg.run('pg_ctl', ['start', '-D', data, '-l', log, '-w', '-t', '30', '-o', serverOptions])
    } catch (error) {
      throw withLog(error)
    }
    running = true
  }

  async function down(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!running) return
    // fast: clients are disconnected, transactions in flight roll back, then a clean shutdown.
    await pg.run('pg_ctl', ['stop', '-D', data, '-m', mode, '-w', '-t', '30'])
    running = false
  }

  async function discard(): Promise<void> {
    try {
      await down('fast')
    } catch {
      await down('immediate').catch(() => {})
    } finally {
      forget()
      rmSync(dir, { recursive: true, force: true })
    }
  }

  try {
    await pg.run('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ])
    await up()
    await pg.run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'test'])
  } catch (error) {
    await discard()
    throw error
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    port,
    up,
    down: () => down('fast'),
    pid() {
      if (!running) return undefined
      try {
        return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n', 1)[0])
      } catch {
        return undefined
      }
    },
    async restart(restartOptions = {}) {
      if (!restartOptions.downMs) {
        try {
          await pg.run('pg_ctl', [
            'restart',
            '-D',
            data,
            '-m',
            'fast',
            '-l',
            log,
            '-w',
            '-t',
            '30',
            '-o',
            serverOptions,
          ])
        } catch (error) {
          throw withLog(error)
        }
        running = true
        return
      }
      await down('fast')
      await sleep(restartOptions.downMs)
      await up()
    },
    async stop() {
      if (stopped) return
      stopped = true
      await discard()
    },
  }
}
