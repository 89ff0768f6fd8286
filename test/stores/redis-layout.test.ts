// The Redis key layout (src/stores/redis/layout.ts), pure: which slot each shard's keys hash to, as
// Redis Cluster computes it (CRC16/XMODEM of the hash tag, modulo 16384), and what a prefix does.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { prefixSlots, SHARD_COUNT, shardKeys, shardOf } from '../../src/stores/redis/layout.ts'

// Redis Cluster specification, "Key distribution model": CRC16 (XMODEM) of the key's hash tag.
function crc16(text: string): number {
  let crc = 0
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}
function keySlot(key: string): number {
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % 16384
  }
  return crc16(key) % 16384
}

describe('Redis key layout', () => {
  it('the CRC16 here is Redis Cluster\'s (the specification\'s test vector "123456789" → 0x31C3)', () => {
    assert.equal(crc16('123456789'), 0x31c3)
  })

  it('Redis Cluster key distribution: every key of a shard lies in one slot, shard i in the i-th of 16 equal slot ranges', () => {
    for (const prefix of ['jwks-bridge:', 'a}b:', '{half:']) {
      for (let shard = 0; shard < SHARD_COUNT; shard++) {
        const keys = shardKeys(prefix, shard)
        const names = [
          keys.session('s-1'),
          keys.session('{other}'),
          keys.byExpiry,
          keys.byLastSeen,
          keys.refs,
          keys.identitySet('id-{x}'),
          keys.providerSet('https://issuer.example', 'sid'),
        ]
        const slots = new Set(names.map(keySlot))
        assert.equal(slots.size, 1, `${prefix} shard ${shard}: one slot`)
        if (prefix === 'jwks-bridge:') {
          const slot = [...slots][0] as number
          assert.ok(
            slot >= shard * 1024 && slot < (shard + 1) * 1024,
            `shard ${shard} in its range (${slot})`,
          )
        }
      }
    }
  })

  it('a session id picks its shard alone, stably, and ids spread over every shard', () => {
    assert.equal(shardOf('abc'), shardOf('abc'))
    const counts = new Array<number>(SHARD_COUNT).fill(0)
    for (let i = 0; i < 16_000; i++) {
      const shard = shardOf(randomBytes(16).toString('base64url'))
      assert.ok(Number.isInteger(shard) && shard >= 0 && shard < SHARD_COUNT)
      counts[shard] = (counts[shard] as number) + 1
    }
    for (const count of counts) assert.ok(count > 800 && count < 1200, `even spread (${counts})`)
  })

  it('what a prefix does to the slots: no tag spreads, a whole tag is one slot, "{}" first is refused', () => {
    assert.equal(prefixSlots('jwks-bridge:'), 'sharded')
    assert.equal(prefixSlots('a}b:'), 'sharded')
    assert.equal(prefixSlots('{half:'), 'sharded')
    assert.equal(prefixSlots('{app}:'), 'one slot')
    assert.equal(prefixSlots('app{}:'), 'broken')
    assert.equal(prefixSlots('{}{app}:'), 'broken')
    // 'one slot' really is one slot, for replay records too.
    const keys = shardKeys('{app}:', 3)
    assert.equal(keySlot(keys.session('x')), keySlot('{app}:used:jti'))
  })
})
