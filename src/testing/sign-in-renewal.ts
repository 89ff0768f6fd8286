/**
 * The sign-in rule every session store is held to, through the real bridge: each sign-in makes a new
 * session (new id, new secret, new cookie) and ends the one the request came with, whoever it belongs
 * to (OWASP Session Management Cheat Sheet: renew the session ID after any privilege level change).
 * Run by `describeSessionStoreConformance`, so a store with a sign-in transaction (SQLite,
 * PostgreSQL) is checked on that path and one without (memory, Redis) on the step-by-step path.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import { createBridge } from '../bridge/bridge.js'
import type { BridgeRequest, BridgeResponse } from '../bridge/types.js'
import { MemoryIdentityStore } from '../stores/memory/identity-store.js'
import type { IdentityStore, SessionStore } from '../stores/types.js'
import { createTestIssuer } from './test-issuer.js'

const HOST = 'app.example.com'
const SESSION_COOKIE = '__Host-jwks-bridge-session'
const CSRF_COOKIE = '__Host-jwks-bridge-session-csrf'

function cookieValue(cookies: readonly string[] | undefined, name: string): string | undefined {
  const cookie = cookies?.find((c) => c.startsWith(`${name}=`))
  return cookie?.slice(name.length + 1).split(';')[0]
}

/** Registers the test inside the current suite; `fixture` is read when it runs. */
export function itRenewsSessionsAtSignIn(
  fixture: () => { sessions: SessionStore; identities: IdentityStore | undefined },
): void {
  it('OWASP session management: every sign-in through the bridge makes a new session and ends the presented one', async () => {
    const { sessions, identities = new MemoryIdentityStore() } = fixture()
    const issuer = createTestIssuer({ issuer: `https://${randomBytes(8).toString('hex')}.example.com` })
    const bridge = createBridge({ verifier: issuer.verifierOptions(), identities, sessions, csrf: true })
    const browser = (init: Partial<BridgeRequest>, cookie?: string): BridgeRequest => ({
      method: 'GET',
      path: '/',
      secure: true,
      ...init,
      headers: {
        host: HOST,
        origin: `https://${HOST}`,
        'sec-fetch-site': 'same-origin',
        ...(cookie === undefined ? {} : { cookie }),
        ...init.headers,
      },
    })
    const signIn = async (token: string, session?: string) => {
      // The page's pre-session CSRF token and cookie, as the browser would hold them.
      const csrf = bridge.csrfTokenFor(browser({}))
      const csrfCookie = `${CSRF_COOKIE}=${cookieValue(csrf.cookies, CSRF_COOKIE)}`
      const cookie = session === undefined ? csrfCookie : `${csrfCookie}; ${SESSION_COOKIE}=${session}`
      return bridge.handle(
        browser(
          {
            method: 'PUT',
            path: '/auth',
            headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.token },
            body: JSON.stringify({ jwt: token }),
          },
          cookie,
        ),
      )
    }
    const whoIs = async (session: string) =>
      (await bridge.authenticate(browser({}, `${SESSION_COOKIE}=${session}`)))?.identity.subject
    const idOf = (session: string) => session.split('.')[0] as string
    const newSession = (response: BridgeResponse | undefined): string => {
      assert.equal(response?.status, 204)
      const value = cookieValue(response?.cookies, SESSION_COOKIE)
      assert.ok(value !== undefined && value.length > 0, 'a session cookie is set')
      const cleared = response?.cookies.find((c) => c.startsWith(`${CSRF_COOKIE}=;`))
      assert.ok(cleared !== undefined && /Max-Age=0/.test(cleared), 'the pre-session CSRF cookie is cleared')
      return value
    }
    try {
      const a = newSession(await signIn(issuer.sign({ sub: 'alice' })))
      assert.equal(await whoIs(a), 'alice')

      // Again as the same identity, with its live session: a new session, and the old one ends.
      const b = newSession(await signIn(issuer.sign({ sub: 'alice' }), a))
      assert.notEqual(idOf(b), idOf(a))
      assert.equal(await whoIs(a), undefined, 'the presented session has ended')
      assert.equal(await sessions.get(idOf(a)), undefined)
      assert.equal(await whoIs(b), 'alice')

      // As another identity: the same.
      const bobToken = issuer.sign({ sub: 'bob' })
      const c = newSession(await signIn(bobToken, b))
      assert.equal(await whoIs(b), undefined)
      assert.equal(await whoIs(c), 'bob')

      // A cookie with C's id but not its secret ends nothing: ids are not secrets.
      const forged = `${idOf(c)}.${randomBytes(32).toString('base64url')}`
      const d = newSession(await signIn(issuer.sign({ sub: 'carol' }), forged))
      assert.equal(await whoIs(c), 'bob')
      assert.equal(await whoIs(d), 'carol')

      // A replayed token is refused before anything is written: the presented session survives.
      const replay = await signIn(bobToken, d)
      assert.equal(replay?.status, 401)
      assert.deepEqual(replay?.cookies, [])
      assert.equal(await whoIs(d), 'carol')
    } finally {
      bridge.close()
    }
  })
}
