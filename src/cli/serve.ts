import { availableParallelism } from 'node:os'
import type { AppConfig } from '../app/config.js'
import { readConfig } from '../app/config.js'
import type { RunningApp } from '../app/server.js'
import { isJwksBridgeError, JwksBridgeError } from '../errors.js'
import type { CliContext } from './io.js'
import { watchStop } from './stop.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const SERVE_SUMMARY =
  'run the reference app (the bridge, a page, GET /me; the dev provider by default)'

export const SERVE_HELP = `Usage: jwks-bridge serve [--port N] [--host H] [--workers N|auto]

Runs the reference app: a page that says who is signed in, the handoff endpoint (PUT/POST/DELETE
/auth), GET /me, /healthz and /readyz. Without ISSUER_URL it mounts the development identity
provider at /dev-issuer, so signing in works with nothing else installed; with ISSUER_URL it trusts
that provider instead. Identities and sessions live in SQLite under ./data/ unless DATABASE_URL
(PostgreSQL) and REDIS_URL (sessions) say otherwise. Migrations are applied at start. It also
serves /metrics (Prometheus) and writes JSON logs with a request id, never a token or a secret.

Options:
  --port N          port to listen on (default PORT or 3000; 0 picks a free one)
  --host H          address to listen on (default HOST or 127.0.0.1)
  --workers N|auto  run N worker processes on the port (node:cluster); 0 or auto: one per CPU.
                    A crashed worker is replaced (at most 5 times a minute). With more than one,
                    set ISSUER_URL: the development provider keeps its keys in each process
  -h, --help        show this help

Environment:
  ISSUER_URL      the identity provider to trust (exact "iss"); unset: the development provider
  JWKS_URI        its key set URL (default: OpenID discovery from ISSUER_URL)
  AUDIENCE        the audience tokens must carry
  ALGORITHMS      accepted algorithms, comma-separated (default RS256)
  TOKEN_PROFILE   generic (default), oidc-id-token or supertokens
  DATABASE_URL    PostgreSQL for identities and sessions (default SQLite in ./data/)
  DATABASE_SCHEMA PostgreSQL schema for the tables (default: the connection's search_path)
  SQLITE_PATH     the SQLite file (default ./data/jwks-bridge.sqlite)
  REDIS_URL       Redis for sessions, the replay guard and the shared key set cache
  REDIS_PREFIX    prefix of every Redis key (default jwks-bridge:)
  TRUST_PROXY     true: X-Forwarded-Proto https counts as HTTPS, X-Request-Id is kept (behind a proxy)
  PUBLIC_URL      the app's URL as browsers see it (default http://HOST:PORT)
  LOG_LEVEL       pino level for the JSON request log (default info; silent to turn it off)
  METRICS         false: no /metrics (default: served when prom-client is installed)
  METRICS_TOKEN   /metrics then needs Authorization: Bearer <token>
  SHUTDOWN_TIMEOUT_SECONDS  how long SIGTERM waits for in-flight requests (default 10)
  UPSTREAM_URL    reverse proxy: forward every other request there with X-Auth-* identity headers
                  (needs @fastify/http-proxy; see docs/forward-auth.md)
  PUBLIC_PATHS    path prefixes that reach the upstream without a session (comma-separated)
  UPSTREAM_TIMEOUT_SECONDS  bound on connecting to and waiting for the upstream (default 30)
  AUTH_SUBJECT_HEADER, AUTH_ISSUER_HEADER, AUTH_IDENTITY_ID_HEADER, AUTH_CLAIM_HEADERS
                  names of the identity headers (GET /auth/check and the proxy)

Exit status:
  0  stopped by SIGINT or SIGTERM (in-flight requests finished, stores closed)
  1  could not start (a configuration error, the port in use, a database unreachable); or the
     shutdown timed out; or workers kept crashing
  2  usage error

Examples:
  jwks-bridge serve
  ISSUER_URL=https://tenant.auth0.com/ AUDIENCE=my-client TOKEN_PROFILE=oidc-id-token jwks-bridge serve
  DATABASE_URL=postgres://127.0.0.1/app REDIS_URL=redis://127.0.0.1:6379 jwks-bridge serve --port 8080
  ISSUER_URL=https://tenant.auth0.com/ jwks-bridge serve --workers auto
`

