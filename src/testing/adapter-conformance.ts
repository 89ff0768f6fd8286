/**
 * The conformance suite every adapter runs (Express, Fastify, fetch, Hono, and the fetch adapter on
 * Bun and Deno), exported so that glue you write for another framework can prove the same behaviour.
 * It drives a real server over HTTP on loopback: sign-in and sign-out, the refusals, an oversized
 * chunked body, a store that is down, back-channel logout, route opt-out and the request id. The bridge
 * has its defaults (`csrf: true`): state-changing requests carry the CSRF cookie and `X-CSRF-Token`,
 * so the adapter must hand both to the bridge; and plain http on loopback works only when the adapter
 * tells the bridge the connection's peer is this machine (`loopback`, from the socket's address).
 *
 * @example
 * import { describeAdapterConformance } from 'jwks-bridge/testing'
 * describeAdapterConformance('my adapter', {
 *   async serve({ bridge, requestIdHeader }) {
 *     const server = startMyApp(bridge, requestIdHeader) // GET /me and GET /public, see AdapterConformanceFixture
 *     return { url: server.url, close: () => server.close() }
 *   },
 * })
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Bridge, createBridge } from '../bridge/bridge.js'
import type { BridgeLogger } from '../bridge/types.js'
import { JwksBridgeError } from '../errors.js'
import { createMemoryStores } from '../stores/memory/stores.js'
import type { SessionStore } from '../stores/types.js'
import { createTestIssuer, type TestIssuer } from './test-issuer.js'

/** The header whose value the app passes to the bridge as its request id. */
export const CONFORMANCE_REQUEST_ID_HEADER = 'x-request-id'

export interface AdapterConformanceSetup {
  /** The bridge to serve: routes at `/auth` and `/auth/backchannel-logout`. */
  bridge: Bridge
  /** The app hands this header's value to the bridge as the request id (`requestId` in its log records). */
  requestIdHeader: typeof CONFORMANCE_REQUEST_ID_HEADER
}

export interface AdapterConformanceApp {
  /** `http://127.0.0.1:<port>` (plain http on loopback: the bridge allows it for development). */
  url: string
  close(): Promise<void>
}

export interface AdapterConformanceFixture {
  /**
   * Serves an app through the adapter on 127.0.0.1: the bridge's routes, and
   * - `GET /me`: 200 JSON `{ subject, issuer }` of the request's identity, 401 without one, and the
   *   bridge's own 503 when its session store is down;
   * - `GET /public`: a route opted out of authentication (no session lookup): 200 JSON `{ "public": true }`;
   * - anything else: the app's own 404.
   * Called once per bridge the suite makes (three), each with its own server.
   */
  serve(setup: AdapterConformanceSetup): Promise<AdapterConformanceApp>
}

const AUDIENCE = 'conformance-client'

interface LogLine {
  fields: Record<string, unknown>
  message: string
}

function capture(): BridgeLogger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const push = (fields: Record<string, unknown>, message: string) => {
    lines.push({ fields, message })
  }
  return { lines, info: push, warn: push, error: push }
}

/** A session store whose every call fails as when its database cannot be reached. */
function storeDown(store: SessionStore): SessionStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return () =>
        Promise.reject(new JwksBridgeError('ERR_STORE_UNAVAILABLE', 'conformance: the store is down'))
    },
  })
}

interface Served {
  app: AdapterConformanceApp
  bridge: Bridge
  logger: ReturnType<typeof capture>
}

async function serveWith(
  fixture: AdapterConformanceFixture,
  issuer: TestIssuer,
  sessionsDown: boolean,
): Promise<Served> {
  const logger = capture()
  const stores = createMemoryStores()
  const bridge = createBridge({
    verifier: { ...issuer.verifierOptions(), audience: AUDIENCE },
    identities: stores.identities,
    sessions: sessionsDown ? storeDown(stores.sessions) : stores.sessions,
    backChannelLogout: true,
    logger,
  })
  const app = await fixture.serve({ bridge, requestIdHeader: CONFORMANCE_REQUEST_ID_HEADER })
  assert.match(app.url, /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/, 'the app listens on loopback')
  return { app, bridge, logger }
}

const SESSION_COOKIE = 'jwks-bridge-session'

/** The `name=value` of the response's session Set-Cookie (sign-in also clears the CSRF cookie). */
function cookieOf(response: Response): string {
  const session = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))
  return (session ?? '').split(';')[0] ?? ''
}

/**
 * A CSRF token and its cookie (`name=value`), as a page of the app would hand them to the browser. The
 * bridge issues them for a plain-http request from this machine, as the suite's requests are.
 */
