// Pure rules of src/keys/cache-policy.ts: freshness from Cache-Control/Age (RFC 9111 §4.2.1, §5.1)
// within bounds, and exponential backoff with jitter. No I/O, no clock.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backoffDelayMs, freshnessSeconds } from '../../src/keys/cache-policy.ts'

const bounds = { minSeconds: 30, maxSeconds: 600 }

describe('freshnessSeconds: Cache-Control max-age within bounds', () => {
  it('uses max-age when it lies between the bounds', () => {
    assert.equal(freshnessSeconds('max-age=120', null, bounds), 120)
    assert.equal(freshnessSeconds('public, max-age=300, must-revalidate', null, bounds), 300)
    assert.equal(freshnessSeconds('max-age=30', null, bounds), 30)
    assert.equal(freshnessSeconds('max-age=600', null, bounds), 600)
  })

  it('caps a max-age over the maximum', () => {
    assert.equal(freshnessSeconds('max-age=601', null, bounds), 600)
    assert.equal(freshnessSeconds('max-age=31536000', null, bounds), 600)
  })

  it('raises a max-age under the minimum', () => {
    assert.equal(freshnessSeconds('max-age=5', null, bounds), 30)
    assert.equal(freshnessSeconds('max-age=0', null, bounds), 30)
  })

  it('subtracts Age (time the answer already spent in caches), bounded below', () => {
    assert.equal(freshnessSeconds('max-age=300', '100', bounds), 200)
    assert.equal(freshnessSeconds('max-age=300', ' 100 ', bounds), 200)
    assert.equal(freshnessSeconds('max-age=300', '290', bounds), 30)
    assert.equal(freshnessSeconds('max-age=300', '5000', bounds), 30)
  })

  it('ignores an Age that is not a non-negative integer (RFC 9111 §5.1)', () => {
    for (const age of ['abc', '-100', '10.5', '', '1e3', '0x10']) {
      assert.equal(freshnessSeconds('max-age=300', age, bounds), 300, `Age: ${JSON.stringify(age)}`)
    }
  })

  it('treats no-store, no-cache and max-age=0 as "as short as allowed"', () => {
    assert.equal(freshnessSeconds('no-store', null, bounds), 30)
    assert.equal(freshnessSeconds('no-cache', null, bounds), 30)
    assert.equal(freshnessSeconds('max-age=300, no-cache', null, bounds), 30)
    assert.equal(freshnessSeconds('no-store, max-age=300', null, bounds), 30)
    assert.equal(freshnessSeconds('public, max-age=0', null, bounds), 30)
  })

  it('reads directives case-insensitively and accepts the quoted form', () => {
    assert.equal(freshnessSeconds('MAX-AGE=120', null, bounds), 120)
    assert.equal(freshnessSeconds('Public, Max-Age=120', null, bounds), 120)
    assert.equal(freshnessSeconds('max-age="120"', null, bounds), 120)
    assert.equal(freshnessSeconds('No-Store', null, bounds), 30)
  })

  it('uses the maximum without a header or without a usable max-age', () => {
    assert.equal(freshnessSeconds(null, null, bounds), 600)
    assert.equal(freshnessSeconds(null, '100', bounds), 600)
    for (const header of [
      '',
      'public',
      'private, must-revalidate',
      'max-age',
      's-maxage=60',
      ',,,',
      '\u0000max-age=60',
    ]) {
      assert.equal(freshnessSeconds(header, null, bounds), 600, `Cache-Control: ${JSON.stringify(header)}`)
    }
  })

  it('treats an invalid max-age as absent (maximum) or as stale (minimum), never anything else', () => {
    // RFC 9111 §4.2.1 encourages treating invalid freshness information as stale; the documented
    // rule here is "no usable directive: the maximum". Either is within bounds; nothing in between.
    for (const header of [
      'max-age=',
      'max-age=abc',
      'max-age=-5',
      'max-age=1.5',
      'max-age=12abc',
      'max-age=0x10',
      'max-age=99999999999999999999999',
    ]) {
      const seconds = freshnessSeconds(header, null, bounds)
      assert.ok(seconds === 600 || seconds === 30, `Cache-Control: ${JSON.stringify(header)} gave ${seconds}`)
    }
  })

  it('with conflicting max-age directives, uses the first or treats the answer as stale (RFC 9111 §4.2.1)', () => {
    // "When there is more than one value present for a given directive (e.g., ... multiple
    // Cache-Control: max-age directives), either the first occurrence should be used or the
    // response should be considered stale."
    const seconds = freshnessSeconds('max-age=100, max-age=500', null, bounds)
    assert.ok(
      seconds === 100 || seconds === 30,
      `freshness was ${seconds}, expected 100 (first) or 30 (stale)`,
    )
  })

  it('keeps within bounds whatever the header says', () => {
    const headers = ['max-age=0', 'max-age=29', 'max-age=31', 'max-age=599', 'max-age=601', 'no-store', null]
    for (const header of headers) {
      for (const age of [null, '0', '15', '1000']) {
        const seconds = freshnessSeconds(header, age, bounds)
        assert.ok(seconds >= 30 && seconds <= 600, `${header} / ${age}: ${seconds}`)
      }
    }
  })
})

