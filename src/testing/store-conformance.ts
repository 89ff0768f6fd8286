/**
 * The conformance suite every store runs (memory, SQLite, PostgreSQL, Redis), exported so that a
 * store you write yourself can prove the same behaviour. Built on node:test:
 *
 * @example
 * import { describeIdentityStoreConformance, describeSessionStoreConformance } from 'jwks-bridge/testing'
 * describeIdentityStoreConformance('my store', async () => myIdentityStore)
 * describeSessionStoreConformance('my store', async () => ({ sessions: mySessionStore, identities: myIdentityStore }))
 * // and, if your session store has a signInTransaction:
 * describeSignInTransactionConformance('my store', async () => ({ sessions: mySessionStore, identities: myIdentityStore }))
 *
 * Each test uses fresh random issuers, subjects and keys, so a store that holds earlier data can be
 * reused. One exception: the deleteExpired tests first delete every session of the store (they
 * count what a call deletes), so point the suite at a store kept for tests.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { before, describe, it } from 'node:test'
import type {
  Identity,
  IdentityStore,
  SessionRecord,
  SessionStore,
  SignInOutcome,
  SignInTransaction,
  SignInWrite,
} from '../stores/types.js'
import { itRenewsSessionsAtSignIn } from './sign-in-renewal.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** What a session store's suite gets from its factory. */
export interface SessionStoreFixture {
  sessions: SessionStore
  /**
   * Where sessions' identities come from, for stores whose sessions reference an identity row
   * (a foreign key). Without it, sessions get random identity ids.
   */
  identities?: IdentityStore
}

const random = (label: string): string => `${label}-${randomBytes(8).toString('hex')}`
const issuerUrl = (): string => `https://${random('issuer')}.example.com`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Registers the IdentityStore tests. `factory` is called once, before them.
 */
