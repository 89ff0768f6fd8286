/**
 * The reference app's Prometheus metrics (docs/operations.md "Metrics" lists them). prom-client is loaded
 * only when metrics are on, and every app instance has its own registry (never prom-client's global one),
 * so that several apps in one process (tests, or two bridges) do not share or clash.
 *
 * Labels only ever carry bounded, server-chosen values: error codes (a fixed list), HTTP status codes,
 * configured issuers. Never a claim from a token (an attacker chooses those, and every new label
 * value is a new time series: a memory exhaustion vector).
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { BridgeEvent, BridgeRoute, SessionsEndedReason } from '../bridge/events.js'
import { invalidOptions } from '../errors.js'
import type { KeySetEvent, KeySetStats } from '../keys/events.js'
import type { CleanupTickResult } from '../stores/cleanup.js'
import type { Verifier } from '../verifier/verifier.js'

export interface AppMetrics {
  readonly registry: Registry
  readonly contentType: string
  /** Reads this verifier's `keySetStats()` at each scrape (key set ages, counts, failures). */
  trackKeySets(verifier: Verifier): void
  /** The verifier's `onEvent`. */
  onKeySetEvent(event: KeySetEvent): void
  /**
   * The bridge's `onEvent`: sign-ins, refusals (every route, back-channel logout's included),
   * verifications, session validations, sessions created and ended.
   */
  onBridgeEvent(event: BridgeEvent): void
  /** A bridge route answered: `handoff` (PUT/POST) or `sign-out` (DELETE). */
  observeBridgeRoute(route: 'handoff' | 'sign-out', status: number, seconds: number): void
  /** The exposition text of this instance. */
  render(): Promise<string>
  /** The forward-auth check answered (`GET /auth/check`): 200 allowed, 401 denied, else error. */
  observeForwardAuthCheck(status: number, seconds: number): void
  /** The reverse proxy forwarded a request, refused it (no session), or found the upstream down. */
  observeProxy(outcome: 'forwarded' | 'refused' | 'upstream-error'): void
  /** The cleanup timer's tick (startCleanup's onTick): expired sessions it removed. */
  onCleanupTick(result: CleanupTickResult): void
}

type Prom = typeof import('prom-client')

// Handoffs verify a signature, write an identity and a session: milliseconds to a second.
const HANDOFF_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
// A session validation is one or two store reads: tens of microseconds (SQLite) to milliseconds.
const VALIDATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

const VALIDATION_RESULTS = ['valid', 'invalid', 'error'] as const

// The `route` label of jwks_bridge_refusals_total: `sign-in` for the handoff, as documented.
const REFUSAL_ROUTES: Readonly<Record<BridgeRoute, string>> = {
  handoff: 'sign-in',
  'sign-out': 'sign-out',
  'back-channel-logout': 'back-channel-logout',
}

// The `reason` label of jwks_bridge_sessions_ended_total (docs/operations.md "Metrics").
const ENDED_REASONS: Readonly<Record<SessionsEndedReason, string>> = {
  'sign-out-everywhere': 'identity',
  cleanup: 'expired',
  // Found expired when presented, and removed then: a deletion like a sign-out's.
  expired: 'deleted',
}

async function loadPromClient(): Promise<Prom | undefined> {
  try {
    return await import('prom-client')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw error
  }
}

/**
 * The metrics for one app instance, or undefined when they are off (METRICS=false), or when
 * METRICS is unset and prom-client is not installed. METRICS=true without prom-client refuses to start.
 */
export async function createAppMetrics(setting: 'auto' | 'on' | 'off'): Promise<AppMetrics | undefined> {
  if (setting === 'off') return undefined
  const prom = await loadPromClient()
  if (prom === undefined) {
    if (setting === 'on') throw invalidOptions('METRICS=true needs prom-client: npm install prom-client')
    return undefined
  }
  return buildMetrics(prom)
}

