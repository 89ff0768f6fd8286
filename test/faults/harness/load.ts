// A bounded mixed load against the reference app, as browsers would send it: GET /me with a session
// cookie, and handoffs (PUT /auth with a fresh token, the CSRF cookie and header, a same-origin Origin).
// Every request is timed and classified by the code the app answered, so that a scenario can say what
// failed, how, for how long, and check afterwards that what succeeded was really stored.
//
// Tokens and session cookies are kept in memory only, for checks after recovery: never print them.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { IssuerHost } from './issuer-host.ts'

export type Kind = 'me' | 'handoff' | 'handoff-next'

export interface Outcome {
  kind: Kind
  /** performance.now() when the request was sent and when its answer (or failure) came. */
  startAt: number
  endAt: number
  /** 0 when no HTTP answer came. */
  status: number
  /** 'OK', the app's error code, 'TIMEOUT', 'NETWORK' or 'HTTP_<status>' for an answer without one. */
  code: string
  /** Handoffs: the token's subject (unique per handoff). */
  subject?: string
  /** The identity the app answered with (handoffs and /me). */
  identityId?: string
  /** Successful handoffs: the new session's id (the public half of the cookie). */
  sessionId?: string
  /** Successful handoffs: the session cookie, for later requests. Never print it. */
  cookie?: string
  /** Handoffs: the token sent. Never print it. */
  token?: string
}

export interface Session {
  /** `jwks-bridge-session=<id>.<secret>`. Never print it. */
  cookie: string
  sessionId: string
  identityId: string
  subject: string
}

const SESSION_COOKIE = 'jwks-bridge-session'
const CSRF_COOKIE = `${SESSION_COOKIE}-csrf`

async function errorCode(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown } }
    if (typeof body?.error?.code === 'string') return body.error.code
  } catch {}
  return `HTTP_${response.status}`
}

function failure(error: unknown): string {
  const name = (error as { name?: string })?.name
  return name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'NETWORK'
}

