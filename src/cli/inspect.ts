import { isJwksBridgeError } from '../errors.js'
import { DEFAULT_MAX_TOKEN_LENGTH, decodeHeader, decodePayload, splitCompact } from '../jose/compact.js'
import type { JsonObject } from '../jose/json.js'
import { type CliContext, readToken } from './io.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const INSPECT_SUMMARY = "decode a token's header and claims WITHOUT verifying it"

export const NOT_VERIFIED_WARNING =
  'NOT VERIFIED: decoded only; the signature, issuer, audience and expiry were not checked. ' +
  "Do not trust these claims; use 'jwks-bridge verify' for that."

export const INSPECT_HELP = `Usage: jwks-bridge inspect TOKEN|-

Decodes a JWT's protected header and claims set WITHOUT verifying anything: not the signature,
not the issuer, not the expiry. Use it to look at a token; use 'jwks-bridge verify' to trust one.
The token must still be well formed (three canonical base64url segments, JSON objects, no
duplicate member names), by the same rules as verify. The signature is never printed.

Arguments:
  TOKEN          the compact JWT, or - to read it from standard input (prefer -: a token on
                 the command line lands in the shell history and the process list)

Options:
  -h, --help     show this help

Output:
  standard output  one JSON line:
                   {"verified":false,"warning":"NOT VERIFIED: ...","header":{...},"payload":{...}}
  standard error   the NOT VERIFIED warning, then for each of iat, nbf and exp that is present,
                   its date in ISO 8601 (UTC) and how far it is from now, e.g.
                   exp  2030-01-01T00:00:00.000Z  (in 3 days)

Exit status:
  0  decoded
  1  malformed token: "CODE: message" on standard error, e.g. "ERR_TOKEN_MALFORMED: ..."
  2  usage error

Examples:
  jwks-bridge inspect - < token.txt
  printf '%s' "$TOKEN" | jwks-bridge inspect - | jq .payload.sub
`

const INSPECT_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
} as const

const UNITS: readonly [string, number][] = [
  ['year', 365 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
]

/** "in 3 hours", "10 minutes ago", "now": the largest whole unit, rounded down. */
export function relativeTime(deltaSeconds: number): string {
  const size = Math.abs(deltaSeconds)
  if (size < 1) return 'now'
  for (const [unit, length] of UNITS) {
    if (size >= length) {
      const count = Math.floor(size / length)
      const span = `${count} ${unit}${count === 1 ? '' : 's'}`
      return deltaSeconds > 0 ? `in ${span}` : `${span} ago`
    }
  }
  return 'now'
}

// What a time in the past or future means for each claim, as verify would see it (without leeway).
const MEANING: Record<string, { past: string; future: string }> = {
  iat: { past: '', future: ': issued in the future' },
  nbf: { past: '', future: ': not yet valid' },
  exp: { past: ': expired', future: '' },
}

/** One human-readable line for a NumericDate claim (RFC 7519 §2), or undefined if it is absent. */
export function describeTime(
  claim: 'iat' | 'nbf' | 'exp',
  value: unknown,
  nowSeconds: number,
): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number')
    return `${claim}  not a NumericDate (a JSON ${value === null ? 'null' : typeof value})`
  if (!Number.isFinite(value)) return `${claim}  not a finite number (verify rejects it)`
  const date = new Date(value * 1000)
  if (Number.isNaN(date.getTime())) return `${claim}  ${value} is outside the range of dates`
  const delta = value - nowSeconds
  const meaning = MEANING[claim] as { past: string; future: string }
  const note = delta > 0 ? meaning.future : delta < 0 ? meaning.past : ''
  return `${claim}  ${date.toISOString()}  (${relativeTime(delta)}${note})`
}

/**
 * `jwks-bridge inspect`. Decodes without verifying: standard output carries `verified: false` and
 * the warning in the JSON itself, so that a script that reads only stdout sees it too.
 */
export async function runInspect(argv: readonly string[], context: CliContext): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: INSPECT_HELP, stderr: '' }
  let token: string
  try {
    const { positionals } = parseCommandArgs(argv, INSPECT_OPTIONS)
    if (positionals.length === 0) {
      throw new UsageError('missing TOKEN: give the token, or - to read it from standard input')
    }
    if (positionals.length > 1)
      throw new UsageError(`expected one TOKEN, got ${positionals.length} arguments`)
    token = await readToken(positionals[0] as string, context.stdin)
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('inspect', error.message, INSPECT_HELP)
    throw error
  }
  let header: JsonObject
  let payload: JsonObject
  try {
    // The same structural rules as verify, so that inspect never shows a reading of a token that
    // verify would parse differently. The signature segment is checked for shape, never decoded.
    const compact = splitCompact(token, DEFAULT_MAX_TOKEN_LENGTH)
    header = decodeHeader(compact)
    payload = decodePayload(compact)
  } catch (error) {
    if (isJwksBridgeError(error))
      return { exitCode: 1, stdout: '', stderr: `${error.code}: ${error.message}\n` }
    throw error
  }
  const nowSeconds = (context.nowMs ?? Date.now)() / 1000
  const lines = [NOT_VERIFIED_WARNING]
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    const line = describeTime(claim, payload[claim], nowSeconds)
    if (line !== undefined) lines.push(line)
  }
  const document = { verified: false, warning: NOT_VERIFIED_WARNING, header, payload }
  return { exitCode: 0, stdout: `${JSON.stringify(document)}\n`, stderr: `${lines.join('\n')}\n` }
}
