/**
 * The reference app's JSON logs (pino, through Fastify): one request id on every line a request
 * causes, and never a token, a session cookie, a CSRF token or any other secret.
 *
 * How that is guaranteed rather than hoped for:
 * - the request and response serializers name what they keep (method, path, status), so headers,
 *   bodies and query strings never reach a line; the query is dropped because providers and apps
 *   put codes and tokens there (OAuth 2.0 Security BCP, RFC 9700 §4.2.4 / §4.3);
 * - the `Cookie`, `Authorization`, `X-CSRF-Token` and `Set-Cookie` headers, and fields named like
 *   tokens, are also removed by pino's redaction, should any code log them by hand;
 * - errors are logged by class, code and status, never by message (a JSON parse error quotes the
 *   body it choked on: the token), and a stack keeps its frames, not its first line;
 * - the bridge itself passes its logger only event names, codes and ids (src/bridge/types.ts).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { BridgeLogger } from '../bridge/types.js'
import { isJwksBridgeError } from '../errors.js'

/** Where log lines go when not to stdout (tests capture them). */
export interface LogStream {
  write(line: string): void
}

const SECRET_HEADERS = ['cookie', 'authorization', '"x-csrf-token"', '"set-cookie"']
const SECRET_FIELDS = ['token', 'jwt', 'sessionToken', 'csrfToken', 'password', 'secret']

/** pino redaction paths: the secret headers wherever a headers object is logged, and token-like fields. */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_HEADERS.flatMap((name) => [
    `headers.${name}`,
    `req.headers.${name}`,
    `res.headers.${name}`,
    `request.headers.${name}`,
    `reply.headers.${name}`,
    `response.headers.${name}`,
  ]).map((path) => path.replace(/\.("[^"]+")/g, '[$1]')),
  ...SECRET_FIELDS.flatMap((name) => [name, `*.${name}`]),
]

// An incoming X-Request-Id is kept only when it looks like an id: no spaces, quotes or control
// characters, bounded length (it is echoed in a header and written to every line).
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/

/**
 * Fastify's `genReqId`: a random UUID, or the proxy's `X-Request-Id` when the proxy is trusted
 * (TRUST_PROXY); a client reaching the app directly could otherwise choose ids to confuse the logs.
 */
export function requestIdGenerator(trustProxy: boolean): (req: IncomingMessage) => string {
  return (req) => {
    if (trustProxy) {
      const given = req.headers['x-request-id']
      if (typeof given === 'string' && REQUEST_ID.test(given)) return given
    }
    return randomUUID()
  }
}

function pathOnly(url: string | undefined): string {
  if (url === undefined) return ''
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** What an error line says: never the message. */
export function serializeError(error: unknown): Record<string, unknown> {
  if (isJwksBridgeError(error)) return { type: 'JwksBridgeError', code: error.code }
  if (!(error instanceof Error)) return { type: typeof error }
  const fields: Record<string, unknown> = { type: error.name }
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown }
  if (typeof code === 'string' && /^[A-Z0-9_]{2,60}$/.test(code)) fields.code = code
  if (typeof statusCode === 'number') fields.statusCode = statusCode
  // The frames say where; the first line (name and message) is what may quote a secret.
  if (typeof error.stack === 'string') fields.stack = error.stack.split('\n').slice(1).join('\n')
  return fields
}

/** Fastify's `logger` option: JSON lines at `level`, with the serializers and redaction above. */
export function loggerOptions(level: string, stream?: LogStream): Record<string, unknown> {
  return {
    level,
    ...(stream === undefined ? {} : { stream }),
    redact: { paths: [...REDACTED_PATHS], remove: true },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        path: pathOnly(request.url),
        remoteAddress: request.ip,
      }),
      res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
      err: serializeError,
    },
  }
}

/**
 * Echoes the request id in `X-Request-Id`. The bridge's own records carry the id too: the Fastify
 * adapter hands it over with each request (not through AsyncLocalStorage, whose promise hooks cost
 * every promise of the process: measured, 10% of sign-in throughput and 25% of GET /me).
 */
export function installRequestLogging(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
}

/**
 * The bridge's logger: writes through `base`, with the bridge's `requestId` renamed `reqId` as on
 * Fastify's own request lines, so that one id finds every line of a request; `observe` sees every
 * record first (metrics count refusals).
 */
export function bridgeLogger(
  base: FastifyBaseLogger,
  observe?: (fields: Record<string, unknown>) => void,
): BridgeLogger {
  const at =
    (level: 'info' | 'warn' | 'error') =>
    (fields: Record<string, unknown>, message: string): void => {
      observe?.(fields)
      const { requestId, ...rest } = fields
      base[level](requestId === undefined ? rest : { reqId: requestId, ...rest }, message)
    }
  return { info: at('info'), warn: at('warn'), error: at('error') }
}
