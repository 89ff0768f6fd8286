// Helpers for the store tests: where the real servers are, unique names per run, and local TCP
// servers that stand in for a database that is down, goes away, or never answers.
import { randomBytes } from 'node:crypto'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * The real PostgreSQL of the development and CI machines (trust auth), or the private one that
 * `npm test` (scripts/run-tests.mjs) started when none answered there: it sets TEST_DATABASE_URL.
 */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
/** Where POSTGRES_URL listens, for relays placed in front of it. */
export const POSTGRES = {
  host: new URL(POSTGRES_URL).hostname,
  port: Number(new URL(POSTGRES_URL).port || 5432),
}
/** The real Redis, or the private one `npm test` started (TEST_REDIS_URL, redis://host:port). */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const REDIS = { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) }

/** A name no other test file, run or engineer uses: lower case, digits and _. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString('hex')}`
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await listen(server)
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
}

/**
 * A TCP relay to a real server, which the test can cut: every connection through it is dropped at
 * once and new ones are refused, as when a database host goes away.
 */
export class TcpRelay {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  port = 0

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      const upstream = createConnection(target)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
  }

  async start(): Promise<this> {
    await listen(this.#server)
    this.port = (this.#server.address() as { port: number }).port
    return this
  }

  /** Stops listening and drops every open connection. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const socket of this.#sockets) socket.destroy()
    await closed
  }
}

/** A server that accepts connections and never answers (a partition, a hung server). */
export class BlackHole {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  port = 0

  constructor() {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
      socket.on('error', () => {})
    })
  }

  async start(): Promise<this> {
    await listen(this.#server)
    this.port = (this.#server.address() as { port: number }).port
    return this
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const socket of this.#sockets) socket.destroy()
    await closed
  }
}

/** Resolves with how long `promise` took to settle, in ms, and its rejection (or undefined). */
export async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now()
  try {
    await promise
    return { ms: performance.now() - started, error: undefined }
  } catch (error) {
    return { ms: performance.now() - started, error }
  }
}