export function describeIdentityStoreConformance(
  name: string,
  factory: () => IdentityStore | Promise<IdentityStore>,
): void {
  describe(`IdentityStore conformance: ${name}`, () => {
    let store: IdentityStore
    before(async () => {
      store = await factory()
    })
    const now = (): number => Date.now()

    it('upsert creates an identity, then get and findBySubject find it', async () => {
      const issuer = issuerUrl()
      const at = now()
      const { identity, created } = await store.upsert({
        issuer,
        subject: 'user-1',
        claims: { email: 'a@example.com', nested: { roles: ['x', 'y'] }, n: 1.5, ok: true, none: null },
        nowMs: at,
      })
      assert.equal(created, true)
      assert.equal(typeof identity.id, 'string')
      assert.match(identity.id, /^[A-Za-z0-9_-]{1,64}$/, 'the id is URL-safe')
      assert.deepEqual(
        { ...identity, id: '' },
        {
          id: '',
          issuer,
          subject: 'user-1',
          claims: { email: 'a@example.com', nested: { roles: ['x', 'y'] }, n: 1.5, ok: true, none: null },
          createdAtMs: at,
          lastSignInAtMs: at,
        },
      )
      assert.deepEqual(await store.get(identity.id), identity)
      assert.deepEqual(await store.findBySubject(issuer, 'user-1'), identity)
    })

    it('a second upsert finds the same identity, updates the claims and last sign-in, keeps created', async () => {
      const issuer = issuerUrl()
      const first = await store.upsert({
        issuer,
        subject: 's',
        claims: { name: 'Old', gone: 1 },
        nowMs: 1_000,
      })
      const second = await store.upsert({ issuer, subject: 's', claims: { name: 'New' }, nowMs: 5_000 })
      assert.equal(second.created, false)
      assert.equal(second.identity.id, first.identity.id)
      assert.deepEqual(second.identity.claims, { name: 'New' }, 'the claims are replaced, not merged')
      assert.equal(second.identity.createdAtMs, 1_000)
      assert.equal(second.identity.lastSignInAtMs, 5_000)
      assert.deepEqual(await store.get(first.identity.id), second.identity)
    })

    it('50 concurrent first upserts of one (issuer, subject): one identity, exactly one created', async () => {
      const issuer = issuerUrl()
      const at = now()
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.upsert({ issuer, subject: 'racer', claims: { i }, nowMs: at + i }),
        ),
      )
      assert.equal(results.filter((r) => r.created).length, 1)
      assert.equal(new Set(results.map((r) => r.identity.id)).size, 1, 'every caller got the same id')
      const found = await store.findBySubject(issuer, 'racer')
      assert.equal(found?.id, results[0]!.identity.id)
      assert.equal(found?.createdAtMs, results.find((r) => r.created)!.identity.createdAtMs)
    })

    it('misses are undefined: unknown id, unknown subject, same subject at another issuer', async () => {
      const issuer = issuerUrl()
      await store.upsert({ issuer, subject: 'known', claims: {}, nowMs: now() })
      assert.equal(await store.get(random('no-such-id')), undefined)
      assert.equal(await store.findBySubject(issuer, 'unknown'), undefined)
      assert.equal(await store.findBySubject(issuerUrl(), 'known'), undefined)
      assert.equal(await store.findBySubject(`${issuer}/`, 'known'), undefined, 'issuers compare exactly')
    })

    it('subjects compare exactly: case, Unicode normalization and unicode characters', async () => {
      const issuer = issuerUrl()
      // NFC "é" and NFD "e + combining acute" look alike and are different subjects (RFC 7519 §7.3:
      // StringOrURI values compare without any transformation).
      const subjects = ['Alice', 'alice', 'caf\u00e9', 'cafe\u0301', 'ユーザー🙂', 'a b\tc', 'o\'brien"--']
      const ids = new Set<string>()
      for (const subject of subjects) {
        const { identity, created } = await store.upsert({
          issuer,
          subject,
          claims: { subject },
          nowMs: now(),
        })
        assert.equal(created, true, `subject #${subjects.indexOf(subject)} is new`)
        ids.add(identity.id)
      }
      assert.equal(ids.size, subjects.length)
      for (const subject of subjects) {
        const found = await store.findBySubject(issuer, subject)
        assert.equal(found?.subject, subject)
        assert.deepEqual(found?.claims, { subject })
      }
    })

    it('a very long subject (1000 characters) and unicode claims round-trip', async () => {
      const issuer = issuerUrl()
      const subject = `${'x'.repeat(990)}${randomBytes(5).toString('hex')}`
      const claims = { name: 'Zoë 🙂 名前', emoji: '\u{1F600}', quote: '"\\' }
      const { identity } = await store.upsert({ issuer, subject, claims, nowMs: now() })
      assert.equal(identity.subject.length, 1000)
      const found = await store.findBySubject(issuer, subject)
      assert.equal(found?.id, identity.id)
      assert.equal(found?.subject, subject)
      assert.deepEqual(found?.claims, claims)
    })

    it('returned identities are copies: mutating one changes nothing stored', async () => {
      const issuer = issuerUrl()
      const claims = { email: 'x@example.com' }
      const { identity } = await store.upsert({ issuer, subject: 'copy', claims, nowMs: now() })
      claims.email = 'changed@example.com'
      identity.claims.email = 'changed@example.com'
      const found = (await store.get(identity.id)) as Identity
      assert.equal(found.claims.email, 'x@example.com')
    })
  })
}

function session(
  identityId: string,
  issuer: string,
  at: number,
  extra: Partial<SessionRecord> = {},
): SessionRecord {
  return {
    id: random('session'),
    secretHash: new Uint8Array(randomBytes(32)),
    identityId,
    issuer,
    providerSessionId: null,
    createdAtMs: at,
    expiresAtMs: at + DAY,
    lastSeenAtMs: at,
    ...extra,
  }
}

/**
 * Registers the SessionStore tests (sessions and the replay guard). `factory` is called once, before
 * them. Times are near the real clock: a store may hand expiry to its server (Redis does).
 */
