/**
 * `jwks-bridge verify --access-token`: checks a token as the resource server would (RFC 9068, and
 * with `--dpop-proof` an RFC 9449 proof for `--method` and `--url`), for debugging an API's 401s.
 */
import { readFileSync } from 'node:fs'
import { isJwksBridgeError } from '../errors.js'
import type { Algorithm } from '../jose/algorithms.js'
import type { AccessTokenProfile } from '../resource-server/access-token.js'
import type { ResourceServerOptions } from '../resource-server/options.js'
import { createResourceServer, type ResourceServer } from '../resource-server/resource-server.js'
import { type CliContext, readJwksFile, readToken } from './io.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const VERIFY_ACCESS_TOKEN_HELP = `Usage: jwks-bridge verify --access-token --resource URL --issuer URL [--jwks-file PATH | --jwks-uri URL]
         [--scope S]... [--token-profile P] [--dpop-proof PROOF --url URL [--method M]] TOKEN|-

Checks an access token as an API built on createResourceServer would: signature, issuer, expiry,
"aud" = the resource (RFC 8707), "typ" at+jwt and the RFC 9068 claims (by profile), ID tokens
refused, scopes. With --dpop-proof, the token goes with the DPoP scheme and the proof is checked
for the request --method --url (RFC 9449 §4.3: typ, alg, jwk, htm, htu, iat, ath, cnf.jkt).
On success prints {"payload":...,"scopes":[...],"scheme":"Bearer"|"DPoP","jkt":...} on standard output.

Options:
  --access-token         check an access token (this mode)
  --resource URL         the API's identifier, which the token's "aud" must contain (required)
  --issuer URL           the exact "iss" value (required); without --jwks-file or --jwks-uri,
                         used for discovery
  --jwks-file PATH       a JSON Web Key Set file
  --jwks-uri URL         the issuer's key set URL (https://; http:// only for loopback hosts)
  --alg LIST             accepted algorithms, comma-separated (default RS256)
  --scope S              a scope the token must carry; repeat for several
  --token-profile P      rfc9068 (default: typ at+jwt, client_id, sub, iat, jti), generic, or cognito
  --clock-tolerance S    seconds of leeway for exp, nbf and iat (default 0)
  --dpop-proof PROOF     the DPoP header's value (a compact JWS), or @PATH to read it from a file
  --method M             the request's method for the proof's "htm" (default GET)
  --url URL              the URL the request addressed, for the proof's "htu" (needed with --dpop-proof)
  --dpop-max-age S       oldest proof accepted, from its "iat", in seconds (default 60)
  -h, --help             show this help

Exit status: 0 accepted; 1 refused ("CODE: message" on standard error); 2 usage error.

Example:
  jwks-bridge verify --access-token --resource https://api.example.com \\
      --issuer https://auth.example.com/ --jwks-uri https://auth.example.com/.well-known/jwks.json \\
      --scope read:things --dpop-proof "$PROOF" --method GET --url https://api.example.com/things - < token.txt
