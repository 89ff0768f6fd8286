// Project Wycheproof's JSON Web Key vectors (json_web_key_test.json, 26 tests): each group is a JWK
// Set, imported with importKeySet as a caller's jwks option would be, then the test's token is
// verified against it with verifyCompactJws. See PROVENANCE.md for where the file comes from.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { importKeySet, KeySet } from '../../src/jose/key-set.ts'
import { decideJws, describeFailures, loadVectors, type Outcome, publicHalf } from './support.ts'

interface Vector {
  tcId: number
  comment: string
  jws: string
  result: 'valid' | 'invalid' | 'acceptable'
  flags: string[]
}
interface JwkSet {
  keys: Record<string, unknown>[]
}
interface Group {
  comment: string
  private: JwkSet
  public?: JwkSet
  tests: Vector[]
}

const file = loadVectors<{ numberOfTests: number; testGroups: Group[] }>('wycheproof/json_web_key_test.json')

const HMAC =
  'an oct (HMAC) key set: jwks-bridge is asymmetric-only and importKeySet skips oct keys, so the set ' +
  'has no usable key (RFC 8725 §3.2, CVE-2015-9235)'

/**
 * THE list of vectors on which jwks-bridge's decision differs from Wycheproof's label, with the
 * outcome we give and why. The test fails when another vector disagrees with its label, and when a
 * listed one stops deviating or deviates with another outcome.
 */