export function describeSessionStoreConformance(
  name: string,
  factory: () => SessionStoreFixture | Promise<SessionStoreFixture>,
): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let store: SessionStore
    let identities: IdentityStore | undefined
    before(async () => {
      const fixture = await factory()
      store = fixture.sessions
      identities = fixture.identities
    })
    const newIdentity = async (issuer: string): Promise<string> => {
      if (identities === undefined) return random('identity')
      const result = await identities.upsert({
        issuer,
        subject: random('subject'),
        claims: {},
        nowMs: Date.now(),
      })
      return result.identity.id
    }
    const ids = async (list: readonly SessionRecord[]): Promise<boolean[]> =>
      Promise.all(list.map(async (s) => (await store.get(s.id)) !== undefined))

    itRenewsSessionsAtSignIn(() => ({ sessions: store, identities }))

    it('create then get returns the same record (secretHash bytes equal); a miss is undefined', async () => {
      const issuer = issuerUrl()
      const at = Date.now()
      const record = session(await newIdentity(issuer), issuer, at, { providerSessionId: 'sid-ü-1' })
      await store.create(record)
      const found = await store.get(record.id)
      assert.ok(found !== undefined)
      assert.ok(found.secretHash instanceof Uint8Array)
      assert.ok(
        Buffer.from(found.secretHash).equals(Buffer.from(record.secretHash)),
        'secretHash bytes equal',
      )
      assert.deepEqual({ ...found, secretHash: null }, { ...record, secretHash: null })
      const plain = session(await newIdentity(issuer), issuer, at)
      await store.create(plain)
      assert.equal((await store.get(plain.id))?.providerSessionId, null)
      assert.equal(await store.get(random('session')), undefined)
    })

    it('create with an id that exists is refused with ERR_STORE_UNAVAILABLE; the stored session is unchanged', async () => {
      // Session ids are random (128 bits and more): a duplicate is a broken generator or a bug, never a
      // client's doing. Every store answers it as the SQL stores' key constraint does, a store failure
      // (503), and never overwrites the session that holds the id.
      const issuer = issuerUrl()
      const at = Date.now()
      const first = session(await newIdentity(issuer), issuer, at)
      await store.create(first)
      const second = session(await newIdentity(issuer), issuer, at + 1, { id: first.id })
      await assert.rejects(store.create(second), (error: unknown) => {
        assert.equal((error as { name?: unknown }).name, 'JwksBridgeError')
        assert.equal((error as { code?: unknown }).code, 'ERR_STORE_UNAVAILABLE')
        return true
      })
      const found = await store.get(first.id)
      assert.ok(found !== undefined)
      assert.equal(found.identityId, first.identityId)
      assert.equal(found.createdAtMs, at)
      assert.ok(
        Buffer.from(found.secretHash).equals(Buffer.from(first.secretHash)),
        'the secret hash is kept',
      )
    })

    it('touch records activity, never moves it back, and ignores a missing session', async () => {
      const issuer = issuerUrl()
      const at = Date.now()
      const record = session(await newIdentity(issuer), issuer, at)
      await store.create(record)
      await store.touch(record.id, at + 60_000)
      assert.equal((await store.get(record.id))?.lastSeenAtMs, at + 60_000)
      await store.touch(record.id, at + 30_000)
      assert.equal((await store.get(record.id))?.lastSeenAtMs, at + 60_000)
      const missing = random('session')
      await store.touch(missing, at)
      assert.equal(await store.get(missing), undefined, 'touch does not create a session')
    })

    it('delete: true once, then false; the session is gone', async () => {
      const issuer = issuerUrl()
      const record = session(await newIdentity(issuer), issuer, Date.now())
      await store.create(record)
      assert.equal(await store.delete(record.id), true)
      assert.equal(await store.get(record.id), undefined)
      assert.equal(await store.delete(record.id), false)
      assert.equal(await store.delete(random('session')), false)
    })

    it('deleteByIdentity deletes every session of that identity only, and counts them', async () => {
      const issuer = issuerUrl()
      const [mine, other] = [await newIdentity(issuer), await newIdentity(issuer)]
      const at = Date.now()
      const own = Array.from({ length: 5 }, () => session(mine, issuer, at))
      const others = Array.from({ length: 2 }, () => session(other, issuer, at))
      await Promise.all([...own, ...others].map((s) => store.create(s)))
      await store.delete(own[0]!.id)
      assert.equal(await store.deleteByIdentity(mine), 4, 'the four left; the deleted one is not counted')
      assert.deepEqual(await ids(own), [false, false, false, false, false])
      assert.deepEqual(await ids(others), [true, true])
      assert.equal(await store.deleteByIdentity(mine), 0)
      assert.equal(await store.deleteByIdentity(random('identity')), 0)
    })

    it('deleteByProviderSession matches issuer and provider session id together', async () => {
      const [issuer, otherIssuer] = [issuerUrl(), issuerUrl()]
      const identity = await newIdentity(issuer)
      const at = Date.now()
      const sid = random('sid')
      const target = [
        session(identity, issuer, at, { providerSessionId: sid }),
        session(await newIdentity(issuer), issuer, at, { providerSessionId: sid }),
      ]
      const kept = [
        session(identity, issuer, at, { providerSessionId: random('sid') }),
        session(identity, issuer, at),
        session(await newIdentity(otherIssuer), otherIssuer, at, { providerSessionId: sid }),
      ]
      await Promise.all([...target, ...kept].map((s) => store.create(s)))
      assert.equal(await store.deleteByProviderSession(issuer, sid), 2)
      assert.deepEqual(await ids(target), [false, false])
      assert.deepEqual(await ids(kept), [true, true, true])
      assert.equal(await store.deleteByProviderSession(issuer, sid), 0)
      assert.equal(await store.deleteByIdentity(identity), 2, 'the identity index no longer lists them')
    })

    it('deleteExpired by absolute expiry: expiresAtMs <= now is deleted, later is kept', async () => {
      await store.deleteExpired(Number.MAX_SAFE_INTEGER, 0) // start from an empty store: counts are exact
      const issuer = issuerUrl()
      const identity = await newIdentity(issuer)
      const at = Date.now()
      const now = at + HOUR
      const expired = [
        session(identity, issuer, at, { expiresAtMs: now - 1 }),
        session(identity, issuer, at, { expiresAtMs: now, providerSessionId: 'sid-x' }),
      ]
      const live = [session(identity, issuer, at, { expiresAtMs: now + 1 }), session(identity, issuer, at)]
      await Promise.all([...expired, ...live].map((s) => store.create(s)))
      assert.equal(await store.deleteExpired(now, DAY), 2)
      assert.deepEqual(await ids(expired), [false, false])
      assert.deepEqual(await ids(live), [true, true])
      assert.equal(await store.deleteExpired(now, DAY), 0)
      assert.equal(await store.deleteByIdentity(identity), 2, 'the index no longer lists the expired ones')
      assert.equal(await store.deleteByProviderSession(issuer, 'sid-x'), 0)
    })

    it('deleteExpired by idle time: last seen before now - idleTimeoutMs is deleted', async () => {
      await store.deleteExpired(Number.MAX_SAFE_INTEGER, 0)
      const issuer = issuerUrl()
      const identity = await newIdentity(issuer)
      const at = Date.now()
      const idle = 30 * 60_000
      const now = at + HOUR
      const stale = session(identity, issuer, at, { lastSeenAtMs: now - idle - 1 })
      const edge = session(identity, issuer, at, { lastSeenAtMs: now - idle })
      const touched = session(identity, issuer, at)
      await Promise.all([stale, edge, touched].map((s) => store.create(s)))
      await store.touch(touched.id, now - 1_000)
      assert.equal(await store.deleteExpired(now, idle), 1)
      assert.deepEqual(await ids([stale, edge, touched]), [false, true, true])
      assert.equal(await store.deleteByIdentity(identity), 2)
    })

    it('deleteExpiredBatch (when the store has it): at most `limit` sessions per round, `more` while any are left', async (t) => {
      const batch = store.deleteExpiredBatch?.bind(store)
      if (batch === undefined) {
        t.diagnostic('this store has no deleteExpiredBatch: the scheduler falls back to deleteExpired')
        return
      }
      await store.deleteExpired(Number.MAX_SAFE_INTEGER, 0)
      const issuer = issuerUrl()
      const identity = await newIdentity(issuer)
      const at = Date.now()
      const now = at + HOUR
      const expired = Array.from({ length: 5 }, () => session(identity, issuer, at, { expiresAtMs: now - 1 }))
      const live = session(identity, issuer, at)
      await Promise.all([...expired, live].map((s) => store.create(s)))
      const first = await batch(now, DAY, 2)
      assert.equal(first.sessions, 2)
      assert.equal(first.more, true)
      assert.equal((await batch(now, DAY, 2)).sessions, 2)
      const last = await batch(now, DAY, 2)
      assert.equal(last.sessions, 1)
      assert.equal(last.more, false)
      assert.deepEqual(await ids([...expired, live]), [false, false, false, false, false, true])
      assert.equal(await store.deleteByIdentity(identity), 1, 'the index no longer lists the expired ones')
      await assert.rejects(() => batch(now, DAY, 0), TypeError)
    })

    it('markTokenUsed: first true, then false until it expires, then true again', async () => {
      // Real time: a store may leave expiry to its server. If this machine stalls past the window
      // between two calls, the "false" check is not meaningful; try again with a longer window.
      for (let windowMs = 400; ; windowMs *= 2) {
        const key = random('jti')
        const expiresAtMs = Date.now() + windowMs
        assert.equal(await store.markTokenUsed(key, expiresAtMs), true)
        const second = await store.markTokenUsed(key, expiresAtMs)
        if (Date.now() >= expiresAtMs - 50) {
          assert.ok(windowMs < 3_200, 'the machine kept stalling past the replay window')
          continue
        }
        assert.equal(second, false)
        await sleep(expiresAtMs - Date.now() + 20)
        assert.equal(await store.markTokenUsed(key, Date.now() + 60_000), true, 'usable again after expiry')
        assert.equal(await store.markTokenUsed(key, Date.now() + 60_000), false)
        return
      }
    })

    it('markTokenUsed: keys are independent and compare exactly', async () => {
      const base = random('jti')
      const until = Date.now() + 60_000
      assert.equal(await store.markTokenUsed(base, until), true)
      assert.equal(await store.markTokenUsed(base.toUpperCase(), until), true)
      assert.equal(await store.markTokenUsed(`${base} `, until), true)
      assert.equal(await store.markTokenUsed(`${base}-ü-🙂`, until), true)
      assert.equal(await store.markTokenUsed(base, until), false)
    })

    it('markTokenUsed: 50 concurrent marks of one key, exactly one true', async () => {
      const key = random('jti')
      const until = Date.now() + 60_000
      const results = await Promise.all(Array.from({ length: 50 }, () => store.markTokenUsed(key, until)))
      assert.equal(results.filter((r) => r).length, 1)
    })
  })
}

