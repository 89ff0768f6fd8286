/**
 * What every adapter does the same way, whatever its framework: the extra-route contract, which
 * requests are the bridge's, the authenticate → error response step, and the body-size refusal.
 * Translation of a framework's request and reply stays in each adapter.
 */
import type { Bridge } from '../bridge/bridge.js'
import { errorResponse } from '../bridge/http-status.js'
import type { Authenticated, BridgeRequest, BridgeResponse } from '../bridge/types.js'
import { JwksBridgeError } from '../errors.js'

/** A route to mount beside the bridge's, e.g. `enableTestSignIn(...)` from jwks-bridge/testing. */
export interface ExtraBridgeRoute {
  readonly method: 'POST'
  readonly path: string
  handle(request: BridgeRequest): Promise<BridgeResponse>
}

/** The path of a request target, without its query. */
export function pathOf(target: string): string {
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}

/** Whether the request is for the extra route (only `POST` to its exact path). */
export function isExtraRoute(extra: ExtraBridgeRoute | undefined, method: string, target: string): boolean {
  return extra !== undefined && method.toUpperCase() === 'POST' && pathOf(target) === extra.path
}

/** The refusal of a body past the bridge's cap (413), before or while it is read. */
export function bodyTooLarge(): JwksBridgeError {
  return new JwksBridgeError('ERR_BODY_TOO_LARGE', 'the body is too large')
}

/**
 * A Content-Length past the cap: refused before a byte is read. A missing or unparsable header gives
 * false (the reader counts the bytes then: chunked bodies have none).
 */
export function declaredTooLarge(contentLength: string | null | undefined, limit: number): boolean {
  if (contentLength === undefined || contentLength === null) return false
  const declared = Number(contentLength)
  return Number.isFinite(declared) && declared > limit
}

/** Either the request's identity (or null), or the response to send instead (a store is down: 503). */
export type AuthenticateOutcome =
  | { readonly auth: Authenticated | null; readonly response?: undefined }
  | { readonly auth?: undefined; readonly response: BridgeResponse }

/**
 * `bridge.authenticate`, with the bridge's own refusals (ERR_STORE_UNAVAILABLE → 503) turned into the
 * response to send; any other error is the framework's to handle, so it is thrown on.
 */
export async function authenticateOrRespond(
  bridge: Pick<Bridge, 'authenticate'>,
  request: BridgeRequest,
): Promise<AuthenticateOutcome> {
  try {
    return { auth: await bridge.authenticate(request) }
  } catch (error) {
    const response = errorResponse(error)
    if (response === undefined) throw error
    return { response }
  }
}

/** The bridge route's answer: the extra route's, or the bridge's (undefined: not the bridge's after all). */
export function answerRoute(
  bridge: Pick<Bridge, 'handle'>,
  extra: ExtraBridgeRoute | undefined,
  isExtra: boolean,
  request: BridgeRequest,
): Promise<BridgeResponse | undefined> {
  return isExtra && extra !== undefined ? extra.handle(request) : bridge.handle(request)
}
