// Rule: the verified-token cache (on by default) may change speed, never a result. A repeated token
// is answered from the cache, but never at or after `exp` (+ tolerance) nor past `iat` + the maximum
// age; the cache is a bounded LRU; a cached result is shared between callers, so it is deeply frozen.
// `tokenCache: false` turns it off and every call returns fresh objects.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { makeKey, NOW_SECONDS, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, movableClock, verifierFor } from './support.ts'

const key = makeKey('ES256')
const make = (options: Partial<VerifierOptions> = {}) =>
  verifierFor([key], { algorithms: ['ES256'], ...options })

describe('a repeated token is answered from the cache (on by default)', () => {
  it('returns the very same result object for the same token', async () => {
    const verifier = make()
    const token = signToken(key)
    const first = await verifier.verify(token)
    const second = await verifier.verify(token)
    assert.equal(second, first)
  })

  it('does not cache failures: a token refused before nbf verifies once nbf is reached', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs })
    const token = signToken(key, { nbf: NOW_SECONDS + 10 })
    await expectCode(verifier.verify(token), 'ERR_JWT_NOT_YET_VALID')
    clock.now = NOW_SECONDS + 10
    await expectAccepted(verifier.verify(token))
  })

  it('is per verifier: a token cached by a lenient verifier is still refused by a strict one', async () => {
    const token = signToken(key, { aud: 'other' })
    await expectAccepted(make().verify(token))
    await expectCode(make({ audience: 'api' }).verify(token), 'ERR_AUDIENCE_MISMATCH')
  })
})

describe('a cached entry never outlives the token (RFC 7519 §4.1.4)', () => {
  it('refuses a cached token with ERR_JWT_EXPIRED once the clock reaches exp', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs })
    const token = signToken(key, { exp: NOW_SECONDS + 600 })
    const first = await verifier.verify(token)
    clock.now = NOW_SECONDS + 599
    assert.equal(await verifier.verify(token), first)
    clock.now = NOW_SECONDS + 600
    await expectCode(verifier.verify(token), 'ERR_JWT_EXPIRED')
  })

  it('with clockToleranceSeconds 30, serves it until exp + 30 and refuses it at exp + 30', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs, clockToleranceSeconds: 30 })
    const token = signToken(key, { exp: NOW_SECONDS + 600 })
    const first = await verifier.verify(token)
    clock.now = NOW_SECONDS + 629
    assert.equal(await verifier.verify(token), first)
    clock.now = NOW_SECONDS + 630
    await expectCode(verifier.verify(token), 'ERR_JWT_EXPIRED')
  })

  it('refuses a cached token with ERR_JWT_TOO_OLD once iat + maxTokenAgeSeconds has passed', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs, maxTokenAgeSeconds: 60 })
    const token = signToken(key, { iat: NOW_SECONDS - 10, exp: NOW_SECONDS + 600 })
    const first = await verifier.verify(token)
    clock.now = NOW_SECONDS + 49
    assert.equal(await verifier.verify(token), first)
    clock.now = NOW_SECONDS + 51
    await expectCode(verifier.verify(token), 'ERR_JWT_TOO_OLD')
  })

  it('caches a token without exp (requireExp: false) and still refuses it past the maximum age', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs, requireExp: false, maxTokenAgeSeconds: 60 })
    const token = signToken(key, { exp: undefined, iat: NOW_SECONDS })
    const first = await verifier.verify(token)
    assert.equal(await verifier.verify(token), first)
    clock.now = NOW_SECONDS + 61
    await expectCode(verifier.verify(token), 'ERR_JWT_TOO_OLD')
  })
})

describe('a cached entry is served only inside its validity window, even if the clock steps back', () => {
  it('refuses a cached token with ERR_JWT_NOT_YET_VALID when the clock goes back before nbf', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs })
    const token = signToken(key, { nbf: NOW_SECONDS - 5, iat: NOW_SECONDS - 5 })
    const first = await verifier.verify(token)
    assert.equal(await verifier.verify(token), first)
    clock.now = NOW_SECONDS - 6
    await expectCode(verifier.verify(token), 'ERR_JWT_NOT_YET_VALID')
  })

  it('refuses a cached token with ERR_JWT_ISSUED_IN_FUTURE when the clock goes back before iat', async () => {
    const clock = movableClock()
    const verifier = make({ nowMs: clock.nowMs })
    const token = signToken(key, { iat: NOW_SECONDS - 5 })
    await expectAccepted(verifier.verify(token))
    clock.now = NOW_SECONDS - 6
    await expectCode(verifier.verify(token), 'ERR_JWT_ISSUED_IN_FUTURE')
  })
})