/**
 * Registers the tests of a session store's `signInTransaction` (SQLite and PostgreSQL have one): the
 * replay guard, the identity upsert, the presented session ended, and the new session, as
 * one all-or-nothing write. `factory` is called once, before them. Whether a failure part-way writes
 * nothing depends on making a store fail part-way, which each store's own tests do.
 */
export function describeSignInTransactionConformance(
  name: string,
  factory: () => Required<SessionStoreFixture> | Promise<Required<SessionStoreFixture>>,
): void {
  describe(`SignInTransaction conformance: ${name}`, () => {
    let sessions: SessionStore
    let identities: IdentityStore
    let transaction: SignInTransaction
    before(async () => {
      const fixture = await factory()
      sessions = fixture.sessions
      identities = fixture.identities
      assert.ok(sessions.signInTransaction !== undefined, 'the session store has a signInTransaction')
      transaction = sessions.signInTransaction
    })
    const write = (
      issuer: string,
      subject: string,
      options: { key?: string; presented?: SignInWrite['presented'] } = {},
    ): SignInWrite => {
      const nowMs = Date.now()
      const { identityId: _identityId, ...record } = session('-', issuer, nowMs)
      return {
        usedToken: { key: options.key ?? random('key'), expiresAtMs: nowMs + HOUR },
        identity: { issuer, subject, claims: { email: `${subject}@example.com` }, nowMs },
        presented: options.presented,
        session: record,
      }
    }
    const signedIn = (outcome: SignInOutcome) => {
      assert.ok(!outcome.replayed, 'signed in, not refused as replayed')
      return outcome
    }

    it('belongs to the identity store it writes', () => {
      assert.equal(transaction.identities, identities)
    })

    it('a first sign-in creates the identity and the session, as the stores then read them', async () => {
      const issuer = issuerUrl()
      const w = write(issuer, 'alice')
      const outcome = signedIn(await transaction.signIn(w))
      assert.equal(outcome.created, true)
      assert.equal(outcome.replaced, false)
      assert.deepEqual(await identities.findBySubject(issuer, 'alice'), outcome.identity)
      assert.equal(outcome.identity.claims.email, 'alice@example.com')
      const stored = await sessions.get(w.session.id)
      assert.ok(stored !== undefined)
      assert.equal(stored.identityId, outcome.identity.id)
      assert.equal(outcome.session.identityId, outcome.identity.id)
      assert.deepEqual(
        { ...stored, secretHash: Buffer.from(stored.secretHash).toString('hex') },
        {
          ...w.session,
          identityId: outcome.identity.id,
          secretHash: Buffer.from(w.session.secretHash).toString('hex'),
        },
      )
    })

    it('a replayed token writes nothing: no session, no change to the identity', async () => {
      const issuer = issuerUrl()
      const key = random('key')
      const first = signedIn(await transaction.signIn(write(issuer, 'bob', { key })))
      const again = write(issuer, 'bob', { key })
      again.identity.claims = { email: 'changed@example.com' }
      assert.deepEqual(await transaction.signIn(again), { replayed: true })
      assert.equal(await sessions.get(again.session.id), undefined)
      assert.deepEqual(await identities.get(first.identity.id), first.identity)
    })

    it('OWASP session management: signing in again as the same identity ends its live session and makes a new one', async () => {
      const issuer = issuerUrl()
      const first = signedIn(await transaction.signIn(write(issuer, 'carol')))
      const w = write(issuer, 'carol', { presented: { id: first.session.id } })
      const again = signedIn(await transaction.signIn(w))
      assert.deepEqual(
        { created: again.created, replaced: again.replaced, id: again.identity.id },
        { created: false, replaced: true, id: first.identity.id },
      )
      assert.equal(again.session.id, w.session.id)
      assert.notEqual(again.session.id, first.session.id)
      assert.equal(await sessions.get(first.session.id), undefined, 'the presented session has ended')
      assert.equal((await sessions.get(w.session.id))?.identityId, first.identity.id)
    })

    it('a presented session that was ended meanwhile: the new one is made, nothing counted as replaced', async () => {
      const issuer = issuerUrl()
      const first = signedIn(await transaction.signIn(write(issuer, 'heidi')))
      const id = first.session.id
      assert.equal(await sessions.delete(id), true)
      const w = write(issuer, 'heidi', { presented: { id } })
      const again = signedIn(await transaction.signIn(w))
      assert.equal(again.session.id, w.session.id)
      assert.equal(again.replaced, false)
      assert.equal((await sessions.get(w.session.id))?.identityId, first.identity.id)
    })

    it("another identity's session, presented, is ended and replaced", async () => {
      const issuer = issuerUrl()
      const dave = signedIn(await transaction.signIn(write(issuer, 'dave')))
      const other = write(issuer, 'erin', { presented: { id: dave.session.id } })
      const erin = signedIn(await transaction.signIn(other))
      assert.equal(erin.created, true)
      assert.equal(erin.replaced, true)
      assert.equal(await sessions.get(dave.session.id), undefined)
      assert.equal((await sessions.get(other.session.id))?.identityId, erin.identity.id)
    })

    it('a replayed token ends nothing: the presented session survives', async () => {
      const issuer = issuerUrl()
      const key = random('key')
      const first = signedIn(await transaction.signIn(write(issuer, 'ivan', { key })))
      const replay = write(issuer, 'ivan', { key, presented: { id: first.session.id } })
      assert.deepEqual(await transaction.signIn(replay), { replayed: true })
      assert.notEqual(await sessions.get(first.session.id), undefined)
    })

    it('a malformed write is refused before anything is written: the token is not spent', async () => {
      const issuer = issuerUrl()
      const w = write(issuer, 'frank')
      await assert.rejects(
        transaction.signIn({ ...w, session: { ...w.session, secretHash: new Uint8Array(3) } }),
        TypeError,
      )
      assert.equal(await sessions.markTokenUsed(w.usedToken.key, Date.now() + HOUR), true)
      assert.equal(await identities.findBySubject(issuer, 'frank'), undefined)
    })

    it('20 concurrent first sign-ins of one subject: one identity, 20 sessions; 20 of one token: one', async () => {
      const issuer = issuerUrl()
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => transaction.signIn(write(issuer, 'grace'))),
      )
      const ids = new Set(outcomes.map((o) => signedIn(o).identity.id))
      assert.equal(ids.size, 1)
      assert.equal(outcomes.filter((o) => !o.replayed && o.created).length, 1)
      const key = random('key')
      const same = await Promise.all(
        Array.from({ length: 20 }, () => transaction.signIn(write(issuer, 'grace', { key }))),
      )
      assert.equal(same.filter((o) => !o.replayed).length, 1)
    })
  })
}
