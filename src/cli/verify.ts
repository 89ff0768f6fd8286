import { isJwksBridgeError } from '../errors.js'
import type { Algorithm } from '../jose/algorithms.js'
import { decodePayload, splitCompact } from '../jose/compact.js'
import type { KeySetEvent } from '../keys/events.js'
import { type KeyRejectedEvent, VERIFIER_DEFAULTS, type VerifierOptions } from '../verifier/options.js'
import { createVerifier, type Verifier } from '../verifier/verifier.js'
import { type CliContext, readJwksFile, readToken } from './io.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'
import { asksForAccessToken, runVerifyAccessToken } from './verify-access-token.js'

export const VERIFY_SUMMARY = "check a token's signature and claims against the issuer's key set"

export const VERIFY_HELP = `Usage: jwks-bridge verify --issuer URL [--jwks-file PATH | --jwks-uri URL] [options] TOKEN|-

Verifies a JWT: its signature against the issuer's key set, its algorithm, issuer and expiry,
and its audience and age when asked. Nothing is trusted from the token's own header
(jku, jwk, x5u and x5c are ignored). On success prints {"header":...,"payload":...} as one
JSON line on standard output.

The key set comes from --jwks-file, from --jwks-uri, or, with neither, from OpenID discovery:
<issuer>/.well-known/openid-configuration is fetched, its "issuer" must equal --issuer exactly,
and its "jwks_uri" is fetched under the same rules as --jwks-uri.

Arguments:
  TOKEN                  the compact JWT, or - to read it from standard input
                         (prefer -: a token on the command line lands in the shell history
                         and in the process list, where other users can read it)

Options:
  --issuer URL           the exact value the token's "iss" claim must have (required);
                         without --jwks-file or --jwks-uri it must be a URL under the
                         --jwks-uri rules, used for discovery
  --jwks-file PATH       a JSON Web Key Set file, {"keys": [...]}, e.g. a saved copy of
                         the issuer's jwks_uri document
  --jwks-uri URL         the issuer's key set URL (https://; plain http:// only for
                         127.0.0.0/8, ::1 and localhost); give it or --jwks-file, not both
  --audience A           accept the token only if its "aud" contains A; repeat the option
                         to accept any of several audiences
  --alg LIST             accepted algorithms, comma-separated (default ${VERIFIER_DEFAULTS.algorithms.join(',')}), from:
                         RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519
  --clock-tolerance S    seconds of leeway for exp, nbf, iat and the token age (default ${VERIFIER_DEFAULTS.clockToleranceSeconds})
  --max-token-age S      reject a token issued more than S seconds ago (needs "iat")
  --access-token         check an API access token (RFC 9068) and its DPoP proof (RFC 9449):
                         see jwks-bridge verify --access-token --help
  -h, --help             show this help

Exit status:
  0  the token is valid: {"header":...,"payload":...} on standard output
  1  the token was rejected, or its key set could not be fetched or discovered:
     "CODE: message" on standard error, e.g. "ERR_JWT_EXPIRED: the token has expired"
  2  usage error: unknown or missing option, bad number, unreadable key set file,
     a URL that breaks the rules above

Examples:
  jwks-bridge verify --issuer https://auth.example.com --jwks-file jwks.json - < token.txt
  jwks-bridge verify --issuer https://accounts.google.com --audience my-client-id - < token.txt
  printf '%s' "$TOKEN" | jwks-bridge verify --issuer https://auth.example.com \\
      --jwks-file jwks.json --audience my-api --alg RS256,ES256 -
  jwks-bridge verify --issuer https://auth.example.com --jwks-file jwks.json \\
      --clock-tolerance 30 --max-token-age 3600 - < token.txt
`

