import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { readCookie, serializeCookie } from '../../src/bridge/cookies.ts'
import {
  generateSessionToken,
  hashSecret,
  parseSessionToken,
  secretMatches,
  sessionIdTimePrefix,
} from '../../src/bridge/session-token.ts'
import {
  browserRequest,
  cookieHeader,
  handoffRequest,
  makeBridge,
  setCookieNamed,
  signInToken,
} from './support.ts'

const SESSION_COOKIE = '__Host-jwks-bridge-session'

function get(cookie: string) {
  return browserRequest({ method: 'GET', path: '/me', headers: { cookie } })
}

async function signIn(harness: ReturnType<typeof makeBridge>, claims: Record<string, unknown> = {}) {
  const response = await harness.bridge.handle(handoffRequest(signInToken(harness.clock, claims)))
  assert.equal(response?.status, 204)
  return cookieHeader(response)
}

describe('session tokens', () => {
  it('are <id>.<secret>: an id of the time and 84 random bits, a secret of 32 random bytes; only the secret’s SHA-256 is kept', () => {
    const { token, id, secretHash } = generateSessionToken()
    assert.match(token, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
    const parsed = parseSessionToken(token)
    assert.ok(parsed)
    assert.equal(parsed.id, id)
    assert.equal(secretHash.length, 32)
    assert.equal(secretMatches(parsed.secret, secretHash), true)
    const changed = `${parsed.secret[0] === 'A' ? 'B' : 'A'}${parsed.secret.slice(1)}`
    assert.equal(secretMatches(changed, secretHash), false)
    assert.equal(secretMatches(parsed.secret, hashSecret('other')), false)
    assert.equal(
      secretMatches(parsed?.secret as string, new Uint8Array(31)),
      false,
      'a corrupt hash never matches',
    )
    assert.notEqual(generateSessionToken().id, id)
  })

  it('ids start with their creation time, in characters that sort as the times do (new sessions on the last index pages, as RFC 9562 §5.7 UUIDv7)', () => {
    const times = [
      0,
      1,
      63,
      64,
      4095,
      4096,
      1_700_000_000_000,
      1_764_633_600_000,
      1_764_633_600_001,
      2 ** 48 - 1,
    ]
    const prefixes = times.map(sessionIdTimePrefix)
    for (const prefix of prefixes) assert.match(prefix, /^[A-Za-z0-9_-]{8}$/)
    // Byte order, as SQLite compares TEXT keys and PostgreSQL's COLLATE "C".
    for (let i = 1; i < prefixes.length; i++)
      assert.ok(Buffer.compare(Buffer.from(prefixes[i - 1]!), Buffer.from(prefixes[i]!)) < 0, `${times[i]}`)
    const early = generateSessionToken(1_764_633_600_000)
    const late = generateSessionToken(1_764_633_600_001)
    assert.ok(early.id < late.id)
    assert.equal(early.id.slice(0, 8), sessionIdTimePrefix(1_764_633_600_000))
    // The random part: 14 whole base64url characters, different every time even within one millisecond.
    const same = new Set(Array.from({ length: 1000 }, () => generateSessionToken(1_764_633_600_000).id))
    assert.equal(same.size, 1000)
    for (const id of same) assert.match(id, /^[A-Za-z0-9_-]{22}$/)
  })

  it("a stolen store holds no usable secret: the record keeps SHA-256 of the cookie's secret, never the secret (OWASP Session Management)", async () => {
    const harness = makeBridge()
    const cookie = await signIn(harness)
    const [id, secret] = (cookie.split('=')[1] as string).split('.') as [string, string]
    const record = await harness.sessions.get(id)
    assert.ok(record)
    // Computed here with node:crypto, not with the code under test.
    const expected = createHash('sha256').update(secret).digest()
    assert.deepEqual(Buffer.from(record.secretHash), expected)
    assert.equal(JSON.stringify(record).includes(secret), false)
    assert.equal(Buffer.from(record.secretHash).includes(Buffer.from(secret)), false)
  })

  it('refuse anything not shaped like one before any lookup', () => {
    for (const bad of [
      undefined,
      '',
      'a.b',
      `${'a'.repeat(22)}.${'b'.repeat(42)}`,
      `${'a'.repeat(22)}.${'b'.repeat(43)}.c`,
      `${'a'.repeat(22)}.${'b'.repeat(42)}=`,
    ]) {
      assert.equal(parseSessionToken(bad), undefined)
    }
  })

  it('cookies serialize with the attributes the rules need, and parse back', () => {
    assert.equal(
      serializeCookie({ name: '__Host-s', value: 'v', secure: true, maxAgeSeconds: 60 }),
      '__Host-s=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax',
    )
    assert.equal(
      serializeCookie({ name: 's', value: 'v', secure: false, domain: 'example.com' }),
      's=v; Path=/; HttpOnly; SameSite=Lax',
    )
    assert.equal(readCookie('a=1; b=2;c=3', 'c'), '3')
    assert.equal(readCookie('a=1; b="2"', 'b'), '2')
    assert.equal(readCookie('a=1; a=2', 'a'), '1')
    assert.equal(readCookie('ab=1', 'a'), undefined)
    assert.equal(readCookie(undefined, 'a'), undefined)
  })
})

describe('sessions: lifetime, idle timeout, activity', () => {
  it('a tampered secret or an unknown id authenticates nobody and ends nothing', async () => {
    const harness = makeBridge()
    const cookie = await signIn(harness)
    const value = cookie.split('=')[1] as string
    const [id, secret] = value.split('.') as [string, string]
    const flipped = `${secret.slice(0, 10)}${secret[10] === 'A' ? 'B' : 'A'}${secret.slice(11)}`
    assert.equal(await harness.bridge.authenticate(get(`${SESSION_COOKIE}=${id}.${flipped}`)), null)
    // Sign-out with the right id but a wrong secret must not end the real session.
    await harness.bridge.handle(
      browserRequest({ method: 'DELETE', headers: { cookie: `${SESSION_COOKIE}=${id}.${flipped}` } }),
    )
    assert.ok(await harness.bridge.authenticate(get(cookie)))
    assert.equal(
      await harness.bridge.authenticate(get(`${SESSION_COOKIE}=${'x'.repeat(22)}.${secret}`)),
      null,
    )
    assert.equal(await harness.bridge.authenticate(get('other=1')), null)
    assert.equal(await harness.bridge.hasSession(get(cookie)), true)
    assert.equal(await harness.bridge.hasSession(get('')), false)
  })

  it('ends after the absolute lifetime, however active', async () => {
    const harness = makeBridge({
      absoluteLifetimeSeconds: 3600,
      idleTimeoutSeconds: 1800,
      touchIntervalSeconds: 60,
    })
    const cookie = await signIn(harness)
    for (let i = 0; i < 5; i++) {
      harness.clock.advanceSeconds(700)
      // 700, 1400, 2100, 2800, 3500 s: active all along, so alive until the hour is up.
      assert.ok(await harness.bridge.authenticate(get(cookie)), `alive at ${(i + 1) * 700} s`)
    }
    harness.clock.advanceSeconds(100)
    assert.equal(await harness.bridge.authenticate(get(cookie)), null)
  })

  it('ends after the idle timeout without requests, and is deleted when seen', async () => {
    const harness = makeBridge({ idleTimeoutSeconds: 1800, touchIntervalSeconds: 60 })
    const cookie = await signIn(harness)
    harness.clock.advanceSeconds(1799)
    assert.ok(await harness.bridge.authenticate(get(cookie)))
    harness.clock.advanceSeconds(1799)
    assert.ok(await harness.bridge.authenticate(get(cookie)), 'the request above counted as activity')
    harness.clock.advanceSeconds(1800)
    assert.equal(await harness.bridge.authenticate(get(cookie)), null)
    const id = (cookie.split('=')[1] as string).split('.')[0] as string
    assert.equal(await harness.sessions.get(id), undefined)
  })

  it('writes activity at most once per touch interval', async () => {
    const harness = makeBridge({ idleTimeoutSeconds: 7200, touchIntervalSeconds: 3600 })
    let touches = 0
    const touch = harness.sessions.touch.bind(harness.sessions)
    harness.sessions.touch = async (id, at) => {
      touches++
      return touch(id, at)
    }
    const cookie = await signIn(harness)
    for (let i = 0; i < 10; i++) {
      harness.clock.advanceSeconds(300)
      assert.ok(await harness.bridge.authenticate(get(cookie)))
    }
    // 3000 s of requests every 5 minutes: still inside the first interval.
    assert.equal(touches, 0)
    harness.clock.advanceSeconds(700)
    const auth = await harness.bridge.authenticate(get(cookie))
    assert.equal(touches, 1)
    assert.equal(auth?.session.lastSeenAtMs, harness.clock.nowMs)
    harness.clock.advanceSeconds(10)
    await harness.bridge.authenticate(get(cookie))
    assert.equal(touches, 1)
  })

  it('a request without a session cookie costs no store lookup', async () => {
    const harness = makeBridge()
    let lookups = 0
    const getSession = harness.sessions.get.bind(harness.sessions)
    harness.sessions.get = async (id) => {
      lookups++
      return getSession(id)
    }
    assert.equal(await harness.bridge.authenticate(get('theme=dark')), null)
    assert.equal(lookups, 0)
  })
})

describe('sign-out', () => {
  it('DELETE deletes the session and clears the cookie (204)', async () => {
    const harness = makeBridge()
    const cookie = await signIn(harness)
    const response = await harness.bridge.handle(browserRequest({ method: 'DELETE', headers: { cookie } }))
    assert.equal(response?.status, 204)
    const cleared = setCookieNamed(response, SESSION_COOKIE)
    assert.equal(cleared, `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax`)
    assert.equal(await harness.bridge.authenticate(get(cookie)), null)
  })

  it('DELETE without a session still answers 204 and clears the cookie', async () => {
    const harness = makeBridge()
    const response = await harness.bridge.handle(browserRequest({ method: 'DELETE' }))
    assert.equal(response?.status, 204)
    assert.equal(response?.cookies.length, 1)
  })

  it('signOutEverywhere ends every session of one identity only', async () => {
    const harness = makeBridge()
    const laptop = await signIn(harness)
    const phone = await signIn(harness)
    const other = await signIn(harness, { sub: 'someone-else' })
    const auth = await harness.bridge.authenticate(get(laptop))
    assert.ok(auth)
    assert.equal(await harness.bridge.signOutEverywhere(auth.identity.id), 2)
    assert.equal(await harness.bridge.authenticate(get(laptop)), null)
    assert.equal(await harness.bridge.authenticate(get(phone)), null)
    assert.ok(await harness.bridge.authenticate(get(other)))
  })

  it('cleanupExpired removes expired and idle sessions, and keeps live ones', async () => {
    const harness = makeBridge({
      absoluteLifetimeSeconds: 7200,
      idleTimeoutSeconds: 3600,
      touchIntervalSeconds: 60,
    })
    const idle = await signIn(harness)
    harness.clock.advanceSeconds(1800)
    const live = await signIn(harness, { sub: 'live' })
    harness.clock.advanceSeconds(1801)
    assert.equal(await harness.bridge.cleanupExpired(), 1)
    const idleId = (idle.split('=')[1] as string).split('.')[0] as string
    assert.equal(await harness.sessions.get(idleId), undefined)
    assert.ok(await harness.bridge.authenticate(get(live)))
  })
})
