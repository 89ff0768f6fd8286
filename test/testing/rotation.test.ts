import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createVerifier, isJwksBridgeError } from '../../src/index.ts'
import { createTestIssuer } from '../../src/testing/index.ts'

const NOW_MS = 1_800_000_000_000
const clock = () => NOW_MS

describe('test issuer key rotation', () => {
  it('rotate(): new tokens use the new key; the old key stays published until retire()', async () => {
    const idp = createTestIssuer({ alg: 'ES256', nowMs: clock })
    const oldKid = idp.kid
    const oldToken = idp.sign()
    const newKid = idp.rotate()
    assert.notEqual(newKid, oldKid)
    assert.equal(idp.kid, newKid)
    assert.deepEqual(
      idp.jwks.keys.map((k) => k.kid),
      [oldKid, newKid],
    )
    const newToken = idp.sign()
    const both = createVerifier({ ...idp.verifierOptions(), nowMs: clock })
    assert.equal((await both.verify(oldToken)).header.kid, oldKid)
    assert.equal((await both.verify(newToken)).header.kid, newKid)

    assert.deepEqual(idp.retire(), [oldKid])
    assert.deepEqual(
      idp.jwks.keys.map((k) => k.kid),
      [newKid],
    )
    const after = createVerifier({ ...idp.verifierOptions(), nowMs: clock })
    await assert.rejects(after.verify(oldToken), (e: unknown) => isJwksBridgeError(e, 'ERR_KEY_NOT_FOUND'))
    assert.equal((await after.verify(newToken)).header.kid, newKid)
  })

  it('retire(kid) removes one key; the signing key cannot be retired', () => {
    const idp = createTestIssuer({ alg: 'EdDSA', nowMs: clock })
    const first = idp.kid
    const second = idp.rotate()
    const third = idp.rotate()
    assert.deepEqual(idp.retire(second), [second])
    assert.deepEqual(idp.retire('no-such-kid'), [])
    assert.deepEqual(
      idp.jwks.keys.map((k) => k.kid),
      [first, third],
    )
    assert.throws(
      () => idp.retire(third),
      (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
    )
  })

  it('SuperTokens kids are d-<creation ms>, distinct even when the clock stands still', () => {
    let now = NOW_MS
    const idp = createTestIssuer({ profile: 'supertokens', nowMs: () => now })
    assert.equal(idp.kid, `d-${NOW_MS}`)
    assert.equal(idp.rotate(), `d-${NOW_MS + 1}`)
    now += 168 * 3600 * 1000 // the default dynamic key interval
    assert.equal(idp.rotate(), `d-${now}`)
  })

  it('verifierOptions() is a snapshot: later rotations need a new one (or serve() for a live key set)', async () => {
    const idp = createTestIssuer({ nowMs: clock })
    const snapshot = idp.verifierOptions()
    idp.rotate()
    const verifier = createVerifier({ ...snapshot, nowMs: clock })
    await assert.rejects(verifier.verify(idp.sign()), (e: unknown) =>
      isJwksBridgeError(e, 'ERR_KEY_NOT_FOUND'),
    )
  })
})
