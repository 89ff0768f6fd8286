import type { FetchFunction } from '../keys/http-fetch.js'
import { VERIFIER_DEFAULTS } from '../verifier/options.js'
import type { CliContext } from './io.js'
import {
  type FailedStep,
  LoadFailure,
  loadKeySetDocument,
  resolveTarget,
  verifierDefaults,
} from './jwks-fetch.js'
import { renderJson, renderTable } from './jwks-render.js'
import { analyzeKeySet, printable } from './jwks-report.js'
import { type CliResult, parseCommandArgs, UsageError, usageFailure, wantsHelp } from './usage.js'

export const JWKS_SUMMARY = "fetch an issuer's key set and list its keys and every problem jwks-bridge sees"

export const JWKS_HELP = `Usage: jwks-bridge jwks ISSUER-OR-URL [--discover] [--json]

Fetches a JSON Web Key Set the way the verifier does, and prints each key (kid, kty, alg,
RSA size or curve, use, key_ops, and whether jwks-bridge would use it), then every problem
with the document: keys it refuses and why (weak RSA, e=1, private members, "oct" keys,
points off the curve, unsupported key types or curves), keys it never verifies with (use
other than "sig"), missing and duplicate kids, keys without "alg" or "use", too many keys,
and the HTTP cache headers with the freshness jwks-bridge would give the set.
Only public identifiers are printed: never n, e, x, y or any private member.

Which document is fetched:
  - a URL whose path ends in /.well-known/openid-configuration is a discovery document;
    the issuer it must name is the URL without that suffix
  - with --discover, ISSUER-OR-URL is an issuer: <issuer>/.well-known/openid-configuration
    is fetched (a trailing slash dropped), as 'jwks-bridge verify --issuer' does
  - otherwise ISSUER-OR-URL is fetched as a key set URL; if the server answers with
    anything but a key set (an error status, a redirect, another media type, JSON
    without a "keys" array), it is taken as an issuer and discovery is tried; not
    when the server cannot be reached or times out
  A discovery document's "issuer" must equal the issuer exactly, and its "jwks_uri"
  obeys the URL rules below.

Fetch rules (the verifier's defaults): https:// only, plain http:// only for 127.0.0.0/8,
::1 and localhost; redirects refused, not followed; ${VERIFIER_DEFAULTS.timeoutMs} ms for the whole fetch; at most
${VERIFIER_DEFAULTS.maxResponseBytes} bytes; media type application/jwk-set+json or application/json (a discovery
document: application/json); strict JSON.

Arguments:
  ISSUER-OR-URL   a key set URL (jwks_uri), an issuer, or a discovery document URL

Options:
  --discover      treat ISSUER-OR-URL as an issuer and use OpenID discovery
  --json          print one JSON object instead of the table:
                  {"url", "discovery", "usableKeys", "keys": [...], "problems": [...],
                   "cache": {...}}; each problem has "level" (error, warning, info),
                  "kind", "message", and "code" and "keys" (indexes) when they apply
  -h, --help      show this help

Exit status:
  0  the set has at least one key jwks-bridge would verify with
  1  it has none (the report is printed, and "CODE: message" on standard error), or it
     could not be fetched: "CODE: message (what URL)" on standard error, one line per
     attempt, e.g. "ERR_JWKS_FETCH_FAILED: fetching failed: status 404 (key set https://...)"
  2  usage error, including a URL that breaks the rules above

Examples:
  jwks-bridge jwks https://www.googleapis.com/oauth2/v3/certs
  jwks-bridge jwks --discover https://accounts.google.com
  jwks-bridge jwks https://auth.example.com/.well-known/openid-configuration --json | jq .problems
`

const JWKS_OPTIONS = {
  discover: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

function failureLine(step: FailedStep): string {
  const { code, message, reason } = step.error
  // The reason is often the message's own ending ("fetching failed: status 404"); add it otherwise.
  const detail = reason !== undefined && !message.includes(reason) ? `: ${reason}` : ''
  // The reason can quote the server's answer (a content type): escape what a terminal would obey.
  return printable(`${code}: ${message}${detail} (${step.what} ${step.url})`)
}

/**
 * `jwks-bridge jwks`. Exit 0 when the set has a usable key, 1 when it has none or cannot be fetched,
 * 2 on a usage error. Fetches with the global fetch, as the verifier does by default.
 */
export async function runJwks(argv: readonly string[], _context: CliContext): Promise<CliResult> {
  if (wantsHelp(argv)) return { exitCode: 0, stdout: JWKS_HELP, stderr: '' }
  let target: ReturnType<typeof resolveTarget>
  let json: boolean
  try {
    const { values, positionals } = parseCommandArgs(argv, JWKS_OPTIONS)
    if (positionals.length === 0)
      throw new UsageError('missing ISSUER-OR-URL: give a key set URL or an issuer')
    if (positionals.length > 1) throw new UsageError(`expected one ISSUER-OR-URL, got ${positionals.length}`)
    target = resolveTarget(positionals[0] as string, values.discover === true)
    json = values.json === true
  } catch (error) {
    if (error instanceof UsageError) return usageFailure('jwks', error.message, JWKS_HELP)
    throw error
  }
  const defaults = verifierDefaults()
  let loaded: Awaited<ReturnType<typeof loadKeySetDocument>>
  try {
    loaded = await loadKeySetDocument(globalThis.fetch as FetchFunction, target, defaults.fetchLimits)
  } catch (error) {
    if (error instanceof LoadFailure) {
      return { exitCode: 1, stdout: '', stderr: `${error.steps.map(failureLine).join('\n')}\n` }
    }
    throw error
  }
  const report = analyzeKeySet(loaded.document, loaded.headers, defaults.keyLimits, defaults.freshness)
  const stdout = json ? renderJson(loaded, report) : renderTable(loaded, report)
  if (report.refusal !== undefined) {
    return { exitCode: 1, stdout, stderr: `${report.refusal.code}: ${report.refusal.message}\n` }
  }
  return { exitCode: 0, stdout, stderr: '' }
}