const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Most workers accepted: far above any CPU count a single host offers, low enough to catch a typo. */
const MAX_WORKERS = 256

function workerCount(value: string): number {
  if (value === 'auto' || value === '0') return availableParallelism()
  if (!/^\d{1,3}$/.test(value) || Number(value) > MAX_WORKERS) {
    throw new UsageError(`--workers takes a number from 1 to ${MAX_WORKERS}, or 0 or auto (one per CPU)`)
  }
  return Number(value)
}

export interface ServeCliContext extends CliContext {
  write?: (text: string) => void
  signal?: AbortSignal
}

/** `jwks-bridge serve`: runs the reference app until stopped. */
export async function runServe(argv: readonly string[], context: ServeCliContext): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: SERVE_HELP, stderr: '' }
  const env = { ...context.env }
  let workers: number | undefined
  try {
    const { values, positionals } = parseCommandArgs(argv, SERVE_OPTIONS)
    if (positionals.length > 0) throw new UsageError('serve takes no arguments, only options')
    if (values.port !== undefined) {
      if (!/^\d{1,5}$/.test(values.port)) throw new UsageError('--port takes a port number from 0 to 65535')
      env.PORT = values.port
    }
    if (values.host !== undefined) env.HOST = values.host
    if (values.workers !== undefined) workers = workerCount(values.workers)
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('serve', error.message, SERVE_HELP)
    throw error
  }
  const { isServeWorker } = await import('../app/cluster.js')
  // A worker's PORT is the one its primary bound (it resolved --port 0 to a real port, once).
  if (isServeWorker(env)) return runWorker({ ...env, PORT: context.env.PORT })
  if (workers !== undefined) return runClusterPrimary(env, workers, context)
  return runSingle(env, context)
}

function startFailure(error: unknown, env: Record<string, string | undefined>): CliResult {
  const code = (error as { code?: unknown }).code
  if (code === 'EADDRINUSE') {
    return {
      exitCode: 1,
      stdout: '',
      stderr: `jwks-bridge serve: ${env.PORT ?? 3000} is in use; choose another with --port or PORT\n`,
    }
  }
  if (isJwksBridgeError(error)) {
    return { exitCode: 1, stdout: '', stderr: `${error.code}: ${error.message}\n` }
  }
  throw error
}

function loggerFor(env: Record<string, string | undefined>): false | { level: string } {
  const level = env.LOG_LEVEL ?? 'info'
  return level === 'silent' ? false : { level }
}

/**
 * Closes the app, waiting at most `timeoutMs` for in-flight requests. Past it, open connections are
 * cut and the answer is false (exit 1: requests were lost, the operator should know).
 */