function csrfPair(bridge: Bridge, base: string): { token: string; cookie: string } {
  const issued = bridge.csrfTokenFor({
    method: 'GET',
    path: '/',
    headers: { host: new URL(base).host },
    secure: false,
    loopback: true,
  })
  return { token: issued.token, cookie: (issued.cookies[0] ?? '').split(';')[0] ?? '' }
}

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { error?: { code?: string } }
  return body.error?.code
}

/** Registers the adapter conformance tests under `describe('Adapter conformance: <name>')`. */
export function describeAdapterConformance(name: string, fixture: AdapterConformanceFixture): void {
  describe(`Adapter conformance: ${name}`, () => {
    const issuer = createTestIssuer({ audience: AUDIENCE })
    let main: Served
    let down: Served
    let base: string
    let csrf: { token: string; cookie: string }
    before(async () => {
      main = await serveWith(fixture, issuer, false)
      down = await serveWith(fixture, issuer, true)
      base = main.app.url
      csrf = csrfPair(main.bridge, base)
    })
    after(async () => {
      await main?.app.close()
      await down?.app.close()
    })

    // A same-origin browser request with the page's CSRF token: its cookie and the X-CSRF-Token header.
    const same = (session?: string) => ({
      origin: base,
      'sec-fetch-site': 'same-origin',
      cookie: session === undefined ? csrf.cookie : `${session}; ${csrf.cookie}`,
      'x-csrf-token': csrf.token,
    })
    const put = (headers: Record<string, string>, body: RequestInit['body']) =>
      fetch(`${base}/auth`, { method: 'PUT', headers: { ...same(), ...headers }, body })
    const signIn = async (claims: Record<string, unknown> = {}) => {
      const response = await put(
        { 'content-type': 'application/json' },
        JSON.stringify({ jwt: issuer.sign(claims) }),
      )
      assert.equal(response.status, 204)
      return cookieOf(response)
    }

    it('sign-in (PUT JSON) → 204 and one session cookie → GET /me → sign-out (DELETE) → signed out', async () => {
      const response = await put(
        { 'content-type': 'application/json' },
        JSON.stringify({ jwt: issuer.sign({ sub: 'conformance-user' }) }),
      )
      assert.equal(response.status, 204)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const setCookies = response.headers.getSetCookie()
      assert.equal(setCookies.length, 2, 'two Set-Cookie: the session, and the CSRF cookie cleared')
      assert.ok(
        setCookies.some((c) => /^jwks-bridge-session-csrf=;.*Max-Age=0/.test(c)),
        'OWASP login CSRF: the pre-session token ends at sign-in',
      )
      const cookie = cookieOf(response)
      assert.match(cookie, /^jwks-bridge-session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)

      const me = await fetch(`${base}/me`, { headers: { cookie } })
      assert.equal(me.status, 200)
      assert.deepEqual(await me.json(), { subject: 'conformance-user', issuer: issuer.issuer })

      const signOut = await fetch(`${base}/auth`, { method: 'DELETE', headers: same(cookie) })
      assert.equal(signOut.status, 204)
      assert.ok(
        signOut.headers.getSetCookie().some((c) => /^jwks-bridge-session=;.*Max-Age=0/.test(c)),
        'the session cookie is cleared',
      )
      assert.equal((await fetch(`${base}/me`, { headers: { cookie } })).status, 401)
    })

    it('sign-in with a form body (POST) answers JSON when asked', async () => {
      const response = await fetch(`${base}/auth`, {
        method: 'POST',
        headers: { ...same(), accept: 'application/json' },
        body: new URLSearchParams({ jwt: issuer.sign({ sub: 'form-user' }) }),
      })
      assert.equal(response.status, 200)
      assert.equal(((await response.json()) as { subject?: string }).subject, 'form-user')
    })

    it('refusals: cross-site 403, wrong media type 415, too large 413, broken JSON 400, bad token 401', async () => {
      const good = JSON.stringify({ jwt: issuer.sign() })
      const json = { 'content-type': 'application/json' }
      const checks: [Promise<Response>, number, string][] = [
        [
          put({ ...json, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, good),
          403,
          'ERR_CROSS_SITE_REQUEST',
        ],
        [put({ 'content-type': 'text/plain' }, good), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
        [put(json, JSON.stringify({ jwt: 'x'.repeat(main.bridge.maxBodyBytes) })), 413, 'ERR_BODY_TOO_LARGE'],
        [put(json, '{"jwt":'), 400, 'ERR_BODY_INVALID'],
        [put(json, JSON.stringify({ jwt: 'not-a-token' })), 401, 'ERR_TOKEN_MALFORMED'],
      ]
      for (const [pending, status, code] of checks) {
        const response = await pending
        assert.equal(response.status, status, code)
        assert.equal(response.headers.get('cache-control'), 'no-store', code)
        assert.equal(await errorCode(response), code)
        assert.equal(response.headers.getSetCookie().length, 0, `${code}: no cookie`)
      }
    })

    it('OWASP CSRF double-submit: the adapter hands the bridge both the CSRF cookie and X-CSRF-Token', async () => {
      const body = JSON.stringify({ jwt: issuer.sign() })
      const json = { 'content-type': 'application/json' }
      const withoutHeader = { ...same(), ...json }
      delete (withoutHeader as Record<string, string>)['x-csrf-token']
      const withoutCookie = { ...same(), ...json }
      delete (withoutCookie as Record<string, string>).cookie
      const other = csrfPair(main.bridge, base)
      const mismatch = { ...same(), ...json, 'x-csrf-token': other.token }
      for (const headers of [withoutHeader, withoutCookie, mismatch]) {
        const response = await fetch(`${base}/auth`, { method: 'PUT', headers, body })
        assert.equal(response.status, 403)
        assert.equal(await errorCode(response), 'ERR_CSRF_TOKEN_INVALID')
        assert.equal(response.headers.getSetCookie().length, 0, 'no session cookie')
      }
      // The same request with both: the bridge saw the cookie and the header.
      const response = await fetch(`${base}/auth`, { method: 'PUT', headers: { ...same(), ...json }, body })
      assert.equal(response.status, 204)
    })

    it('an oversized chunked body (no Content-Length) is refused with 413 while it is read', async () => {
      const chunk = new Uint8Array(1024).fill(0x61)
      const total = 1024 * main.bridge.maxBodyBytes
      let sent = 0
      // Far more than the cap, pulled only as the server reads: an adapter that buffers the whole
      // body before refusing it answers only after all of it was sent.
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) controller.close()
          else {
            sent += chunk.length
            controller.enqueue(chunk)
          }
        },
      })
      const response = await fetch(`${base}/auth`, {
        method: 'PUT',
        headers: { ...same(), 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit)
      assert.equal(response.status, 413)
      assert.equal(await errorCode(response), 'ERR_BODY_TOO_LARGE')
      assert.ok(sent < total, `refused before the whole body was sent (${sent} of ${total} bytes)`)
    })

    it('a session store that is down: 503 ERR_STORE_UNAVAILABLE on an authenticated route', async () => {
      const cookie = `jwks-bridge-session=${'a'.repeat(22)}.${'b'.repeat(43)}`
      const response = await fetch(`${down.app.url}/me`, { headers: { cookie } })
      assert.equal(response.status, 503)
      assert.equal(await errorCode(response), 'ERR_STORE_UNAVAILABLE')
    })

    it('route opt-out: a route that does not authenticate answers even with the session store down', async () => {
      const cookie = `jwks-bridge-session=${'a'.repeat(22)}.${'b'.repeat(43)}`
      const response = await fetch(`${down.app.url}/public`, { headers: { cookie } })
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { public: true })
    })

    it('OIDC Back-Channel Logout 1.0 §2.8: a logout token for the session’s sid → 200, the session ends', async () => {
      const cookie = await signIn({ sub: 'logout-user', sid: 'op-session-1' })
      assert.equal((await fetch(`${base}/me`, { headers: { cookie } })).status, 200)
      const logout = await fetch(`${base}/auth/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          logout_token: issuer.signLogoutToken({ sid: 'op-session-1', aud: AUDIENCE }),
        }),
      })
      assert.equal(logout.status, 200)
      assert.equal(logout.headers.get('cache-control'), 'no-store')
      assert.equal((await fetch(`${base}/me`, { headers: { cookie } })).status, 401)
    })

    it('request id: the bridge’s log record of a route carries the id the app names', async () => {
      const id = `conformance-${Date.now()}`
      const response = await put(
        { 'content-type': 'application/json', [CONFORMANCE_REQUEST_ID_HEADER]: id },
        JSON.stringify({ jwt: 'not-a-token' }),
      )
      assert.equal(response.status, 401)
      await response.arrayBuffer()
      const line = main.logger.lines.find((l) => l.fields.requestId === id)
      assert.ok(line, 'a log record with the request id')
      assert.equal(line.fields.event, 'bridge.sign-in.refused')
    })

    it('the bridge answers only its routes: GET /auth and other paths are the app’s (404)', async () => {
      assert.equal((await fetch(`${base}/auth`)).status, 404)
      assert.equal((await fetch(`${base}/elsewhere`)).status, 404)
      assert.equal((await fetch(`${base}/me`)).status, 401)
    })
  })
}
