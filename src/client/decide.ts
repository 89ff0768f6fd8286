// The browser script's decisions, kept free of the DOM so that they are tested in Node: what a page
// asks for (from its meta tags), what a server reply means, and the one retry with a fresh token.
import type { TokenSource } from './token-source.js'

/** What the authentication endpoint answered: the HTTP status (0 when the request failed) and `error.code`. */
export interface Reply {
  status: number
  code?: string | undefined
}

/**
 * What to do on a page, given `<meta name="has-session">` and whether this tab handed a token over
 * just before the page was (re)loaded.
 * - `skip`: the server has the session ("true"), or the page does not say (no meta tag: not a page
 *   of the bridge, and acting there could reload forever).
 * - `ERR_SESSION_NOT_KEPT`: the server accepted a token, the page was refreshed, and it still has no
 *   session (its cookie was not stored: `Secure` cookie over http, blocked cookies). Handing over
 *   again would reload without end.
 */
export function pageAction(hasSession: string | null | undefined, handedOffBefore: boolean): string {
  if (hasSession !== 'false') return 'skip'
  return handedOffBefore ? 'ERR_SESSION_NOT_KEPT' : 'hand-off'
}

/** The error code for a reply, or '' when the server accepted it (any 2xx). */
export function replyCode({ status, code }: Reply): string {
  if (status > 199 && status < 300) return ''
  // Only a well-formed code is passed on to onError: the body is the server's, not ours to echo.
  if (code && /^ERR_[A-Z0-9_]+$/.test(code)) return code
  return status ? `ERR_HTTP_${status}` : 'ERR_NETWORK'
}

/**
 * The server refused a token it would take if it were fresh: too old for its `maxTokenAge`, or
 * already used once (replay guard). A token from a refresh can succeed; nothing else is retried.
 */
export function isRetryable({ status, code }: Reply): boolean {
  return status === 401 && (code === 'ERR_JWT_TOO_OLD' || code === 'ERR_TOKEN_REPLAYED')
}

/** A source's own `ERR_...` message (e.g. ERR_ACCESS_TOKEN_NOT_EXPOSED), else ERR_TOKEN_SOURCE. */
export function sourceErrorCode(error: unknown): string {
  const message = error instanceof Error ? error.message : ''
  return /^ERR_[A-Z0-9_]+$/.test(message) ? message : 'ERR_TOKEN_SOURCE'
}

/**
 * Hand the source's token to the server through `send`; when it is refused as too old or replayed,
 * refresh the source and send the new token once. Never more than two sends.
 *
 * @returns 'ok' when the server took a token, 'none' when the source had no token (nothing was
 *   sent), otherwise the error code to report.
 */
export async function handOff(source: TokenSource, send: (token: string) => Promise<Reply>): Promise<string> {
  let token: string | null | undefined
  try {
    token = await source.getToken()
  } catch (error) {
    return sourceErrorCode(error)
  }
  if (!token) return 'none'
  let reply = await send(token)
  if (isRetryable(reply) && source.refresh) {
    try {
      await source.refresh()
      const fresh = await source.getToken()
      // The same token again would be refused the same way: report the first refusal instead.
      if (fresh && fresh !== token) reply = await send(fresh)
    } catch {
      // A failed refresh leaves the first refusal as the answer to report.
    }
  }
  return replyCode(reply) || 'ok'
}
