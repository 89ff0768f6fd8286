// Test support for the bridge: real keys and signatures (test/helpers/tokens.ts), the memory stores,
// a movable clock, request builders, and stores that fail like an unreachable database.
import { createBridge } from '../../src/bridge/bridge.ts'
import type { BridgeOptions } from '../../src/bridge/options.ts'
import type { BridgeLogger, BridgeRequest, BridgeResponse } from '../../src/bridge/types.ts'
import { JwksBridgeError } from '../../src/errors.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import type { IdentityStore, SessionStore } from '../../src/stores/types.ts'
import { ISSUER, makeKey, NOW_SECONDS, signToken, type TestKey } from '../helpers/tokens.ts'

export { ISSUER, NOW_SECONDS }
export const HOST = 'app.example.com'
export const ORIGIN = `https://${HOST}`

export function testKey(): TestKey {
  return makeKey('RS256', 'bridge-key')
}

/** A clock the test moves by hand. */
export class Clock {
  nowMs = NOW_SECONDS * 1000
  readonly read = () => this.nowMs
  advanceSeconds(seconds: number): void {
    this.nowMs += seconds * 1000
  }
  get seconds(): number {
    return this.nowMs / 1000
  }
}

let jtiCounter = 0

/** A fresh sign-in token (iat now, a unique jti unless given), signed with the test key. */
export function signInToken(
  clock: Clock,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  jtiCounter++
  return signToken(
    testKey(),
    {
      iat: Math.floor(clock.seconds) - 5,
      exp: Math.floor(clock.seconds) + 600,
      jti: `jti-${jtiCounter}`,
      ...claims,
    },
    header,
  )
}

/** A logout token (OIDC Back-Channel Logout 1.0 §2.4) for `aud`. */
export function logoutToken(
  clock: Clock,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  jtiCounter++
  return signToken(
    testKey(),
    {
      aud: 'client-1',
      iat: Math.floor(clock.seconds) - 1,
      exp: Math.floor(clock.seconds) + 120,
      jti: `logout-${jtiCounter}`,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...claims,
    },
    { typ: 'logout+jwt', ...header },
  )
}

export interface Harness {
  clock: Clock
  identities: IdentityStore
  sessions: SessionStore
  bridge: ReturnType<typeof createBridge>
}

export function makeBridge(
  overrides: Partial<BridgeOptions> = {},
  stores?: { identities: IdentityStore; sessions: SessionStore },
  clock = new Clock(),
): Harness {
  const memory = stores ?? createMemoryStores({ nowMs: clock.read })
  const bridge = createBridge({
    verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] } },
    identities: memory.identities,
    sessions: memory.sessions,
    nowMs: clock.read,
    // Off, explicitly (the bridge's default is on): these tests hand-build requests for other rules
    // rather than render a page first. The CSRF token's own tests pass `csrf: true` or rely on the
    // default (guard.test.ts, "CSRF token" and "login CSRF by default").
    csrf: false,
    ...overrides,
  })
  return { clock, identities: memory.identities, sessions: memory.sessions, bridge }
}

/** A same-origin browser request over https, as fetch() from our own page sends it. */
export function browserRequest(
  init: Partial<BridgeRequest> & { headers?: Record<string, string | undefined> } = {},
): BridgeRequest {
  return {
    method: init.method ?? 'PUT',
    path: init.path ?? '/auth',
    secure: init.secure ?? true,
    ...(init.loopback === undefined ? {} : { loopback: init.loopback }),
    body: init.body,
    headers: {
      host: HOST,
      origin: ORIGIN,
      'sec-fetch-site': 'same-origin',
      ...init.headers,
    },
  }
}

/** A handoff request carrying `token` as JSON (or as a form with `form: true`). */
export function handoffRequest(
  token: string,
  init: Partial<BridgeRequest> & { headers?: Record<string, string | undefined>; form?: boolean } = {},
): BridgeRequest {
  const form = init.form === true
  return browserRequest({
    ...init,
    body:
      init.body ?? (form ? new URLSearchParams({ jwt: token }).toString() : JSON.stringify({ jwt: token })),
    headers: {
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...init.headers,
    },
  })
}

/** The `name=value` part of each Set-Cookie, joined as a browser would send them back. */
export function cookieHeader(...responses: (BridgeResponse | string[] | undefined)[]): string {
  const pairs = new Map<string, string>()
  for (const response of responses) {
    const cookies = Array.isArray(response) ? response : (response?.cookies ?? [])
    for (const cookie of cookies) {
      const pair = cookie.split(';')[0] ?? ''
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      if (/Max-Age=0/.test(cookie)) pairs.delete(name)
      else pairs.set(name, value)
    }
  }
  return [...pairs].map(([name, value]) => `${name}=${value}`).join('; ')
}

/** The Set-Cookie of the cookie called `name`, if any. */
export function setCookieNamed(response: BridgeResponse | undefined, name: string): string | undefined {
  return response?.cookies.find((cookie) => cookie.startsWith(`${name}=`))
}

/** The error code of a JSON error body. */
export function errorCode(response: BridgeResponse | undefined): string | undefined {
  const body = response?.body as { error?: { code?: string } } | undefined
  return body?.error?.code
}

/** Every logger call, for the no-secrets-in-logs checks. */
export function captureLogger(): BridgeLogger & {
  lines: { level: string; fields: Record<string, unknown>; message: string }[]
} {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = []
  return {
    lines,
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
  }
}

const down = () => new JwksBridgeError('ERR_STORE_UNAVAILABLE', 'test store: the database cannot be reached')

/**
 * Wraps a store so that the methods named in `failing` throw ERR_STORE_UNAVAILABLE, like a store whose
 * database went away, while the others still work.
 */
export function failingStore<T extends object>(store: T, failing: ReadonlySet<string> | 'all'): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      const name = String(property)
      return (...args: unknown[]) => {
        if (failing === 'all' || failing.has(name)) return Promise.reject(down())
        return value.apply(target, args)
      }
    },
  })
}