`

const OPTIONS = {
  'access-token': { type: 'boolean' },
  resource: { type: 'string', multiple: true },
  issuer: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string', multiple: true },
  'jwks-file': { type: 'string', multiple: true },
  alg: { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  'token-profile': { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string', multiple: true },
  'dpop-proof': { type: 'string', multiple: true },
  method: { type: 'string', multiple: true },
  url: { type: 'string', multiple: true },
  'dpop-max-age': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const

function once(values: readonly string[] | undefined, flag: string): string | undefined {
  if (values === undefined) return undefined
  if (values.length > 1) throw new UsageError(`${flag} was given ${values.length} times; give it once`)
  return values[0]
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,10}(\.\d{1,6})?$/.test(value))
    throw new UsageError(`${flag} takes a number of seconds >= 0, like 30`)
  return Number(value)
}

interface Parsed {
  options: ResourceServerOptions
  token: string
  proof: string | undefined
  method: string
  url: string
}

function parse(argv: readonly string[], context: CliContext): Parsed {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS)
  if (positionals.length !== 1) {
    throw new UsageError('give one TOKEN, or - to read it from standard input')
  }
  const resource = once(values.resource, '--resource')
  if (resource === undefined)
    throw new UsageError('missing --resource: the API identifier the token must name in "aud"')
  const issuer = once(values.issuer, '--issuer')
  if (issuer === undefined)
    throw new UsageError('missing --issuer: give the exact "iss" value of the tokens to accept')
  const jwksFile = once(values['jwks-file'], '--jwks-file')
  const jwksUri = once(values['jwks-uri'], '--jwks-uri')
  if (jwksFile !== undefined && jwksUri !== undefined)
    throw new UsageError('give --jwks-uri or --jwks-file, not both')
  let proof = once(values['dpop-proof'], '--dpop-proof')
  if (proof?.startsWith('@')) proof = readProofFile(proof.slice(1))
  const url = once(values.url, '--url')
  if (proof !== undefined && url === undefined)
    throw new UsageError('--dpop-proof needs --url: the URL the request addressed')
  const options: ResourceServerOptions = {
    resource,
    issuer,
    tokenCache: false,
    scopes: values.scope ?? [],
    dpop: 'allowed',
  }
  if (jwksFile !== undefined) options.jwks = readJwksFile(jwksFile)
  if (jwksUri !== undefined) options.jwksUri = jwksUri
  if (values.alg !== undefined) {
    options.algorithms = values.alg
      .flatMap((value) => value.split(','))
      .map((name) => name.trim()) as Algorithm[]
  }
  const profile = once(values['token-profile'], '--token-profile')
  if (profile !== undefined) options.accessTokenProfile = profile as AccessTokenProfile
  const tolerance = seconds(once(values['clock-tolerance'], '--clock-tolerance'), '--clock-tolerance')
  if (tolerance !== undefined) options.clockToleranceSeconds = tolerance
  const maxAge = seconds(once(values['dpop-max-age'], '--dpop-max-age'), '--dpop-max-age')
  if (maxAge !== undefined) options.dpopMaxAgeSeconds = maxAge
  if (context.nowMs !== undefined) options.nowMs = context.nowMs
  return {
    options,
    token: positionals[0] as string,
    proof,
    method: once(values.method, '--method') ?? 'GET',
    url: url ?? resource,
  }
}

function readProofFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    throw new UsageError('--dpop-proof @PATH: the file cannot be read')
  }
}

/** Whether `verify` was asked for the access-token mode (before any `--`). */
export function asksForAccessToken(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--access-token') return true
  }
  return false
}

/** Runs the access-token mode of `verify`. */
export async function runVerifyAccessToken(argv: readonly string[], context: CliContext): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: VERIFY_ACCESS_TOKEN_HELP, stderr: '' }
  let api: ResourceServer
  let parsed: Parsed
  let token: string
  try {
    parsed = parse(argv, context)
    api = createResourceServer(parsed.options)
    token = await readToken(parsed.token, context.stdin)
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('verify', error.message, VERIFY_ACCESS_TOKEN_HELP)
    if (isJwksBridgeError(error)) {
      return {
        exitCode: 2,
        stdout: '',
        stderr: `${error.code}: ${error.message}\n\n${VERIFY_ACCESS_TOKEN_HELP}`,
      }
    }
    throw error
  }
  const headers: Record<string, string> =
    parsed.proof === undefined
      ? { authorization: `Bearer ${token}` }
      : { authorization: `DPoP ${token}`, dpop: parsed.proof }
  try {
    const auth = await api.authenticate({ method: parsed.method, url: parsed.url, headers })
    const out = {
      payload: auth.payload,
      scopes: auth.scopes,
      scheme: auth.scheme,
      ...(auth.jkt === undefined ? {} : { jkt: auth.jkt }),
    }
    return { exitCode: 0, stdout: `${JSON.stringify(out)}\n`, stderr: '' }
  } catch (error) {
    if (isJwksBridgeError(error)) {
      const why =
        error.reason !== undefined && !error.message.includes(error.reason) ? ` (${error.reason})` : ''
      return { exitCode: 1, stdout: '', stderr: `${error.code}: ${error.message}${why}\n` }
    }
    throw error
  } finally {
    api.close()
  }
}