const DEVIATIONS: ReadonlyMap<number, { outcome: Outcome; reason: string }> = new Map([
  [2, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [
    7,
    {
      outcome: 'accepted',
      reason:
        'ROCA (CVE-2017-15361): the modulus has the fingerprint of the weak Infineon key generator. ' +
        'jwks-bridge does not run the ROCA fingerprint test: the key is 2048 bits with e = 65537 and ' +
        'passes every structural key rule; Wycheproof marks this check optional',
    },
  ],
  [13, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [14, { outcome: 'ERR_KEY_INVALID', reason: `${HMAC} (HS384)` }],
  [15, { outcome: 'ERR_KEY_INVALID', reason: `${HMAC} (HS512)` }],
])

/**
 * For the vectors refused as labelled: the rule that refuses them, as the error code, and how many
 * keys of the set importKeySet skips. ERR_KEY_INVALID stands for "no key of the set survived import"
 * (the reason of each skipped key is in KeySet.rejected; createVerifier refuses such a set outright).
 */
const RULES: ReadonlyMap<number, { outcome: Outcome; skipped: number; rule: string }> = new Map([
  [
    1,
    { outcome: 'ERR_ALG_NOT_ALLOWED', skipped: 1, rule: 'mixed set: oct key skipped, HS256 never allowed' },
  ],
  [3, { outcome: 'ERR_KEY_INVALID', skipped: 2, rule: 'oct keys' }],
  [
    4,
    { outcome: 'ERR_KEY_INVALID', skipped: 2, rule: 'duplicate kid, oct keys (see the derived test below)' },
  ],
  [6, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'alg RSA1_5 is an encryption algorithm' }],
  [8, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'RSA modulus of 1024 bits (RFC 7518 §3.3)' }],
  [9, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'RSA e = 1: anyone can forge' }],
  [10, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key' }],
  [11, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key' }],
  [12, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key' }],
  [16, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key' }],
  [17, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key' }],
  [18, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key' }],
  [19, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'alg "ES521" is not a JWA name' }],
  [20, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'alg "ES224" is not supported' }],
  [21, { outcome: 'ERR_KEY_UNUSABLE', skipped: 0, rule: 'use "enc": imported, never selected to verify' }],
  [22, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'EC point not on the curve' }],
  [23, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'alg ES256 on a P-384 key' }],
  [24, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'alg ES256 on an RSA key' }],
  [25, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key (A256GCM)' }],
  [26, { outcome: 'ERR_KEY_INVALID', skipped: 1, rule: 'oct key (A256KW)' }],
])

/** The set a caller would configure: `public` when present, else the public half of each private key. */
function groupSet(group: Group): JwkSet {
  return group.public ?? { keys: group.private.keys.map(publicHalf) }
}

function decide(group: Group, vector: Vector): { outcome: Outcome; skipped: number } {
  const keySet = importKeySet(groupSet(group))
  const skipped = keySet.rejected.length
  // A set with no usable key is refused as a whole, as createVerifier refuses it.
  if (keySet.keys.length === 0) {
    const codes = new Set(keySet.rejected.map((r) => r.code))
    return { outcome: codes.size === 1 ? ([...codes][0] as Outcome) : 'unexpected-exception', skipped }
  }
  return { outcome: decideJws(vector.jws, keySet), skipped }
}

describe('Wycheproof json_web_key_test.json through importKeySet and verifyCompactJws', () => {
  const vectors = file.testGroups.flatMap((group) => group.tests.map((vector) => ({ group, vector })))

  it('holds the 26 vectors described in PROVENANCE.md, with no "acceptable" label', () => {
    assert.equal(file.numberOfTests, 26)
    assert.equal(vectors.length, 26)
    assert.equal(new Set(vectors.map(({ vector }) => vector.tcId)).size, 26)
    assert.equal(vectors.filter(({ vector }) => vector.result === 'acceptable').length, 0)
  })

  it('decides every vector as labelled, by the expected rule, except exactly the listed deviations', () => {
    const failures: string[] = []
    let asLabelled = 0
    for (const { group, vector } of vectors) {
      const { tcId } = vector
      const { outcome, skipped } = decide(group, vector)
      const agrees = (outcome === 'accepted') === (vector.result === 'valid')
      const deviation = DEVIATIONS.get(tcId)
      if (deviation !== undefined) {
        if (agrees) failures.push(`tcId ${tcId}: listed as a deviation but now decided as labelled`)
        else if (outcome !== deviation.outcome)
          failures.push(`tcId ${tcId}: ${outcome}, the table says ${deviation.outcome}`)
        continue
      }
      if (!agrees) {
        failures.push(`tcId ${tcId}: ${outcome}, labelled ${vector.result}`)
        continue
      }
      asLabelled++
      const rule = RULES.get(tcId)
      if (vector.result === 'valid') continue
      if (rule === undefined) failures.push(`tcId ${tcId}: refused, but no rule is listed for it`)
      else if (outcome !== rule.outcome || skipped !== rule.skipped) {
        failures.push(
          `tcId ${tcId}: ${outcome} with ${skipped} keys skipped, expected ${rule.outcome}/${rule.skipped}`,
        )
      }
    }
    assert.deepEqual(failures, [], describeFailures(failures))
    assert.equal(asLabelled, 21)
    assert.equal(asLabelled + DEVIATIONS.size, 26)
  })

  it('derived from tcId 4: two importable keys with one kid are ambiguous, never tried in turn', () => {
    // tcId 4's keys are oct, so import refuses them before the duplicate kid matters. The same set
    // shape with the es256 group's EC key (kid "kid-ec-sign") shows the rule itself: RFC 7517 §4.5.
    const mixed = file.testGroups.find((g) => g.comment === 'jws_mixedSymmetryKeyset')
    const ecKey = mixed?.private.keys.find((k) => k.kty === 'EC')
    assert.ok(ecKey)
    const twin = { ...ecKey }
    delete twin.use
    const keySet = importKeySet({ keys: [ecKey, twin] })
    assert.equal(keySet.keys.length, 2)
    const esToken = vectors.find(({ vector }) => vector.tcId === 21)?.vector.jws
    assert.equal(decideJws(esToken, keySet), 'ERR_KEY_AMBIGUOUS')
    assert.equal(decideJws(esToken, new KeySet([keySet.keys[0]!])), 'accepted')
  })
})
