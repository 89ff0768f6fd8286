import { JwksBridgeError } from '../errors.js'

/** Which backing server a store talks to, as named in error messages. */
export type StoreKind = 'SQLite' | 'PostgreSQL' | 'Redis'

// A driver's error code that is safe to repeat: an errno name (ECONNREFUSED), a SQLSTATE (57P01),
// a SQLite result code (SQLITE_BUSY). Never a message: a database's message can quote the values of
// a row (PostgreSQL's "Key (...)=(...)" detail), and a Redis error carries the command's arguments.
const SAFE_CODE = /^[A-Z0-9_]{2,40}$/
const SAFE_NAME = /^[A-Za-z]{1,40}$/
// Messages known to carry nothing but the fact (node-postgres and ioredis connection failures).
const SAFE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  'Query read timeout',
  'Connection is closed.',
  'Command timed out',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
]

// SQLSTATE 42P01 undefined_table, 3F000 invalid_schema_name: the migrations were not applied.
const MISSING_SCHEMA = new Set(['42P01', '3F000'])

/** A short, safe description of a driver error: its code, or a known message, or its class name. */
export function safeReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && SAFE_CODE.test(code)) return code
  if (error instanceof Error) {
    if (SAFE_MESSAGES.includes(error.message)) return error.message
    if (SAFE_NAME.test(error.name)) return error.name
  }
  return 'unknown error'
}

/**
 * Wraps whatever a driver threw into ERR_STORE_UNAVAILABLE, so that the HTTP layer answers 503 and
 * nothing leaks. The driver's error is deliberately not attached as `cause`: loggers print causes,
 * and a cause can hold SQL parameters or Redis command arguments (a session's secret hash, a
 * subject). The reason keeps the driver's code for operators.
 */
export function storeFailure(kind: StoreKind, operation: string, error: unknown): JwksBridgeError {
  if (error instanceof JwksBridgeError) return error
  const reason = safeReason(error)
  if (MISSING_SCHEMA.has(reason)) {
    return new JwksBridgeError(
      'ERR_STORE_UNAVAILABLE',
      `${kind} store: ${operation} failed: the tables are missing; run 'jwks-bridge migrate' or create the stores with migrate: true`,
      { reason },
    )
  }
  return new JwksBridgeError('ERR_STORE_UNAVAILABLE', `${kind} store: ${operation} failed (${reason})`, {
    reason,
  })
}

/** Runs `operation`, turning any failure into ERR_STORE_UNAVAILABLE. */
export async function guarded<T>(kind: StoreKind, operation: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw storeFailure(kind, operation, error)
  }
}