const VERIFY_OPTIONS = {
  issuer: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string', multiple: true },
  'jwks-file': { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  alg: { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string', multiple: true },
  'max-token-age': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const

/** The verify command's flags after parsing: each present at most once, numbers checked. */
export interface VerifyFlags {
  issuer: string | undefined
  jwksUri: string | undefined
  jwksFile: string | undefined
  audience: string[]
  /** From --alg, split on commas; undefined leaves the verifier's default (RS256). */
  algorithms: string[] | undefined
  clockToleranceSeconds: number | undefined
  maxTokenAgeSeconds: number | undefined
  /** The TOKEN argument as given: the token, or `-` for standard input. */
  token: string
}

/** What optionsFromFlags takes from the command's context rather than from flags. */
export interface OptionsContext {
  /** The verifier's clock (tests); default real time. */
  nowMs?: () => number
  /** Called for each key of the set that the verifier skipped; the CLI turns them into warnings. */
  onKeyRejected?: (event: KeyRejectedEvent) => void
  /** Remote key set events; the CLI reports failed fetches, which say why a key set is unavailable. */
  onEvent?: (event: KeySetEvent) => void
}

function once(values: readonly string[] | undefined, flag: string): string | undefined {
  if (values === undefined) return undefined
  if (values.length > 1) throw new UsageError(`${flag} was given ${values.length} times; give it once`)
  return values[0]
}

// Plain decimal seconds: "30", "1.5". No signs, exponents, hex or units, so that a typo like "3O"
// or "30s" is an error rather than NaN or 30.
const SECONDS = /^\d{1,10}(\.\d{1,6})?$/

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!SECONDS.test(value)) {
    throw new UsageError(`${flag} takes a number of seconds >= 0, like 30 or 1.5`)
  }
  return Number(value)
}

function algorithmList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  const list = values.flatMap((value) => value.split(',')).map((name) => name.trim())
  if (list.some((name) => name.length === 0)) {
    throw new UsageError('--alg takes a comma-separated list of algorithm names, like RS256,ES256')
  }
  return list
}

/** Parses the verify command line. Throws UsageError; `--help` is handled by the caller. */
export function parseVerifyArgs(argv: readonly string[]): VerifyFlags {
  const { values, positionals } = parseCommandArgs(argv, VERIFY_OPTIONS)
  if (positionals.length === 0) {
    throw new UsageError('missing TOKEN: give the token, or - to read it from standard input')
  }
  if (positionals.length > 1) {
    throw new UsageError(`expected one TOKEN, got ${positionals.length} arguments`)
  }
  return {
    issuer: once(values.issuer, '--issuer'),
    jwksUri: once(values['jwks-uri'], '--jwks-uri'),
    jwksFile: once(values['jwks-file'], '--jwks-file'),
    audience: values.audience ?? [],
    algorithms: algorithmList(values.alg),
    clockToleranceSeconds: seconds(once(values['clock-tolerance'], '--clock-tolerance'), '--clock-tolerance'),
    maxTokenAgeSeconds: seconds(once(values['max-token-age'], '--max-token-age'), '--max-token-age'),
    token: positionals[0] as string,
  }
}

/**
 * The one place where command-line flags become `createVerifier` options. Throws UsageError for
 * combinations the CLI refuses; everything else (algorithm names, the audience, the key set URL,
 * its scheme and host, the issuer as a discovery URL) is left to `createVerifier`, which reports it
 * as ERR_INVALID_OPTIONS (exit 2), so that the CLI and the library never disagree on a rule.
 *
 * Key source: `--jwks-file` becomes `jwks`, `--jwks-uri` is passed through as `jwksUri`; with
 * neither, both stay unset and the library discovers the key set from the issuer (OpenID Connect
 * Discovery 1.0 §4). A new flag (remote cache or timeout settings) is one line in VERIFY_OPTIONS,
 * one field in VerifyFlags and one line here.
 */
export function optionsFromFlags(flags: VerifyFlags, context: OptionsContext = {}): VerifierOptions {
  if (flags.issuer === undefined) {
    throw new UsageError('missing --issuer: give the exact "iss" value of the tokens to accept')
  }
  if (flags.jwksUri !== undefined && flags.jwksFile !== undefined) {
    throw new UsageError('give --jwks-uri or --jwks-file, not both')
  }
  const options: VerifierOptions = {
    issuer: flags.issuer,
    // One token, one verification: a cache would only cost a hash.
    tokenCache: false,
  }
  if (flags.jwksFile !== undefined) options.jwks = readJwksFile(flags.jwksFile)
  if (flags.jwksUri !== undefined) options.jwksUri = flags.jwksUri
  if (flags.audience.length > 0) options.audience = flags.audience
  // The names are checked by createVerifier against its list (with an explanation for HS* and none).
  if (flags.algorithms !== undefined) options.algorithms = flags.algorithms as Algorithm[]
  if (flags.clockToleranceSeconds !== undefined) options.clockToleranceSeconds = flags.clockToleranceSeconds
  if (flags.maxTokenAgeSeconds !== undefined) options.maxTokenAgeSeconds = flags.maxTokenAgeSeconds
  if (context.nowMs !== undefined) options.nowMs = context.nowMs
  if (context.onKeyRejected !== undefined) options.onKeyRejected = context.onKeyRejected
  // Remote key sets only (a URL or discovery): a file has no fetches to report.
  if (context.onEvent !== undefined && flags.jwksFile === undefined) options.onEvent = context.onEvent
  return options
}