function buildMetrics(prom: Prom): AppMetrics {
  const registry = new prom.Registry()
  prom.collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const verifiers: Verifier[] = []

  const verifications = new prom.Counter({
    name: 'jwks_bridge_verifications_total',
    help: 'Sign-in token verifications, by result: ok or the error code',
    labelNames: ['result'],
    registers,
  })
  const verifiedOk = verifications.labels('ok')

  const fetches = new prom.Counter({
    name: 'jwks_bridge_keyset_fetches_total',
    help: 'Key set fetches from the network, by reason: initial, refresh or unknown-kid (a refetch)',
    labelNames: ['issuer', 'reason'],
    registers,
  })
  const fetchFailures = new prom.Counter({
    name: 'jwks_bridge_keyset_fetch_failures_total',
    help: 'Failed key set fetches (or discoveries), by error code',
    labelNames: ['issuer', 'code'],
    registers,
  })
  const unknownKidRefusals = new prom.Counter({
    name: 'jwks_bridge_keyset_unknown_kid_refusals_total',
    help: 'Tokens with an unknown kid refused without a fetch, by reason: cooldown, known-unknown, backoff',
    labelNames: ['issuer', 'reason'],
    registers,
  })
  const keysChanged = new prom.Counter({
    name: 'jwks_bridge_keyset_changes_total',
    help: 'Times a fetched key set differed from the one in use (rotations)',
    labelNames: ['issuer'],
    registers,
  })

  // Read from verifier.keySetStats() when scraped: the verifier keeps these counts itself.
  const fromStats = (name: string, help: string, pick: (stats: KeySetStats) => number): Counter<'issuer'> =>
    new prom.Counter({
      name,
      help,
      labelNames: ['issuer'],
      registers,
      collect() {
        this.reset()
        for (const stats of verifiers.flatMap((v) => v.keySetStats())) {
          this.inc({ issuer: stats.issuer }, pick(stats))
        }
      },
    })
  fromStats(
    'jwks_bridge_keyset_stale_serves_total',
    'Verifications served from a key set past its freshness (the provider could not be reached)',
    (s) => s.staleServes,
  )
  fromStats(
    'jwks_bridge_keyset_shared_cache_hits_total',
    'Key sets adopted from the shared cache (Redis) that another instance filled, instead of fetching',
    (s) => s.sharedCacheHits,
  )
  fromStats(
    'jwks_bridge_keyset_revalidations_total',
    'Key set fetches answered 304 Not Modified',
    (s) => s.revalidations,
  )
  const gauge = (
    name: string,
    help: string,
    pick: (stats: KeySetStats) => number | undefined,
  ): Gauge<'issuer'> =>
    new prom.Gauge({
      name,
      help,
      labelNames: ['issuer'],
      registers,
      // Across cluster workers the worst one matters: the oldest set, the longest failure streak.
      aggregator: 'max',
      collect() {
        this.reset()
        for (const stats of verifiers.flatMap((v) => v.keySetStats())) {
          const value = pick(stats)
          if (value !== undefined) this.set({ issuer: stats.issuer }, value)
        }
      },
    })
  gauge('jwks_bridge_keyset_age_seconds', 'Age of the key set in use', (s) =>
    s.ageMs === undefined ? undefined : s.ageMs / 1000,
  )
  gauge('jwks_bridge_keyset_keys', 'Usable keys in the key set in use', (s) => s.keyCount)
  gauge(
    'jwks_bridge_keyset_consecutive_failures',
    'Key set fetches failed in a row (0 once one succeeds)',
    (s) => s.consecutiveFailures,
  )

  const handoffs = new prom.Counter({
    name: 'jwks_bridge_handoffs_total',
    help: 'Handoffs (PUT/POST to the authentication URL), by HTTP status',
    labelNames: ['status'],
    registers,
  })
  const handoffDuration: Histogram<'status'> = new prom.Histogram({
    name: 'jwks_bridge_handoff_duration_seconds',
    help: 'Time to answer a handoff, by HTTP status',
    labelNames: ['status'],
    buckets: HANDOFF_BUCKETS,
    registers,
  })
  const signOuts = new prom.Counter({
    name: 'jwks_bridge_sign_outs_total',
    help: 'Sign-outs (DELETE on the authentication URL), by HTTP status',
    labelNames: ['status'],
    registers,
  })
  const refusals = new prom.Counter({
    name: 'jwks_bridge_refusals_total',
    help: 'Bridge routes refused or failed, by route (sign-in, sign-out, back-channel-logout) and error code',
    labelNames: ['route', 'code'],
    registers,
  })
  // Counted per request (every request with a session cookie): plain numbers here, read at scrape
  // time, so that a request pays for an increment and one histogram observation, not for prom-client's
  // label hashing twice.
  const validationCounts = { valid: 0, invalid: 0, error: 0 }
  new prom.Counter({
    name: 'jwks_bridge_session_validations_total',
    help: 'Requests carrying a session cookie, by result: valid, invalid (unknown, expired, forged) or error',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      for (const result of VALIDATION_RESULTS) this.inc({ result }, validationCounts[result])
    },
  })
  const validationDuration: Histogram<'result'> = new prom.Histogram({
    name: 'jwks_bridge_session_validation_duration_seconds',
    help: 'Time to validate a session cookie (session and identity lookups), by result',
    labelNames: ['result'],
    buckets: VALIDATION_BUCKETS,
    registers,
  })
  // Bound once: an observation then needs no labels object.
  const validationTimers = {
    valid: validationDuration.labels('valid'),
    invalid: validationDuration.labels('invalid'),
    error: validationDuration.labels('error'),
  }
  const sessionsCreated = new prom.Counter({
    name: 'jwks_bridge_sessions_created_total',
    help: 'Sessions created (sign-ins that started a session)',
    registers,
  })
  const sessionsEnded = new prom.Counter({
    name: 'jwks_bridge_sessions_ended_total',
    help:
      'Sessions ended, by how: deleted (sign-out, replaced at sign-in, found expired), identity ' +
      '(sign out everywhere), provider-session (back-channel logout), expired (cleanup)',
    labelNames: ['reason'],
    registers,
  })

  // The forward-auth check runs on every proxied request: plain numbers, read at scrape time.
  const checkCounts = { allowed: 0, denied: 0, error: 0 }
  new prom.Counter({
    name: 'jwks_bridge_forward_auth_checks_total',
    help: 'Forward-auth checks (GET /auth/check), by result: allowed (200), denied (401) or error',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      for (const [result, value] of Object.entries(checkCounts)) this.inc({ result }, value)
    },
  })
  const checkTimer = new prom.Histogram({
    name: 'jwks_bridge_forward_auth_check_duration_seconds',
    help: 'Time to answer a forward-auth check',
    buckets: VALIDATION_BUCKETS,
    registers,
  })
  const proxyCounts = { forwarded: 0, refused: 0, 'upstream-error': 0 }
  new prom.Counter({
    name: 'jwks_bridge_proxy_requests_total',
    help: 'Requests for the upstream (UPSTREAM_URL), by outcome: forwarded, refused (no session) or upstream-error (502, 504)',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset()
      for (const [outcome, value] of Object.entries(proxyCounts)) this.inc({ outcome }, value)
    },
  })

  const ended = (reason: string, count: number): void => {
    if (count > 0) sessionsEnded.inc({ reason }, count)
  }

  return {
    registry,
    contentType: registry.contentType,

    trackKeySets(verifier) {
      verifiers.push(verifier)
    },

    onKeySetEvent(event) {
      switch (event.type) {
        case 'fetch':
          fetches.inc({ issuer: event.issuer, reason: event.reason })
          break
        case 'fetch-failed':
          fetchFailures.inc({ issuer: event.issuer, code: event.code })
          break
        case 'unknown-kid-refused':
          unknownKidRefusals.inc({ issuer: event.issuer, reason: event.reason })
          break
        case 'keys-changed':
          keysChanged.inc({ issuer: event.issuer })
          break
        default:
          break
      }
    },

    onBridgeEvent(event) {
      switch (event.type) {
        case 'session-validated':
          // Every request with a session cookie: a plain increment and one bound histogram.
          validationCounts[event.result] += 1
          validationTimers[event.result].observe(event.durationMs / 1000)
          break
        case 'sign-in':
          verifiedOk.inc()
          sessionsCreated.inc()
          if (event.replaced) ended('deleted', 1)
          break
        case 'refusal':
          // Codes are a fixed list; anything else (a bug, a driver) is one bucket, `error`.
          refusals.inc({ route: REFUSAL_ROUTES[event.route], code: event.code })
          // Sign-in tokens the verifier saw: accepted (and refused later, e.g. a replay) or refused.
          if (event.route === 'handoff' && event.verified !== undefined) {
            if (event.verified) verifiedOk.inc()
            else verifications.inc({ result: event.code })
          }
          break
        case 'sign-out':
          ended('deleted', 1)
          break
        case 'logout':
          ended('provider-session', event.sessionsEnded)
          break
        case 'sessions-ended':
          ended(ENDED_REASONS[event.reason], event.count)
          break
        default:
          break
      }
    },

    observeBridgeRoute(route, status, seconds) {
      const labels = { status: String(status) }
      if (route === 'sign-out') {
        signOuts.inc(labels)
        return
      }
      handoffs.inc(labels)
      handoffDuration.observe(labels, seconds)
    },

    render: () => registry.metrics(),

    observeForwardAuthCheck(status, seconds) {
      checkCounts[status === 200 ? 'allowed' : status === 401 ? 'denied' : 'error'] += 1
      checkTimer.observe(seconds)
    },

    observeProxy(outcome) {
      proxyCounts[outcome] += 1
    },

    onCleanupTick(result) {
      ended('expired', result.sessions)
    },
  }
}
