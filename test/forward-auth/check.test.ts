// GET /auth/check, the forward-auth check, through the bridge core (plain data in and out, memory
// stores, real signatures): what nginx auth_request, Caddy forward_auth and Traefik forwardAuth ask.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JwksBridgeError } from '../../src/errors.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import type { SessionStore } from '../../src/stores/types.ts'
import {
  browserRequest,
  Clock,
  cookieHeader,
  failingStore,
  handoffRequest,
  ISSUER,
  makeBridge,
  signInToken,
} from '../bridge/support.ts'

type Harness = ReturnType<typeof makeBridge>

async function signIn(harness: Harness, claims: Record<string, unknown> = {}): Promise<string> {
  const response = await harness.bridge.handle(handoffRequest(signInToken(harness.clock, claims)))
  assert.equal(response?.status, 204)
  return cookieHeader(response)
}

/** The check as a proxy sends it: GET, the browser's cookies, no Origin (a subrequest). */
function check(headers: Record<string, string | undefined> = {}, method = 'GET') {
  return browserRequest({ method, path: '/auth/check', headers: { origin: undefined, ...headers } })
}

/** Counts every session-store call by name. */
function counting(sessions: SessionStore): { sessions: SessionStore; calls: Map<string, number> } {
  const calls = new Map<string, number>()
  const wrapped = new Proxy(sessions, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1)
        return value.apply(target, args)
      }
    },
  })
  return { sessions: wrapped, calls }
}