/** Talks to one running app. */
export class AppClient {
  readonly url: string
  readonly #timeoutMs: number

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    this.url = url
    this.#timeoutMs = options.timeoutMs ?? 10_000
  }

  /** PUT /auth as the browser script sends it. */
  async handoff(kind: Kind, token: string, subject: string): Promise<Outcome> {
    const csrf = randomBytes(32).toString('base64url')
    const startAt = performance.now()
    const outcome: Outcome = { kind, startAt, endAt: startAt, status: 0, code: 'NETWORK', subject, token }
    try {
      const response = await fetch(`${this.url}/auth`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          origin: this.url,
          'sec-fetch-site': 'same-origin',
          'x-csrf-token': csrf,
          cookie: `${CSRF_COOKIE}=${csrf}`,
        },
        body: JSON.stringify({ jwt: token }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      outcome.status = response.status
      if (response.status === 200) {
        const identity = (await response.json()) as { id?: unknown }
        const cookie = response.headers
          .getSetCookie()
          .map((line) => line.split(';', 1)[0] as string)
          .find((pair) => pair.startsWith(`${SESSION_COOKIE}=`) && pair.length > SESSION_COOKIE.length + 1)
        if (typeof identity.id === 'string' && cookie !== undefined) {
          outcome.code = 'OK'
          outcome.identityId = identity.id
          outcome.cookie = cookie
          outcome.sessionId = cookie.slice(SESSION_COOKIE.length + 1).split('.', 1)[0]
        } else outcome.code = 'NO_SESSION_COOKIE'
      } else outcome.code = await errorCode(response)
    } catch (error) {
      outcome.code = failure(error)
    }
    outcome.endAt = performance.now()
    return outcome
  }

  /** GET /me with a session; 'OK' only when the app names the session's own identity. */
  async me(session: Session): Promise<Outcome> {
    const startAt = performance.now()
    const outcome: Outcome = { kind: 'me', startAt, endAt: startAt, status: 0, code: 'NETWORK' }
    try {
      const response = await fetch(`${this.url}/me`, {
        headers: { cookie: session.cookie, accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      outcome.status = response.status
      if (response.status === 200) {
        const body = (await response.json()) as { id?: unknown }
        outcome.identityId = typeof body.id === 'string' ? body.id : undefined
        outcome.code = body.id === session.identityId ? 'OK' : 'WRONG_IDENTITY'
      } else outcome.code = await errorCode(response)
    } catch (error) {
      outcome.code = failure(error)
    }
    outcome.endAt = performance.now()
    return outcome
  }
}

/** Sessions to send GET /me with: a bounded pool, refreshed by successful handoffs. */
export class SessionPool {
  readonly #sessions: Session[] = []
  readonly #max: number

  constructor(max = 5000) {
    this.#max = max
  }

  add(session: Session): void {
    if (this.#sessions.length < this.#max) this.#sessions.push(session)
    else this.#sessions[Math.floor(Math.random() * this.#max)] = session
  }

  pick(): Session | undefined {
    return this.#sessions[Math.floor(Math.random() * this.#sessions.length)]
  }

  get size(): number {
    return this.#sessions.length
  }
}

/** The session a successful handoff opened. */
export function sessionOf(outcome: Outcome): Session | undefined {
  if (outcome.code !== 'OK' || outcome.cookie === undefined) return undefined
  return {
    cookie: outcome.cookie,
    sessionId: outcome.sessionId as string,
    identityId: outcome.identityId as string,
    subject: outcome.subject as string,
  }
}

export interface LoadOptions {
  client: AppClient
  host: IssuerHost
  sessions: SessionPool
  /** Relative weights of the request kinds; read at each request, so a scenario may change it. */
  mix: Partial<Record<Kind, number>>
  /** Requests in flight at once (each worker sends its next request when the last is answered). */
  concurrency: number
  durationMs: number
  maxRequests: number
  /** Most requests sent per second, all workers together. Default: as fast as answers come. */
  ratePerSecond?: number
  /** Prefix of the handoffs' subjects; each handoff gets a new subject. */
  subjectPrefix: string
  onOutcome(outcome: Outcome): void
  /** Stops the load early. */
  signal?: AbortSignal
}

let subjectCounter = 0

/** One request of a kind: a handoff with a new subject, or GET /me with a pooled session. */
export async function sendOne(
  options: Omit<LoadOptions, 'mix' | 'concurrency' | 'durationMs' | 'maxRequests' | 'onOutcome' | 'signal'>,
  kind: Kind,
): Promise<Outcome> {
  const { client, host, sessions } = options
  if (kind === 'me') {
    const session = sessions.pick()
    if (session !== undefined) return client.me(session)
    kind = 'handoff'
  }
  subjectCounter += 1
  const subject = `${options.subjectPrefix}-${subjectCounter}`
  const signer = kind === 'handoff-next' ? host.next : host.current
  const outcome = await client.handoff(kind, signer.sign({ sub: subject }), subject)
  const session = sessionOf(outcome)
  if (session !== undefined) sessions.add(session)
  return outcome
}

/** Runs the load until `durationMs` has passed or `maxRequests` were sent. */
export async function runLoad(options: LoadOptions): Promise<{ sent: number; elapsedMs: number }> {
  const pick = (): Kind => {
    const kinds = (Object.entries(options.mix) as [Kind, number][]).filter(([, weight]) => weight > 0)
    const total = kinds.reduce((sum, [, weight]) => sum + weight, 0)
    let r = Math.random() * total
    for (const [kind, weight] of kinds) {
      r -= weight
      if (r < 0) return kind
    }
    return kinds[kinds.length - 1]![0]
  }
  const start = performance.now()
  const end = start + options.durationMs
  const interval = options.ratePerSecond === undefined ? 0 : 1000 / options.ratePerSecond
  let sent = 0
  const running = () =>
    sent < options.maxRequests && performance.now() < end && options.signal?.aborted !== true
  const worker = async () => {
    while (running()) {
      // Paced: request n is due at start + n·interval, whichever worker sends it.
      const wait = start + sent * interval - performance.now()
      sent += 1
      if (wait > 0) await sleep(wait)
      options.onOutcome(await sendOne(options, pick()))
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  return { sent, elapsedMs: performance.now() - start }
}
