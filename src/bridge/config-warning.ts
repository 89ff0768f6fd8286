/**
 * One warning on stderr for a bridge that refuses because of its configuration and has no logger.
 *
 * A 503 answers the browser with the code alone (the cause is the server's business, http-status.ts),
 * so without a logger a wrong issuer URL showed nowhere: the browser saw
 * `{"error":{"code":"ERR_DISCOVERY_FAILED"}}` and the server printed nothing. Once per bridge, so that
 * a busy page does not flood the output; the message is the library's own (it never holds a token).
 */
import type { JwksBridgeError } from '../errors.js'

/** The `code` of the process warning, for `process.on('warning')` and `--disable-warning`. */
export const CONFIGURATION_WARNING = 'JWKS_BRIDGE_CONFIGURATION'

// Refusals that a configuration fault causes (a wrong issuer, jwksUri, host or port). An outage
// gives them too; one warning is still the right amount then.
const CONFIGURATION_CODES: ReadonlySet<string> = new Set(['ERR_DISCOVERY_FAILED', 'ERR_JWKS_UNAVAILABLE'])

/** A function that warns at most once, for the codes above. */
export function configurationWarner(): (error: JwksBridgeError) => void {
  let warned = false
  return (error) => {
    if (warned || !CONFIGURATION_CODES.has(error.code)) return
    warned = true
    process.emitWarning(
      `jwks-bridge refused a request with ${error.code} (503; the response carries only the code): ` +
        `${error.message}. Pass a logger to the bridge to see every refusal.`,
      { code: CONFIGURATION_WARNING },
    )
  }
}