describe('forward auth: GET /auth/check', () => {
  it('a valid session → 200 with X-Auth-Subject, X-Auth-Issuer, X-Auth-Identity-Id and the snapshot claims; no body', async () => {
    const harness = makeBridge()
    const cookie = await signIn(harness, { sub: 'user-1', email: 'ada@example.com', name: 'Ada Lovelace' })
    const response = await harness.bridge.handle(check({ cookie }))
    assert.ok(response)
    assert.equal(response.status, 200)
    assert.equal(response.body, undefined)
    assert.deepEqual(response.cookies, [])
    const identity = await harness.identities.findBySubject(ISSUER, 'user-1')
    assert.ok(identity)
    assert.equal(response.headers['x-auth-subject'], 'user-1')
    assert.equal(response.headers['x-auth-issuer'], ISSUER)
    assert.equal(response.headers['x-auth-identity-id'], identity.id)
    assert.equal(response.headers['x-auth-email'], 'ada@example.com')
    assert.equal(response.headers['x-auth-name'], 'Ada Lovelace')
    assert.equal(response.headers['cache-control'], 'no-store')
    assert.equal(harness.bridge.isRoute('GET', '/auth/check?x=1'), true)
    assert.equal(harness.bridge.isRoute('HEAD', '/auth/check'), true)
  })

  it('no session, a forged cookie, an ended session → 401 with no body and no identity header', async () => {
    const harness = makeBridge()
    const cookie = await signIn(harness)
    const forged = cookie.replace(/\.([A-Za-z0-9_-])/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`)
    await harness.bridge.handle(browserRequest({ method: 'DELETE', path: '/auth', headers: { cookie } }))
    for (const headers of [{}, { cookie: forged }, { cookie }]) {
      const response = await harness.bridge.handle(check(headers))
      assert.equal(response?.status, 401)
      assert.equal(response?.body, undefined, 'nothing a proxy would show as a page')
      assert.equal(response?.headers['x-auth-subject'], undefined)
      assert.equal(response?.headers.location, undefined, 'no sign-in path configured')
    }
  })

  it('the check is GET or HEAD only: other methods on the path are not a bridge route', async () => {
    const { bridge } = makeBridge()
    assert.equal(bridge.isRoute('POST', '/auth/check'), false)
    assert.equal(await bridge.handle(check({}, 'POST')), undefined)
    assert.equal((await bridge.handle(check({}, 'HEAD')))?.status, 401)
  })

  it('RFC 9110 §5.5: a claim carrying CR/LF cannot add a header line; it arrives percent-encoded', async () => {
    const harness = makeBridge()
    const cookie = await signIn(harness, { sub: 'mallory', name: 'Mal\r\nX-Auth-Subject: root' })
    const response = await harness.bridge.handle(check({ cookie }))
    assert.equal(response?.status, 200)
    assert.equal(response?.headers['x-auth-subject'], 'mallory')
    assert.equal(response?.headers['x-auth-name'], 'Mal%0D%0AX-Auth-Subject: root')
    for (const value of Object.values(response?.headers ?? {})) assert.doesNotMatch(value, /[\r\n]/)
  })

  it('answers from the session store: reads, and no write but the idle touch once per interval', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const { sessions, calls } = counting(memory.sessions)
    const harness = makeBridge(
      { touchIntervalSeconds: 60 },
      { identities: memory.identities, sessions },
      clock,
    )
    const cookie = await signIn(harness)
    calls.clear()
    for (let i = 0; i < 5; i++) assert.equal((await harness.bridge.handle(check({ cookie })))?.status, 200)
    assert.deepEqual([...calls], [['get', 5]])
    clock.advanceSeconds(61)
    assert.equal((await harness.bridge.handle(check({ cookie })))?.status, 200)
    assert.equal(calls.get('touch'), 1)
  })

  it('a store that cannot answer → 503 with no body (never 200: the check fails closed)', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const harness = makeBridge({}, memory, clock)
    const cookie = await signIn(harness)
    const broken = makeBridge(
      {},
      { identities: memory.identities, sessions: failingStore(memory.sessions, new Set(['get'])) },
      clock,
    )
    const response = await broken.bridge.handle(check({ cookie }))
    assert.equal(response?.status, 503)
    assert.equal(response?.body, undefined)
    assert.equal(response?.headers['x-auth-subject'], undefined)
    assert.ok(new JwksBridgeError('ERR_STORE_UNAVAILABLE', 'x'))
  })

  it('header names and the claims sent are configurable', async () => {
    const harness = makeBridge({
      claimsSnapshot: ['email', 'groups'],
      forwardAuth: {
        subjectHeader: 'Remote-User',
        issuerHeader: 'Remote-Issuer',
        identityIdHeader: 'Remote-Id',
        claimHeaders: { groups: 'Remote-Groups' },
      },
    })
    const cookie = await signIn(harness, { sub: 'u', email: 'u@example.com', groups: ['a', 'b'] })
    const response = await harness.bridge.handle(check({ cookie }))
    assert.equal(response?.headers['remote-user'], 'u')
    assert.equal(response?.headers['remote-issuer'], ISSUER)
    assert.match(response?.headers['remote-id'] ?? '', /./)
    assert.equal(response?.headers['remote-groups'], '["a","b"]')
    assert.equal(response?.headers['x-auth-email'], undefined, 'only the configured claims')
    assert.deepEqual(harness.bridge.identityHeaderNames, [
      'remote-user',
      'remote-issuer',
      'remote-id',
      'remote-groups',
    ])
  })

  describe('browsers without a session, with forwardAuth.signInPath', () => {
    const nav = { accept: 'text/html', 'sec-fetch-mode': 'navigate' }

    it('behind a trusted proxy, the 401 carries Location: the sign-in path with the original path to return to', async () => {
      const { bridge } = makeBridge({ trustProxy: true, forwardAuth: { signInPath: '/auth/sign-in' } })
      const nginx = await bridge.handle(check({ ...nav, 'x-original-uri': '/orders?id=7' }))
      assert.equal(nginx?.status, 401)
      assert.equal(nginx?.headers.location, '/auth/sign-in?return_to=%2Forders%3Fid%3D7')
      const caddy = await bridge.handle(
        check({ ...nav, 'x-forwarded-uri': '/a', 'x-forwarded-method': 'GET' }),
      )
      assert.equal(caddy?.headers.location, '/auth/sign-in?return_to=%2Fa')
      const api = await bridge.handle(check({ accept: 'application/json', 'x-original-uri': '/api' }))
      assert.equal(api?.headers.location, undefined, 'API clients get a bare 401')
      const post = await bridge.handle(
        check({ ...nav, 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/form' }),
      )
      assert.equal(post?.headers.location, undefined, 'a form post is not a page load')
    })

    it('CWE-601: an original URI that a browser reads as another origin is not a place to return to', async () => {
      const { bridge } = makeBridge({ trustProxy: true, forwardAuth: { signInPath: '/auth/sign-in' } })
      for (const uri of ['//evil.example/', '/\\evil.example', 'https://evil.example/', '/a\r\nb']) {
        const response = await bridge.handle(check({ ...nav, 'x-original-uri': uri }))
        assert.equal(response?.headers.location, '/auth/sign-in', uri)
      }
    })

    it('X-Original-URI and X-Forwarded-Uri are ignored without trustProxy (a client could write them)', async () => {
      const { bridge } = makeBridge({ forwardAuth: { signInPath: '/auth/sign-in' } })
      const response = await bridge.handle(check({ ...nav, 'x-original-uri': '/somewhere' }))
      assert.equal(response?.headers.location, '/auth/sign-in')
    })
  })
})
