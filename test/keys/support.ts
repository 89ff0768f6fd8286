// Shared pieces of the remote key set tests: an injected clock, an event log that tests can wait
// on (bounded in time), long-lived tokens, the verifier of a served key set, and small helpers that
// never print a token.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { createVerifier, isJwksBridgeError, type Verifier, type VerifierOptions } from '../../src/index.ts'
import type { KeySetEvent, KeySetStats } from '../../src/keys/events.ts'
import type { Route, TestServer } from '../helpers/jwks-server.ts'
import { b64u, ISSUER, NOW_SECONDS, signToken, type TestKey } from '../helpers/tokens.ts'

export const START_MS = NOW_SECONDS * 1000
export const JWKS_TYPE = { 'content-type': 'application/jwk-set+json' }

/** A clock the test moves by hand, so that hours of cache life take no real time. */
export class Clock {
  now = START_MS
  readonly nowMs = (): number => this.now
  advance(ms: number): void {
    this.now += ms
  }
}

/**
 * A token that stays valid for 30 days of injected time (tests move the clock by hours), for the
 * given issuer. `claims` and `header` are passed on to signToken.
 */
export function longToken(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  return signToken(key, { exp: NOW_SECONDS + 30 * 86400, ...claims }, header)
}

/** The set `{ keys: [...] }` of the given keys' public JWKs. */
export function jwks(...keys: TestKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((key) => key.jwk) }
}

/**
 * A token that names `kid`, built cheaply: a valid token's payload and signature (by `key`, ES256)
 * under a new header. It fails at key lookup (or, were the kid known, at the signature).
 */
export function tokenWithKid(key: TestKey, kid: string): string {
  const [, payload, signature] = longToken(key).split('.')
  return `${b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))}.${payload}.${signature}`
}

type EventOf<T extends KeySetEvent['type']> = Extract<KeySetEvent, { type: T }>

/** Records every key set event and lets a test wait for the next one of a type, with a time bound. */
export class EventLog {
  readonly events: KeySetEvent[] = []
  readonly #waiters: { test: (event: KeySetEvent) => boolean; resolve: (event: KeySetEvent) => void }[] = []

  readonly onEvent = (event: KeySetEvent): void => {
    this.events.push(event)
    for (const waiter of [...this.#waiters]) {
      if (waiter.test(event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        waiter.resolve(event)
      }
    }
  }

  of<T extends KeySetEvent['type']>(type: T): EventOf<T>[] {
    return this.events.filter((event): event is EventOf<T> => event.type === type)
  }

  /** Resolves with the next event of `type` emitted from now on; rejects after `timeoutMs` of real time. */
  next<T extends KeySetEvent['type']>(type: T, timeoutMs = 3000): Promise<EventOf<T>> {
    return new Promise<EventOf<T>>((resolve, reject) => {
      const waiter = {
        test: (event: KeySetEvent) => event.type === type,
        // Resolved one macrotask later: events are emitted from inside a fetch, and the fetch's own
        // bookkeeping (the in-flight marker, the shared cache write) finishes after them.
        resolve: (event: KeySetEvent) => {
          clearTimeout(timer)
          setImmediate(() => resolve(event as EventOf<T>))
        },
      }
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        reject(new Error(`no ${type} event within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiters.push(waiter)
    })
  }
}

/** What tests read from a rejection: the JwksBridgeError members, and the cause chain untyped. */
export interface Rejection {
  name: string
  message: string
  code?: string
  reason?: string
  cause?: any
}

/** The error a verification rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof Error, 'rejects with an Error')
    return error as Rejection
  }
  assert.fail('expected the verification to be rejected')
}

/** The `code` a verification rejects with, or 'ok' when it resolves. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'ok'
  } catch (error) {
    return isJwksBridgeError(error) ? error.code : `not a JwksBridgeError: ${(error as Error)?.name}`
  }
}

/** The error, its cause and its cause's cause, as text: to check that no token part leaks into any. */
export function errorChainText(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const e = current as Record<string, unknown>
    parts.push(String(e.message), String(e.reason), String(e.stack))
    current = e.cause
  }
  return parts.join('\n')
}

/** Asserts that no segment of `token` appears in `text`, without ever printing the token. */
export function assertNoTokenText(text: string, token: string): void {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  assert.equal(text.includes(header), false, 'the token header segment appears in the error')
  assert.equal(text.includes(payload), false, 'the token payload segment appears in the error')
  assert.equal(text.includes(signature), false, 'the token signature appears in the error')
}

/** A TCP port on 127.0.0.1 with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Lets pending promise callbacks and I/O callbacks run (a few macrotask turns). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** Real time for `ms` milliseconds (only where a real timeout is under test). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A verifier of a key set that `server` serves, with what the tests read from it. */
export interface RemoteVerifier {
  /** The route's path on `server`, and its URL (the verifier's `jwksUri`). */
  path: string
  url: string
  clock: Clock
  log: EventLog
  verifier: Verifier
  /** Requests the route has had. */
  count(): number
  /** Changes what the route answers from now on. */
  serve(route: Route): void
  /** The one issuer's key set figures. */
  stats(): KeySetStats
}

let routes = 0

/**
 * The remote key set tests' verifier: issuer ISSUER, ES256, `jwksUri` on `server`, an injected
 * Clock and an EventLog as `onEvent`; `options` add to these or override them (each test file sets
 * its cache, cooldown and retry figures). With `body`, a new route `/<name>-<n>` serves it as a JWK
 * Set (after `delayMs`); with `path`, the route is the test's to set.
 */
export function remoteVerifier(
  server: TestServer,
  init: {
    name?: string
    path?: string
    body?: unknown
    delayMs?: number
    options?: Partial<VerifierOptions>
  },
): RemoteVerifier {
  const path = init.path ?? `/${init.name ?? 'keys'}-${++routes}`
  if (init.body !== undefined) {
    server.routes.set(path, { body: init.body, headers: JWKS_TYPE, delayMs: init.delayMs ?? 0 })
  }
  const clock = new Clock()
  const log = new EventLog()
  const verifier = createVerifier({
    issuer: ISSUER,
    jwksUri: server.url(path),
    algorithms: ['ES256'],
    nowMs: clock.nowMs,
    onEvent: log.onEvent,
    ...init.options,
  } as VerifierOptions)
  return {
    path,
    url: server.url(path),
    clock,
    log,
    verifier,
    count: () => server.count(path),
    serve: (route) => {
      server.routes.set(path, route)
    },
    stats: () => {
      const all = verifier.keySetStats()
      assert.equal(all.length, 1)
      return all[0] as KeySetStats
    },
  }
}
