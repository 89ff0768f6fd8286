import {
  DEV_ISSUER_ALGORITHMS,
  DEV_ISSUER_PROFILES,
  type DevIssuerAlgorithm,
  type DevIssuerProfile,
} from '../dev-issuer/options.js'
import { DEFAULT_DEV_ISSUER_PORT, type RunningDevIssuer, startDevIssuer } from '../dev-issuer/server.js'
import { isJwksBridgeError } from '../errors.js'
import type { CliContext } from './io.js'
import { watchStop } from './stop.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const DEV_ISSUER_SUMMARY =
  'run a local identity provider for development: sign-in page, tokens, key set'

export const DEV_ISSUER_HELP = `Usage: jwks-bridge dev-issuer [--port N] [--host H] [--alg A] [--profile P] [--issuer URL]

Runs a development identity provider until Ctrl+C (SIGINT) or SIGTERM: OpenID discovery, a
JSON Web Key Set, a sign-in page that asks for a user name (no password) and uses it as the
token's "sub", and a token endpoint for the signed-in browser. Prints the issuer, discovery
and key set URLs when it is ready. It logs nothing: no token or session id is ever printed.

Anyone who can reach it signs in under any name: it refuses to run with NODE_ENV=production,
and its --host and --issuer must be loopback (127.0.0.0/8, ::1, localhost) unless told otherwise.

Endpoints (under the issuer URL):
  /.well-known/openid-configuration   discovery document
  /.well-known/jwks.json              key set (also /jwt/jwks.json, SuperTokens' path)
  /sign-in                            GET: the page (?return_to=PATH comes back there);
                                      POST: signs in, sets the provider's session cookie
  /token                              GET: {"jwt": "..."} for the signed-in browser, 204 without
  /sign-out                           POST: ends the provider session
  /rotate                             POST: new signing key; the old one stays published until
                                      every token it signed has expired

Options:
  --port N               port to listen on (default ${DEFAULT_DEV_ISSUER_PORT}; 0 picks a free one)
  --host H               address to listen on (default 127.0.0.1); a host other than
                         127.0.0.0/8, ::1 or localhost needs --allow-non-loopback
  --alg A                signing algorithm: ${DEV_ISSUER_ALGORITHMS.join(', ')} (default RS256)
  --profile P            token shape (default generic):
                           generic      iss, sub, iat, exp, sid (and aud with --audience)
                           supertokens  a SuperTokens V5 access token: header version "5",
                                        kid "d-<millis>", sessionHandle, rsub, tId...;
                                        RS256 only
  --issuer URL           the issuer URL, the tokens' "iss" (default http://HOST:PORT); give it
                         when the provider is reached through another port or a path; a host
                         other than loopback needs --allow-non-loopback
  --audience A           put A in the tokens' "aud"
  --token-lifetime S     seconds from "iat" to "exp" (default 3600, at most 86400)
  --allow-non-loopback   DANGEROUS: allow a non-loopback --host or --issuer: anyone who reaches
                         it can then sign in as anyone; prints a warning; for a throwaway
                         test network only, never behind a public proxy
  -h, --help             show this help

Exit status:
  0  stopped by SIGINT or SIGTERM
  1  could not start: NODE_ENV=production, the port is in use, the host is not this machine's
  2  usage error: unknown option, bad number, unknown algorithm or profile, bad --issuer,
     a non-loopback --host or --issuer without --allow-non-loopback

Examples:
  jwks-bridge dev-issuer
  jwks-bridge dev-issuer --port 4001 --profile supertokens
  jwks-bridge dev-issuer --alg ES256 --audience my-app
  jwks-bridge verify --issuer http://127.0.0.1:${DEFAULT_DEV_ISSUER_PORT} --alg RS256 - < token.txt
  curl -X POST http://127.0.0.1:${DEFAULT_DEV_ISSUER_PORT}/rotate
`

