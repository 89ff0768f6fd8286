import { createHash, randomBytes, randomUUID } from 'node:crypto'

/** A provider session: who signed in on the provider's page. Kept in memory only. */
export interface ProviderSession {
  /** Public handle put in tokens (`sid` / `sessionHandle`); never the cookie value. */
  handle: string
  subject: string
  createdAtMs: number
}

/** How long a provider session lasts after sign-in. */
export const SESSION_LIFETIME_MS = 12 * 3600 * 1000
/** Most sessions held; the oldest is forgotten past it, so that a loop of sign-ins cannot fill memory. */
export const MAX_SESSIONS = 10_000

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/**
 * Sessions keyed by the SHA-256 of the cookie value. The cookie value is a 256-bit random secret that
 * only the browser holds; tokens carry a separate random handle, so that a token (which the app's
 * server receives and may store) never lets anyone take over the provider session.
 */
export class SessionTable {
  readonly #sessions = new Map<string, ProviderSession>()
  readonly #nowMs: () => number

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs
  }

  /** Starts a session for `subject`; returns the cookie value (a secret) and the session. */
  create(subject: string): { cookieValue: string; session: ProviderSession } {
    const cookieValue = randomBytes(32).toString('base64url')
    const session: ProviderSession = {
      handle: randomUUID(),
      subject,
      createdAtMs: this.#nowMs(),
    }
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value
      if (oldest !== undefined) this.#sessions.delete(oldest)
    }
    this.#sessions.set(sha256(cookieValue), session)
    return { cookieValue, session }
  }

  /** The live session for a cookie value, if any (an expired one is forgotten here). */
  find(cookieValue: string): ProviderSession | undefined {
    const key = sha256(cookieValue)
    const session = this.#sessions.get(key)
    if (session === undefined) return undefined
    if (this.#nowMs() - session.createdAtMs >= SESSION_LIFETIME_MS) {
      this.#sessions.delete(key)
      return undefined
    }
    return session
  }

  delete(cookieValue: string): void {
    this.#sessions.delete(sha256(cookieValue))
  }

  get size(): number {
    return this.#sessions.size
  }
}
