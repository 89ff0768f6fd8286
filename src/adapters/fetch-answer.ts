/**
 * The bridge's routes answered from a Web-standard `Request`: shared by jwks-bridge/fetch and
 * jwks-bridge/hono.
 */
import type { Bridge } from '../bridge/bridge.js'
import { errorResponse } from '../bridge/http-status.js'
import type { ResolvedFetchOptions } from './fetch-options.js'
import { fetchToBridgeRequest, readLimitedBody, requestTarget, toResponse } from './fetch-request.js'
import { answerRoute, isExtraRoute, pathOf } from './shared.js'

/** The bridge's `Response` for its own routes (and the extra route), null for any other request. */
export async function answer(
  bridge: Bridge,
  request: Request,
  options: ResolvedFetchOptions,
): Promise<Response | null> {
  // No URL object for the requests that are not the bridge's.
  const target = requestTarget(request.url)
  const extra = options.testSignIn
  const isExtra = isExtraRoute(extra, request.method, target)
  if (!isExtra && !bridge.isRoute(request.method, pathOf(target))) return null
  let body: Uint8Array
  try {
    body = await readLimitedBody(request, bridge.maxBodyBytes)
  } catch (error) {
    const refusal = errorResponse(error)
    if (refusal === undefined) throw error
    // The rest of the body is not read: ask for the connection to close rather than drain it.
    refusal.headers.connection = 'close'
    return toResponse(refusal)
  }
  const response = await answerRoute(bridge, extra, isExtra, fetchToBridgeRequest(request, options, body))
  return response === undefined ? null : toResponse(response)
}