describe('the cache is a bounded LRU (tokenCache: { maxEntries })', () => {
  it('with maxEntries 3, keeps the three most recently used tokens and evicts the least recently used', async () => {
    const verifier = make({ tokenCache: { maxEntries: 3 } })
    const [t1, t2, t3, t4] = [1, 2, 3, 4].map((i) => signToken(key, { jti: `t${i}` })) as [
      string,
      string,
      string,
      string,
    ]
    const r1 = await verifier.verify(t1)
    const r2 = await verifier.verify(t2)
    const r3 = await verifier.verify(t3)
    // Touch t1: it becomes the most recently used, t2 the least.
    assert.equal(await verifier.verify(t1), r1)
    const r4 = await verifier.verify(t4) // evicts t2
    assert.notEqual(await verifier.verify(t2), r2, 't2 was evicted and verified afresh') // evicts t3
    assert.equal(await verifier.verify(t1), r1)
    assert.equal(await verifier.verify(t4), r4)
    assert.notEqual(await verifier.verify(t3), r3, 't3 was evicted when t2 came back')
  })

  it('with maxEntries 1, only the last token is served from the cache', async () => {
    const verifier = make({ tokenCache: { maxEntries: 1 } })
    const a = signToken(key, { jti: 'a' })
    const b = signToken(key, { jti: 'b' })
    const ra = await verifier.verify(a)
    assert.equal(await verifier.verify(a), ra)
    const rb = await verifier.verify(b)
    assert.notEqual(await verifier.verify(a), ra)
    assert.notEqual(await verifier.verify(b), rb)
  })
})

describe('cached results are deeply frozen (one caller cannot change what the next one sees)', () => {
  it('freezes the result, its header, its payload and every nested object and array', async () => {
    const verifier = make()
    const token = signToken(key, { roles: ['user'], profile: { name: 'Ada', tags: ['a'] } })
    const result = await verifier.verify(token)
    const payload = result.payload as { roles: string[]; profile: { name: string; tags: string[] } }
    for (const value of [
      result,
      result.header,
      payload,
      payload.roles,
      payload.profile,
      payload.profile.tags,
    ]) {
      assert.ok(Object.isFrozen(value))
    }
    // ESM code is strict: writing to a frozen object throws.
    assert.throws(() => {
      payload.roles.push('admin')
    }, TypeError)
    assert.throws(() => {
      ;(payload as Record<string, unknown>).sub = 'admin'
    }, TypeError)
    const again = await verifier.verify(token)
    assert.equal(again.payload.sub, 'user-1')
    assert.deepEqual((again.payload as typeof payload).roles, ['user'])
  })
})

describe('tokenCache: false', () => {
  it('returns a fresh, unfrozen payload on every call, which the caller may change freely', async () => {
    const verifier = make({ tokenCache: false })
    const token = signToken(key, { roles: ['user'] })
    const first = await verifier.verify(token)
    const second = await verifier.verify(token)
    assert.notEqual(second, first)
    assert.notEqual(second.payload, first.payload)
    assert.deepEqual(second.header, first.header)
    assert.ok(!Object.isFrozen(first.payload))
    ;(first.payload as Record<string, unknown>).sub = 'changed'
    ;(first.payload.roles as string[]).push('admin')
    const third = await verifier.verify(token)
    assert.equal(third.payload.sub, 'user-1')
    assert.deepEqual(third.payload.roles, ['user'])
  })

  it('still refuses an expired token (the time checks run on every call)', async () => {
    const clock = movableClock()
    const verifier = make({ tokenCache: false, nowMs: clock.nowMs })
    const token = signToken(key, { exp: NOW_SECONDS + 5 })
    await expectAccepted(verifier.verify(token))
    clock.now = NOW_SECONDS + 5
    await expectCode(verifier.verify(token), 'ERR_JWT_EXPIRED')
  })
})
