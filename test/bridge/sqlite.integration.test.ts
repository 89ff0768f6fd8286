// The bridge on the real SQLite store (better-sqlite3, a file in a temporary folder).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import { jwksBridgeFastify } from '../../src/adapters/fastify.ts'
import { createSqliteStores, type SqliteStores } from '../../src/stores/sqlite/stores.ts'
import {
  browserRequest,
  Clock,
  cookieHeader,
  errorCode,
  handoffRequest,
  ISSUER,
  logoutToken,
  makeBridge,
  signInToken,
  testKey,
} from './support.ts'

let folder: string
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'jwks-bridge-sqlite-'))
})
after(() => {
  rmSync(folder, { recursive: true, force: true })
})

let fileCounter = 0
async function open(clock: Clock): Promise<SqliteStores> {
  fileCounter++
  return createSqliteStores({ path: join(folder, `bridge-${fileCounter}.sqlite`), nowMs: clock.read })
}

function get(cookie: string) {
  return browserRequest({ method: 'GET', path: '/me', headers: { cookie } })
}

describe('bridge on SQLite', () => {
  it('sign in, authenticate, sign in again (a new session), replay refused, sign out', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const { bridge } = makeBridge({}, stores, clock)
      const token = signInToken(clock, { email: 'a@example.com', sid: 'op-1' })
      const first = await bridge.handle(handoffRequest(token))
      assert.equal(first?.status, 204)
      const cookie = cookieHeader(first)
      const auth = await bridge.authenticate(get(cookie))
      assert.equal(auth?.identity.subject, 'user-1')
      assert.deepEqual(auth?.identity.claims, { email: 'a@example.com' })
      assert.equal(auth?.session.providerSessionId, 'op-1')

      // OWASP session management: the session id is renewed, the old session ends in the same transaction.
      const again = await bridge.handle(handoffRequest(signInToken(clock), { headers: { cookie } }))
      assert.equal(again?.status, 204)
      const renewed = cookieHeader(again)
      assert.notEqual(renewed, '')
      assert.notEqual(renewed, cookie)
      assert.equal(await bridge.authenticate(get(cookie)), null)
      const rows = stores.database.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }
      assert.equal(rows.n, 1)

      const replay = await bridge.handle(handoffRequest(token))
      assert.equal(errorCode(replay), 'ERR_TOKEN_REPLAYED')

      const out = await bridge.handle(browserRequest({ method: 'DELETE', headers: { cookie: renewed } }))
      assert.equal(out?.status, 204)
      assert.equal(await bridge.authenticate(get(renewed)), null)
    } finally {
      await stores.close()
    }
  })

  it('the replay guard is shared by two bridges on one database (two instances)', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const a = makeBridge({}, stores, clock)
      const b = makeBridge({}, stores, clock)
      const token = signInToken(clock)
      const results = await Promise.all([
        a.bridge.handle(handoffRequest(token)),
        b.bridge.handle(handoffRequest(token)),
      ])
      const statuses = results.map((r) => r?.status).sort()
      assert.deepEqual(statuses, [204, 401])
    } finally {
      await stores.close()
    }
  })

  it('concurrent first sign-ins of one subject make one identity and one session each', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const { bridge } = makeBridge({}, stores, clock)
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => bridge.handle(handoffRequest(signInToken(clock, { sub: 'racer' })))),
      )
      assert.ok(responses.every((r) => r?.status === 204))
      const ids = new Set<string>()
      for (const response of responses) {
        const auth = await bridge.authenticate(get(cookieHeader(response)))
        assert.ok(auth)
        ids.add(auth.identity.id)
      }
      assert.equal(ids.size, 1)
      assert.equal(await bridge.signOutEverywhere([...ids][0] as string), 8)
    } finally {
      await stores.close()
    }
  })

  it('idle and expired sessions: refused, then cleaned up', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const { bridge } = makeBridge({ idleTimeoutSeconds: 600, touchIntervalSeconds: 60 }, stores, clock)
      const idle = cookieHeader(await bridge.handle(handoffRequest(signInToken(clock, { sub: 'idle' }))))
      const busy = cookieHeader(await bridge.handle(handoffRequest(signInToken(clock, { sub: 'busy' }))))
      for (let i = 0; i < 3; i++) {
        clock.advanceSeconds(300)
        assert.ok(await bridge.authenticate(get(busy)))
      }
      assert.equal(await bridge.cleanupExpired(), 1)
      assert.equal(await bridge.authenticate(get(idle)), null)
      assert.ok(await bridge.authenticate(get(busy)))
    } finally {
      await stores.close()
    }
  })

  it('back-channel logout ends the session opened under that sid', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const { bridge } = makeBridge(
        {
          backChannelLogout: true,
          verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, audience: 'client-1' },
        },
        stores,
        clock,
      )
      const cookie = cookieHeader(
        await bridge.handle(handoffRequest(signInToken(clock, { aud: 'client-1', sid: 'op-9' }))),
      )
      const response = await bridge.handle({
        method: 'POST',
        path: '/auth/backchannel-logout',
        secure: true,
        headers: { host: 'app.example.com', 'content-type': 'application/x-www-form-urlencoded' },
        body: `logout_token=${logoutToken(clock, { sid: 'op-9' })}`,
      })
      assert.equal(response?.status, 200)
      assert.equal(await bridge.authenticate(get(cookie)), null)
    } finally {
      await stores.close()
    }
  })

  it('a closed database: 503 ERR_STORE_UNAVAILABLE and nothing written', async () => {
    const clock = new Clock()
    const path = join(folder, 'closed.sqlite')
    const stores = await createSqliteStores({ path, nowMs: clock.read })
    const { bridge } = makeBridge({}, stores, clock)
    await stores.close()
    const response = await bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(response?.status, 503)
    assert.equal(errorCode(response), 'ERR_STORE_UNAVAILABLE')
    assert.deepEqual(response?.cookies, [])
    const reopened = await createSqliteStores({ path, nowMs: clock.read })
    try {
      assert.equal(await reopened.identities.findBySubject(ISSUER, 'user-1'), undefined)
      assert.equal(await reopened.sessions.deleteExpired(Number.MAX_SAFE_INTEGER, 0), 0)
    } finally {
      await reopened.close()
    }
  })

  it('a sign-in whose session write fails writes nothing and spends nothing: the token works once the store does', async () => {
    // One transaction per sign-in (src/stores/sqlite/sign-in.ts): before it, the replay record and the
    // identity were committed before the session insert, so a failure there left an identity without
    // a session and a token spent on a sign-in that never happened.
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const { bridge } = makeBridge({}, stores, clock)
      stores.database.exec(
        "CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
      )
      const token = signInToken(clock, { email: 'a@example.com' })
      const failed = await bridge.handle(handoffRequest(token))
      assert.equal(failed?.status, 503)
      assert.equal(errorCode(failed), 'ERR_STORE_UNAVAILABLE')
      assert.deepEqual(failed?.cookies, [])
      const count = (table: string) =>
        (stores.database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
      assert.deepEqual(
        { identities: count('identities'), sessions: count('sessions'), usedTokens: count('used_tokens') },
        { identities: 0, sessions: 0, usedTokens: 0 },
      )
      stores.database.exec('DROP TRIGGER refuse_sessions')
      const retried = await bridge.handle(handoffRequest(token))
      assert.equal(retried?.status, 204)
      assert.equal((await bridge.authenticate(get(cookieHeader(retried))))?.identity.subject, 'user-1')
      assert.equal(errorCode(await bridge.handle(handoffRequest(token))), 'ERR_TOKEN_REPLAYED')
    } finally {
      await stores.close()
    }
  })

  it('signing in as another identity ends the session the request came with, in the same transaction', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    try {
      const { bridge } = makeBridge({}, stores, clock)
      const first = await bridge.handle(handoffRequest(signInToken(clock, { sub: 'user-a' })))
      const cookieA = cookieHeader(first)
      const second = await bridge.handle(
        handoffRequest(signInToken(clock, { sub: 'user-b' }), { headers: { cookie: cookieA } }),
      )
      assert.equal(second?.status, 204)
      assert.equal(await bridge.authenticate(get(cookieA)), null, "user-a's session has ended")
      assert.equal((await bridge.authenticate(get(cookieHeader(second))))?.identity.subject, 'user-b')
      const sessions = stores.database.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }
      assert.equal(sessions.n, 1)
    } finally {
      await stores.close()
    }
  })

  it('through the Fastify plugin: sign in → identity → sign out', async () => {
    const clock = new Clock()
    const stores = await open(clock)
    const { bridge } = makeBridge({}, stores, clock)
    const app = Fastify()
    await app.register(jwksBridgeFastify, { bridge })
    app.get('/me', async (request, reply) => request.identity ?? reply.code(401).send())
    try {
      const headers = { host: 'localhost', origin: 'http://localhost' }
      const signIn = await app.inject({
        method: 'PUT',
        url: '/auth',
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify({ jwt: signInToken(clock, { sub: 'sqlite-user' }) }),
      })
      assert.equal(signIn.statusCode, 204)
      const cookie = String(signIn.headers['set-cookie']).split(';')[0] as string
      const me = await app.inject({ method: 'GET', url: '/me', headers: { ...headers, cookie } })
      assert.equal(me.json().subject, 'sqlite-user')
      await app.inject({ method: 'DELETE', url: '/auth', headers: { ...headers, cookie } })
      assert.equal(
        (await app.inject({ method: 'GET', url: '/me', headers: { ...headers, cookie } })).statusCode,
        401,
      )
    } finally {
      await app.close()
      await stores.close()
    }
  })
})