describe('backoffDelayMs: exponential, capped, with jitter', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 }

  it('doubles per consecutive failure (upper end of the jitter range)', () => {
    const almostOne = 0.999999
    assert.equal(backoffDelayMs(1, policy, almostOne), 1000)
    assert.equal(backoffDelayMs(2, policy, almostOne), 2000)
    assert.equal(backoffDelayMs(3, policy, almostOne), 4000)
    assert.equal(backoffDelayMs(4, policy, almostOne), 8000)
    assert.equal(backoffDelayMs(6, policy, almostOne), 32_000)
  })

  it('is capped at maxMs, even after very many failures', () => {
    assert.equal(backoffDelayMs(7, policy, 0.999999), 60_000)
    assert.equal(backoffDelayMs(40, policy, 0.999999), 60_000)
    assert.equal(backoffDelayMs(1_000_000, policy, 0.999999), 60_000)
    assert.ok(Number.isFinite(backoffDelayMs(Number.MAX_SAFE_INTEGER, policy, 0.5)))
  })

  it('treats zero or negative failure counts as the first failure', () => {
    assert.equal(backoffDelayMs(0, policy, 0.999999), 1000)
    assert.equal(backoffDelayMs(-3, policy, 0.999999), 1000)
  })

  it('spreads retries over [ceiling/2, ceiling] with the random input', () => {
    for (let failures = 1; failures <= 10; failures++) {
      const ceiling = Math.min(60_000, 1000 * 2 ** (failures - 1))
      assert.equal(backoffDelayMs(failures, policy, 0), ceiling / 2)
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelayMs(failures, policy, Math.random())
        assert.ok(
          delay >= ceiling / 2 && delay <= ceiling,
          `failure ${failures}: ${delay} outside [${ceiling / 2}, ${ceiling}]`,
        )
      }
    }
  })

  it('never shrinks from one failure to the next below the cap, whatever the jitter', () => {
    // Below the cap the next range starts where this one ends; at the cap both ranges are [max/2, max].
    for (let failures = 1; 1000 * 2 ** failures <= 60_000; failures++) {
      const highest = backoffDelayMs(failures, policy, 0.999999)
      const lowestNext = backoffDelayMs(failures + 1, policy, 0)
      assert.ok(lowestNext >= highest, `failure ${failures}: ${highest} > ${lowestNext}`)
    }
  })

  it('different random inputs give different delays (the jitter is real)', () => {
    const delays = new Set([0, 0.25, 0.5, 0.75].map((r) => backoffDelayMs(5, policy, r)))
    assert.equal(delays.size, 4)
  })
})
