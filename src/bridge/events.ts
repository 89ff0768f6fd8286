/**
 * What the bridge reports as it works: one event per thing that happened, emitted at the one place it
 * happens, for metrics, logs and audit trails (subscribe with `createBridge({ onEvent })`). Like
 * KeySetEvent (src/keys/events.ts), events carry only bounded, server-side facts: ids, issuers, error
 * codes, counts and durations. Never a token, a session token, a secret or a claim value.
 */
import type { ErrorCode } from '../errors.js'
import type { BridgeLogger } from './types.js'

/** The bridge routes and calls that can refuse. */
export type BridgeRoute = 'handoff' | 'sign-out' | 'back-channel-logout'

/** Why sessions ended outside sign-in, sign-out and back-channel logout. */
export type SessionsEndedReason =
  /** `signOutEverywhere(identityId)`. */
  | 'sign-out-everywhere'
  /** `cleanupExpired()`. */
  | 'cleanup'
  /** A presented session was found past its lifetime or idle timeout and removed then. */
  | 'expired'

export type BridgeEvent =
  | {
      /** A handoff signed someone in: a new session began. */
      type: 'sign-in'
      identityId: string
      issuer: string
      /** Whether the identity was created by this sign-in. */
      created: boolean
      /** Whether the session the request came with was ended. */
      replaced: boolean
      requestId?: string
    }
  | {
      /**
       * A route refused the request (4xx, or 503 when a store or key set could not be reached), or
       * failed with an error that is not a JwksBridgeError (`code: 'error'`, `status: 500`: the
       * framework's error handling answers).
       */
      type: 'refusal'
      route: BridgeRoute
      code: ErrorCode | 'error'
      status: number
      /** The claim or header member concerned, when there is one (never its value). */
      claim?: string
      /** A short, safe explanation of the rule that failed. */
      reason?: string
      /**
       * Whether the route's token passed the verifier (signature, claims) before the refusal: absent
       * when the request was refused before its token was verified (request guard, body), or carries none.
       */
      verified?: boolean
      /** The error's class name, for `code: 'error'` (its message may quote anything). */
      error?: string
      requestId?: string
    }
  | {
      /** A sign-out ended the request's session (a sign-out without a live session emits nothing). */
      type: 'sign-out'
      identityId: string
      requestId?: string
    }
  | {
      /** A back-channel logout token was accepted (OIDC Back-Channel Logout 1.0). */
      type: 'logout'
      issuer: string
      /** Which claim named the sessions: `sid` (that provider session), or `sub` (all of the subject's). */
      by: 'sid' | 'sub'
      sessionsEnded: number
      requestId?: string
    }
  | {
      /** A request carrying a session cookie was checked (requests without one emit nothing). */
      type: 'session-validated'
      /** `invalid`: unknown, forged, expired or idle; `error`: a store failed. */
      result: 'valid' | 'invalid' | 'error'
      /** Time the session and identity lookups took. */
      durationMs: number
      requestId?: string
    }
  | {
      type: 'sessions-ended'
      reason: SessionsEndedReason
      count: number
      /** The identity whose sessions ended (`sign-out-everywhere`, `expired`). */
      identityId?: string
      requestId?: string
    }

/** A subscriber. It runs synchronously on the request's path: keep it cheap (count, queue, log). */
export type BridgeEventListener = (event: BridgeEvent) => void

/** How the core emits: undefined when nobody listens, so that no event object is ever built then. */
export type Emit = (event: BridgeEvent) => void

/**
 * The emitter for `onEvent` and `logger` (the logger is one more subscriber, see event-log.ts), or
 * undefined when there is neither.
 */
export function createEmitter(
  onEvent: BridgeEventListener | undefined,
  log: ((event: BridgeEvent) => void) | undefined,
  logger: BridgeLogger | undefined,
): Emit | undefined {
  const deliver = (listener: BridgeEventListener, event: BridgeEvent): void => {
    // A subscriber's failure never changes an answer: metrics or logs that break must not turn a
    // sign-in into a 500, nor skip the cookie of a sign-in whose session is already written. The failure
    // is logged by class name (a message from elsewhere is not known to be free of secrets).
    try {
      const result: unknown = listener(event)
      // An async subscriber's rejection would otherwise be unhandled (and end the process).
      if (result instanceof Promise) result.catch((error: unknown) => failed(error, event))
    } catch (error) {
      failed(error, event)
    }
  }
  const failed = (error: unknown, event: BridgeEvent): void => {
    try {
      logger?.error(
        {
          event: 'bridge.event-subscriber-failed',
          type: event.type,
          error: error instanceof Error ? error.name : typeof error,
        },
        'a bridge event subscriber threw',
      )
    } catch {
      // The logger itself failed: nothing is left to tell.
    }
  }
  if (onEvent === undefined) return log === undefined ? undefined : (event) => deliver(log, event)
  if (log === undefined) return (event) => deliver(onEvent, event)
  return (event) => {
    deliver(log, event)
    deliver(onEvent, event)
  }
}
