// The conformance suite against the memory stores (the reference behaviour), plus the input checks
// every store shares.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import {
  describeIdentityStoreConformance,
  describeSessionStoreConformance,
} from '../../src/testing/store-conformance.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'

describeIdentityStoreConformance('memory', () => createMemoryStores().identities)
describeSessionStoreConformance('memory', () => {
  const { identities, sessions } = createMemoryStores()
  return { identities, sessions }
})

describe('memory stores: input checks shared by every store', () => {
  const { identities, sessions } = createMemoryStores()
  const record = {
    id: 's1',
    secretHash: new Uint8Array(32),
    identityId: 'i1',
    issuer: 'https://issuer.example.com',
    providerSessionId: null,
    createdAtMs: 1,
    expiresAtMs: 2,
    lastSeenAtMs: 1,
  }

  it('a secret hash that is not 32 bytes is refused with a TypeError', async () => {
    await assert.rejects(sessions.create({ ...record, secretHash: new Uint8Array(31) }), TypeError)
    await assert.rejects(sessions.create({ ...record, secretHash: 'x'.repeat(32) as never }), TypeError)
    assert.equal(await sessions.get('s1'), undefined)
  })

  it('times must be whole milliseconds; empty issuer or subject is refused', async () => {
    await assert.rejects(sessions.create({ ...record, expiresAtMs: 1.5 }), TypeError)
    await assert.rejects(sessions.create({ ...record, createdAtMs: Number.NaN }), TypeError)
    await assert.rejects(identities.upsert({ issuer: '', subject: 's', claims: {}, nowMs: 1 }), TypeError)
    await assert.rejects(identities.upsert({ issuer: 'i', subject: '', claims: {}, nowMs: 1 }), TypeError)
    await assert.rejects(
      identities.upsert({ issuer: 'i', subject: 's', claims: [] as never, nowMs: 1 }),
      TypeError,
    )
  })

  it('the replay guard compares with the injected clock', async () => {
    let now = 1_000
    const { sessions: guarded } = createMemoryStores({ nowMs: () => now })
    assert.equal(await guarded.markTokenUsed('k', 2_000), true)
    now = 1_999
    assert.equal(await guarded.markTokenUsed('k', 2_000), false)
    now = 2_000
    assert.equal(await guarded.markTokenUsed('k', 3_000), true, 'expired at its expiry instant')
  })
})

describe('createMemoryStores: options', () => {
  it('issue #13: a misspelt option is refused, naming the nearest known one', () => {
    refusesUnknownOption(
      () => createMemoryStores({ nowMS: () => 0 } as never),
      'createMemoryStores',
      'nowMS',
      'nowMs',
    )
  })
})
