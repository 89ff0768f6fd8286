import { readConfig } from '../app/config.js'
import type { RunningApp } from '../app/server.js'
import { isJwksBridgeError } from '../errors.js'
import type { CliContext } from './io.js'
import { watchStop } from './stop.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const SERVE_SUMMARY =
  'run the reference app (the bridge, a page, GET /me; the dev provider by default)'

export const SERVE_HELP = `Usage: jwks-bridge serve [--port N] [--host H]

Runs the reference app: a page that says who is signed in, the handoff endpoint (PUT/POST/DELETE
/auth), GET /me, /healthz and /readyz. Without ISSUER_URL it mounts the development identity
provider at /dev-issuer, so signing in works with nothing else installed; with ISSUER_URL it trusts
that provider instead. Identities and sessions live in SQLite under ./data/ unless DATABASE_URL
(PostgreSQL) and REDIS_URL (sessions) say otherwise. Migrations are applied at start.

Options:
  --port N     port to listen on (default PORT or 3000; 0 picks a free one)
  --host H     address to listen on (default HOST or 127.0.0.1)
  -h, --help   show this help

Environment:
  ISSUER_URL      the identity provider to trust (exact "iss"); unset: the development provider
  JWKS_URI        its key set URL (default: OpenID discovery from ISSUER_URL)
  AUDIENCE        the audience tokens must carry
  ALGORITHMS      accepted algorithms, comma-separated (default RS256)
  TOKEN_PROFILE   generic (default), oidc-id-token or supertokens
  DATABASE_URL    PostgreSQL for identities and sessions (default SQLite in ./data/)
  SQLITE_PATH     the SQLite file (default ./data/jwks-bridge.sqlite)
  REDIS_URL       Redis for sessions and the replay guard
  TRUST_PROXY     true: X-Forwarded-Proto https counts as HTTPS (behind a TLS proxy)
  PUBLIC_URL      the app's URL as browsers see it (default http://HOST:PORT)
  LOG_LEVEL       pino level for the JSON request log (default info; silent to turn it off)

Exit status:
  0  stopped by SIGINT or SIGTERM (in-flight requests finish, stores are closed)
  1  could not start: a configuration error, the port is in use, a database unreachable
  2  usage error

Examples:
  jwks-bridge serve
  ISSUER_URL=https://tenant.auth0.com/ AUDIENCE=my-client TOKEN_PROFILE=oidc-id-token jwks-bridge serve
  DATABASE_URL=postgres://127.0.0.1/app REDIS_URL=redis://127.0.0.1:6379 jwks-bridge serve --port 8080
`

const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export interface ServeCliContext extends CliContext {
  write?: (text: string) => void
  signal?: AbortSignal
}

/** `jwks-bridge serve`: runs the reference app until stopped. */
export async function runServe(argv: readonly string[], context: ServeCliContext): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: SERVE_HELP, stderr: '' }
  const env = { ...context.env }
  try {
    const { values, positionals } = parseCommandArgs(argv, SERVE_OPTIONS)
    if (positionals.length > 0) throw new UsageError('serve takes no arguments, only options')
    if (values.port !== undefined) {
      if (!/^\d{1,5}$/.test(values.port)) throw new UsageError('--port takes a port number from 0 to 65535')
      env.PORT = values.port
    }
    if (values.host !== undefined) env.HOST = values.host
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('serve', error.message, SERVE_HELP)
    throw error
  }
  const write = context.write ?? ((text: string) => process.stdout.write(text))
  const watch = watchStop(context.signal)
  let app: RunningApp
  try {
    const config = readConfig(env)
    const level = env.LOG_LEVEL ?? 'info'
    // Loaded only here: the app needs fastify and a database driver, the other commands do not.
    const { startApp } = await import('../app/server.js')
    app = await startApp(config, { logger: level === 'silent' ? false : { level } })
    write(
      `jwks-bridge reference app listening on ${app.url}\n` +
        `  identity provider: ${app.devIssuer === undefined ? config.issuer?.url : `development provider at ${app.devIssuer.issuer} (never use it in production)`}\n` +
        `  stores: ${app.stores.description}\n` +
        'Press Ctrl+C to stop.\n',
    )
  } catch (error) {
    watch.dispose()
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
  await watch.stopped
  watch.dispose()
  await app.close()
  return { exitCode: 0, stdout: 'jwks-bridge serve: stopped\n', stderr: '' }
}