const DEV_ISSUER_OPTIONS = {
  port: { type: 'string', multiple: true },
  host: { type: 'string', multiple: true },
  alg: { type: 'string', multiple: true },
  profile: { type: 'string', multiple: true },
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  'token-lifetime': { type: 'string', multiple: true },
  'allow-non-loopback': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** What the command reads besides the CliContext: tests stop it and read its output in-process. */
export interface DevIssuerCliContext extends CliContext {
  /** Where the ready lines go as soon as the provider listens. Default: standard output. */
  write?: (text: string) => void
  /** Stops the provider when aborted. Default: SIGINT or SIGTERM. */
  signal?: AbortSignal
}

interface DevIssuerFlags {
  port: number
  host: string | undefined
  alg: DevIssuerAlgorithm | undefined
  profile: DevIssuerProfile | undefined
  issuer: string | undefined
  audience: string | undefined
  tokenLifetimeSeconds: number | undefined
  allowNonLoopback: boolean
}

function once(values: readonly string[] | undefined, flag: string): string | undefined {
  if (values === undefined) return undefined
  if (values.length > 1) throw new UsageError(`${flag} was given ${values.length} times; give it once`)
  return values[0]
}

function wholeNumber(value: string | undefined, flag: string, max: number, what: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,6}$/.test(value) || Number(value) > max) throw new UsageError(`${flag} takes ${what}`)
  return Number(value)
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
): T | undefined {
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (exact spelling)`)
  }
  return value as T
}

function parseFlags(argv: readonly string[]): DevIssuerFlags {
  const { values, positionals } = parseCommandArgs(argv, DEV_ISSUER_OPTIONS)
  if (positionals.length > 0) throw new UsageError('dev-issuer takes no arguments, only options')
  const lifetime = wholeNumber(
    once(values['token-lifetime'], '--token-lifetime'),
    '--token-lifetime',
    86_400,
    'a whole number of seconds from 1 to 86400',
  )
  if (lifetime === 0) throw new UsageError('--token-lifetime takes a whole number of seconds from 1 to 86400')
  return {
    port:
      wholeNumber(once(values.port, '--port'), '--port', 65_535, 'a port number from 0 to 65535') ??
      DEFAULT_DEV_ISSUER_PORT,
    host: once(values.host, '--host'),
    alg: oneOf(once(values.alg, '--alg'), DEV_ISSUER_ALGORITHMS, '--alg'),
    profile: oneOf(once(values.profile, '--profile'), DEV_ISSUER_PROFILES, '--profile'),
    issuer: once(values.issuer, '--issuer'),
    audience: once(values.audience, '--audience'),
    tokenLifetimeSeconds: lifetime,
    allowNonLoopback: values['allow-non-loopback'] === true,
  }
}

function readyText(running: RunningDevIssuer): string {
  const devIssuer = running.devIssuer
  return `jwks-bridge dev-issuer: development identity provider (${devIssuer.alg}, ${devIssuer.profile} tokens); never use it in production
  issuer:     ${running.issuer}
  discovery:  ${running.discoveryUrl}
  jwks:       ${running.jwksUrl}
  sign-in:    ${running.signInUrl}
  token:      ${devIssuer.tokenUrl} (GET with the provider's session cookie)
  rotate:     curl -X POST ${devIssuer.rotateUrl}
Press Ctrl+C to stop.
`
}

/**
 * `jwks-bridge dev-issuer`: serves the development identity provider until stopped. Exit 0 when
 * stopped by a signal, 1 when it cannot start, 2 on a usage error.
 */
export async function runDevIssuer(
  argv: readonly string[],
  context: DevIssuerCliContext,
): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: DEV_ISSUER_HELP, stderr: '' }
  let flags: DevIssuerFlags
  try {
    flags = parseFlags(argv)
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('dev-issuer', error.message, DEV_ISSUER_HELP)
    throw error
  }
  if (context.env.NODE_ENV === 'production') {
    return {
      exitCode: 1,
      stdout: '',
      stderr:
        'jwks-bridge dev-issuer: refusing to run with NODE_ENV=production: this provider signs anyone in ' +
        'under any name. Unset NODE_ENV to develop, or point your app at a real identity provider.\n',
    }
  }
  // Handle the stop signals before listening on the port: a SIGTERM sent as soon as the URL is
  // printed must stop the provider cleanly, not kill the process with the default action.
  const watch = watchStop(context.signal)
  let running: RunningDevIssuer
  try {
    running = await startDevIssuer({
      port: flags.port,
      host: flags.host,
      alg: flags.alg,
      profile: flags.profile,
      issuer: flags.issuer,
      audience: flags.audience,
      tokenLifetimeSeconds: flags.tokenLifetimeSeconds,
      allowNonLoopback: flags.allowNonLoopback,
      env: context.env,
      nowMs: context.nowMs,
    })
  } catch (error) {
    watch.dispose()
    // Bad --issuer, a --host or --issuer off loopback without --allow-non-loopback, an option combination
    // (supertokens with ES256): the message says what to change.
    if (isJwksBridgeError(error, 'ERR_INVALID_OPTIONS')) {
      return usageFailure('dev-issuer', error.message, DEV_ISSUER_HELP)
    }
    const code = (error as { code?: unknown }).code
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      return { exitCode: 1, stdout: '', stderr: `jwks-bridge dev-issuer: ${listenFailure(code, flags)}\n` }
    }
    throw error
  }
  ;(context.write ?? ((text: string) => process.stdout.write(text)))(readyText(running))
  await watch.stopped
  watch.dispose()
  await running.close()
  return { exitCode: 0, stdout: 'jwks-bridge dev-issuer: stopped\n', stderr: '' }
}

function listenFailure(code: string, flags: DevIssuerFlags): string {
  const where = `${flags.host ?? '127.0.0.1'} port ${flags.port}`
  if (code === 'EADDRINUSE') return `${where} is in use; choose another with --port (0 picks a free one)`
  if (code === 'EACCES') return `permission denied to listen on ${where}; use a port above 1023`
  return `cannot listen on ${where}: the address is not one of this machine's; check --host`
}