/** Where the keys come from, for warnings: the file, the URL, or the URL found by discovery. */
function keySourceLabel(flags: VerifyFlags, discovered: string | undefined): string {
  if (flags.jwksFile !== undefined) return `key set file ${JSON.stringify(flags.jwksFile)}`
  const url = flags.jwksUri ?? discovered
  if (url !== undefined) return `key set ${JSON.stringify(url)}`
  return `key set discovered from ${JSON.stringify(flags.issuer)}`
}

function keyWarning(source: string, event: KeyRejectedEvent): string {
  const kid = event.kid === undefined ? 'no kid' : `kid ${JSON.stringify(event.kid.slice(0, 64))}`
  return `warning: ${source}: key ${event.index} (${kid}) skipped: ${event.code}: ${event.reason}\n`
}

/**
 * Both issuers for ERR_ISSUER_MISMATCH: they usually differ by one character (a trailing slash), which
 * is invisible until the two are side by side. Issuers are public; the token itself is not printed.
 */
function issuerDetail(expected: string | undefined, token: string): string {
  let got: unknown
  try {
    got = decodePayload(splitCompact(token, token.length)).iss
  } catch {
    return ''
  }
  if (typeof got !== 'string') return ''
  return `: --issuer is ${JSON.stringify(expected)}, the token's "iss" is ${JSON.stringify(got.slice(0, 200))}; give --issuer exactly as "iss"`
}

/**
 * `jwks-bridge verify`. Exit 0 with the verified header and payload, 1 with `CODE: message` when the
 * token is rejected, 2 on a usage error (with the help on standard error).
 */
export async function runVerify(argv: readonly string[], context: CliContext): Promise<CliResult> {
  if (asksForAccessToken(argv)) return runVerifyAccessToken(argv, context)
  if (wantsHelp(argv)) return { exitCode: 0, stdout: VERIFY_HELP, stderr: '' }
  let warnings = ''
  let verifier: Verifier
  let token: string
  let issuer: string | undefined
  try {
    const flags = parseVerifyArgs(argv)
    issuer = flags.issuer
    let discovered: string | undefined
    const options = optionsFromFlags(flags, {
      ...(context.nowMs === undefined ? {} : { nowMs: context.nowMs }),
      onKeyRejected: (event) => {
        warnings += keyWarning(keySourceLabel(flags, discovered), event)
      },
      onEvent: (event) => {
        if (event.type === 'discovered') discovered = event.jwksUri
        // The error code alone (ERR_JWKS_UNAVAILABLE) does not say why; the failed fetch does.
        if (event.type === 'fetch-failed') {
          const what = event.code === 'ERR_DISCOVERY_FAILED' ? 'discovery document' : 'key set'
          warnings += `warning: ${what} ${JSON.stringify(event.url)}: fetch failed: ${event.code}: ${event.reason}\n`
        }
      },
    })
    verifier = createVerifier(options)
    token = await readToken(flags.token, context.stdin)
  } catch (error) {
    if (error instanceof UsageError) {
      return usageFailure('verify', error.message, VERIFY_HELP, warnings)
    }
    // A JwksBridgeError here comes from createVerifier: the options, not the token, are wrong.
    if (isJwksBridgeError(error)) {
      return {
        exitCode: 2,
        stdout: '',
        stderr: `${error.code}: ${error.message}\n${warnings}\n${VERIFY_HELP}`,
      }
    }
    throw error
  }
  try {
    const { header, payload } = await verifier.verify(token)
    return { exitCode: 0, stdout: `${JSON.stringify({ header, payload })}\n`, stderr: warnings }
  } catch (error) {
    // The library's messages never contain the token; print them as they are. The CODE line comes
    // first so that tooling can read it from the first line whatever follows.
    if (isJwksBridgeError(error)) {
      const detail = error.code === 'ERR_ISSUER_MISMATCH' ? issuerDetail(issuer, token) : ''
      return { exitCode: 1, stdout: '', stderr: `${error.code}: ${error.message}${detail}\n${warnings}` }
    }
    throw error
  } finally {
    verifier.close()
  }
}
