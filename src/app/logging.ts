/**
 * The reference app's JSON logs (pino, through Fastify): one access line per request, one request id
 * on every line a request causes, and never a token, a session cookie, a CSRF token or any other
 * secret.
 *
 * How that is guaranteed rather than hoped for:
 * - the access line is written here (AccessLogController), from the request and response
 *   serializers, which name what they keep (method, path, address; status), so headers, bodies and
 *   query strings never reach a line; the query is dropped because providers and apps put codes and
 *   tokens there (OAuth 2.0 Security BCP, RFC 9700 §4.2.4 / §4.3);
 * - Fastify's own per-request lines that quote the URL or an error's message (route not found, the
 *   default error handler) are replaced by lines that do not;
 * - any other record is scrubbed of fields named like secrets (`cookie`, `authorization`,
 *   `x-csrf-token`, `set-cookie`, `token`, `jwt`, …) at any depth, should code log them by hand;
 * - errors are logged by class, code and status, never by message (a JSON parse error quotes the
 *   body it choked on: the token), and a stack keeps its frames, not its first line;
 * - the bridge itself passes its logger only event names, codes and ids (src/bridge/types.ts).
 *
 * What it costs: one line per request, built from a few whitelisted fields (no redaction pass: the
 * scrub skips the serialized `req`, `res` and `err`, and finds nothing else on an access line), and
 * nothing at all when the level drops the line.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { hostname } from 'node:os'
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify'
import type { BridgeLogger } from '../bridge/types.js'
import { isJwksBridgeError } from '../errors.js'

/** Where log lines go when not to stdout (tests capture them). */
export interface LogStream {
  write(line: string): void
}

// Field names removed from any record wherever they occur (headers and token-like fields), as they
// are usually spelled.
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'cookie',
  'Cookie',
  'authorization',
  'Authorization',
  'x-csrf-token',
  'X-CSRF-Token',
  'set-cookie',
  'Set-Cookie',
  'token',
  'jwt',
  'sessionToken',
  'csrfToken',
  'password',
  'secret',
])
// Top-level fields whose serializers (below) build a new object of named fields: nothing else of
// the value reaches the line, so they need no scrub.
const SERIALIZED_FIELDS: ReadonlySet<string> = new Set(['req', 'res', 'err'])
/** How deep the scrub looks into nested objects (records are flat; this bounds a cyclic one). */
const SCRUB_DEPTH = 4

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function scrub(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined
  for (const key in record) {
    if (depth === 0 && SERIALIZED_FIELDS.has(key)) continue
    if (SECRET_FIELDS.has(key)) {
      copy ??= { ...record }
      delete copy[key]
      continue
    }
    const value = record[key]
    if (depth < SCRUB_DEPTH && isPlainObject(value)) {
      const cleaned = scrub(value, depth + 1)
      if (cleaned !== value) {
        copy ??= { ...record }
        copy[key] = cleaned
      }
    }
  }
  return copy ?? record
}

/**
 * pino's `formatters.log`: the record without any field named like a secret, at any depth (a copy
 * when one is found; the record itself, unchanged, when none is).
 */
export function withoutSecrets(record: Record<string, unknown>): Record<string, unknown> {
  return scrub(record, 0)
}

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

/** Fastify's `logger` option: JSON lines at `level`, with the serializers and the scrub above. */
export function loggerOptions(level: string, stream?: LogStream): Record<string, unknown> {
  return {
    level,
    ...(stream === undefined ? {} : { stream }),
    formatters: { log: withoutSecrets },
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

/** pino's level values: a line at `info` is written when the logger's level value is at most 30. */
const INFO = 30

/** A JSON string, or null (pino drops an undefined field; a line must stay valid JSON). */
const jsonString = (value: string | undefined): string =>
  value === undefined ? 'null' : JSON.stringify(value)

/**
 * Fastify's request logging, replaced: one access line per request when the response is finished
 * (Fastify's default writes two, "incoming request" and "request completed"), at `info` unless the
 * route's `logLevel` is above it, with the request id, method, path, address, status and
 * `responseTime` in milliseconds, in the shape pino gives Fastify's own lines. The line is built
 * here, from these whitelisted fields (every string JSON-escaped), and handed to the log's stream:
 * pino's generic path (serializers, a merged object, a stringify per field) cost more than the rest
 * of the request's logging together. Nothing is built when the level drops the line.
 */
export class AccessLogController extends LogController {
  readonly #stream: LogStream
  /** pino's base fields, as it writes them after `time`. */
  readonly #base: string

  /** `stream`: the one the app's pino logger writes to. */
  constructor(stream: LogStream) {
    super()
    this.#stream = stream
    this.#base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const log = reply.log
    if (error) {
      // The response could not be sent in full (the connection broke, a stream failed).
      log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
      return
    }
    // The request's logger carries the route's level (probes: warn) or the app's.
    if (((log as { levelVal?: number }).levelVal ?? INFO) > INFO) return
    this.#stream.write(
      `{"level":30,"time":${Date.now()}${this.#base},"reqId":${jsonString(String(request.id))},` +
        `"req":{"method":${jsonString(request.method)},"path":${jsonString(pathOnly(request.url))},` +
        `"remoteAddress":${jsonString(request.ip)}},"res":{"statusCode":${reply.statusCode}},` +
        `"responseTime":${reply.elapsedTime},"msg":"request completed"}\n`,
    )
  }

  // Fastify's own uses the error's message as the line's message, and a JSON parse error's message
  // quotes the body (the token). A failure (5xx) gets a line by class, code and frames; a refusal
  // (4xx) has its status on the access line already.
  override defaultErrorLog(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) reply.log.error({ err: error }, 'request failed')
  }

  // Fastify's own names the URL with its query string, where tokens travel (RFC 9700 §4.3): the
  // access line has the path and the 404.
  override routeNotFound(): void {}
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
 * Fastify's own request lines, so that one id finds every line of a request.
 */
export function bridgeLogger(base: FastifyBaseLogger): BridgeLogger {
  const at =
    (level: 'info' | 'warn' | 'error') =>
    (fields: Record<string, unknown>, message: string): void => {
      const { requestId, ...rest } = fields
      base[level](requestId === undefined ? rest : { reqId: requestId, ...rest }, message)
    }
  return { info: at('info'), warn: at('warn'), error: at('error') }
}