async function closeWithin(app: RunningApp, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  const closing = app.close()
  try {
    if (await Promise.race([closing.then(() => true as const), late])) return true
  } finally {
    clearTimeout(timer)
  }
  app.fastify.server.closeAllConnections()
  // The pools close once the server has; give that a moment, no more.
  await Promise.race([closing.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  return false
}

/** After a timed-out shutdown of a real process: whatever still holds the event loop must not keep it. */
function exitSoon(): void {
  setTimeout(() => process.exit(1), 2000).unref()
}

function timedOut(config: AppConfig): string {
  return `jwks-bridge serve: requests were still running ${(config.shutdownTimeoutMs ?? 10_000) / 1000} s after the stop signal (SHUTDOWN_TIMEOUT_SECONDS); their connections were cut\n`
}

async function runSingle(
  env: Record<string, string | undefined>,
  context: ServeCliContext,
): Promise<CliResult> {
  const write = context.write ?? ((text: string) => process.stdout.write(text))
  const watch = watchStop(context.signal)
  let app: RunningApp
  let config: AppConfig
  try {
    config = readConfig(env)
    // Loaded only here: the app needs fastify and a database driver, the other commands do not.
    const { startApp } = await loadApp()
    app = await startApp(config, { logger: loggerFor(env) })
    write(
      `jwks-bridge reference app listening on ${app.url}\n` +
        `  identity provider: ${app.devIssuer === undefined ? config.issuer?.url : `development provider at ${app.devIssuer.issuer} (never use it in production)`}\n` +
        `  stores: ${app.stores.description}\n` +
        `  metrics: ${app.metrics === undefined ? 'off' : `${app.url}/metrics`}\n` +
        'Press Ctrl+C to stop.\n',
    )
  } catch (error) {
    watch.dispose()
    return startFailure(error, env)
  }
  await watch.stopped
  watch.dispose()
  if (!(await closeWithin(app, config.shutdownTimeoutMs ?? 10_000))) {
    if (context.signal === undefined) exitSoon()
    return { exitCode: 1, stdout: '', stderr: timedOut(config) }
  }
  return { exitCode: 0, stdout: 'jwks-bridge serve: stopped\n', stderr: '' }
}

/** A worker forked by `serve --workers`: the app on the primary's port, stopped by the primary. */
async function runWorker(env: Record<string, string | undefined>): Promise<CliResult> {
  const { leaveCluster, primaryStop, workerHooks } = await import('../app/cluster.js')
  const stop = primaryStop()
  let app: RunningApp
  let config: AppConfig
  try {
    config = readConfig(env)
    const { startApp } = await loadApp()
    app = await startApp(config, { logger: loggerFor(env), cluster: workerHooks() })
  } catch (error) {
    stop.dispose()
    let result: CliResult
    try {
      result = startFailure(error, env)
    } catch (unexpected) {
      leaveCluster(1)
      throw unexpected
    }
    leaveCluster(result.exitCode)
    return result
  }
  await stop.stopped
  stop.dispose()
  const closed = await closeWithin(app, config.shutdownTimeoutMs ?? 10_000)
  leaveCluster(closed ? 0 : 1)
  if (!closed) {
    exitSoon()
    return { exitCode: 1, stdout: '', stderr: timedOut(config) }
  }
  return { exitCode: 0, stdout: '', stderr: '' }
}

async function runClusterPrimary(
  env: Record<string, string | undefined>,
  workers: number,
  context: ServeCliContext,
): Promise<CliResult> {
  const write = context.write ?? ((text: string) => process.stdout.write(text))
  let config: AppConfig
  try {
    config = readConfig(env)
    if (config.devIssuer && workers > 1) {
      throw new UsageError(
        `--workers ${workers} needs ISSUER_URL: the development identity provider keeps its signing keys ` +
          'and sign-ins in the memory of each process, so a token signed by one worker would be refused ' +
          'by the others. Trust a real provider (or `jwks-bridge dev-issuer` run once, on its own) with ' +
          'ISSUER_URL, or run one worker',
      )
    }
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('serve', error.message, SERVE_HELP)
    return startFailure(error, env)
  }
  const { runPrimary } = await import('../app/cluster.js')
  const { freePort } = await import('../app/free-port.js')
  if (config.port === 0) {
    // Every worker must bind the same port: the primary picks it, once.
    env.PORT = String(await freePort(config.host))
    config = readConfig(env)
  }
  const watch = watchStop(context.signal)
  const exitCode = await runPrimary({
    workers,
    env,
    metrics: config.metrics ?? 'auto',
    shutdownTimeoutMs: config.shutdownTimeoutMs ?? 10_000,
    stopped: watch.stopped,
    report: (line) => process.stderr.write(`jwks-bridge serve: ${line}\n`),
    onReady: (pids) =>
      write(
        `jwks-bridge reference app listening on ${config.publicUrl} with ${workers} worker(s) (pids ${pids.join(', ')})\n` +
          `  identity provider: ${config.issuer === undefined ? 'development provider (never use it in production)' : config.issuer.url}\n` +
          'Press Ctrl+C to stop.\n',
      ),
  })
  watch.dispose()
  return exitCode === 0
    ? { exitCode: 0, stdout: 'jwks-bridge serve: stopped\n', stderr: '' }
    : { exitCode: 1, stdout: '', stderr: 'jwks-bridge serve: stopped with errors (see above)\n' }
}

/**
 * Loads the reference app. It needs fastify and a database driver (optional peers of the package):
 * when one is missing, say which and how to install it instead of a bare module error.
 */
async function loadApp(): Promise<typeof import('../app/server.js')> {
  try {
    return await import('../app/server.js')
  } catch (error) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec((error as Error).message)?.[1]
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && missing !== undefined) {
      throw new JwksBridgeError(
        'ERR_INVALID_OPTIONS',
        `serve needs the package "${missing}": npm install fastify better-sqlite3@12 (and pg, ioredis for PostgreSQL and Redis)`,
      )
    }
    throw error
  }
}
