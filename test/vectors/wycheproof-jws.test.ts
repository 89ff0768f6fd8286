// Project Wycheproof's JSON Web Signature vectors (json_web_signature_test.json, 401 tests), decided
// through jwks-bridge's own code: importPublicJwk, then verifyCompactJws (structure, header, key
// selection, signature). See PROVENANCE.md for where the file comes from.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createVerifier } from '../../src/index.ts'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import { KeySet } from '../../src/jose/key-set.ts'
import {
  algorithmsFor,
  decideJws,
  describeFailures,
  loadVectors,
  type Outcome,
  publicHalf,
} from './support.ts'

interface Vector {
  tcId: number
  comment: string
  jws: unknown
  result: 'valid' | 'invalid' | 'acceptable'
  flags: string[]
}
interface Group {
  comment: string
  private?: Record<string, unknown>
  public?: Record<string, unknown>
  tests: Vector[]
}
interface Anomaly {
  tcId: number
  label: 'valid' | 'invalid'
  strict_result: string
}

const file = loadVectors<{ numberOfTests: number; testGroups: Group[] }>(
  'wycheproof/json_web_signature_test.json',
)
const anomalies = loadVectors<{ items: Anomaly[] }>('wycheproof/ANOMALIES.json').items

const HMAC =
  'HS256 with an oct key: jwks-bridge verifies asymmetric signatures only and importPublicJwk refuses ' +
  'oct keys, so no public key can ever be used as an HMAC secret (RFC 8725 §3.1-3.2, CVE-2015-9235)'
const QUESTION_MARK =
  `${HMAC}; besides, the "?" inserted in a segment is outside the base64url alphabet, which ` +
  'jwks-bridge refuses (RFC 7515 §2, §7.1; ANOMALIES.json)'
const KEY_ALG_PS256 =
  'the key says alg PS256, the token PS384 (RFC 7520 Fig. 20 with "alg" added to the key): one key, ' +
  'one algorithm (RFC 8725 §3.1, RFC 7517 §4.4), the rule Wycheproof itself applies in WrongPrimitive ' +
  '331-340; jwks-bridge does not select the key (ANOMALIES.json)'
const KEY_ALG_ES521 =
  'the key says alg "ES521", which is not a JWA name (RFC 7518 §3.1 has ES512): a key restricted to an ' +
  'algorithm jwks-bridge does not know is refused at import, as JWK tcId 19 expects (ANOMALIES.json)'

/**
 * THE list of vectors on which jwks-bridge's decision differs from Wycheproof's label: tcId, the
 * outcome we give (an error code), and why. The test fails when a vector outside this table disagrees
 * with its label, and when a vector in it stops deviating or deviates with another code.
 */
const DEVIATIONS: ReadonlyMap<number, { outcome: Outcome; reason: string }> = new Map([
  [1, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [346, { outcome: 'ERR_KEY_UNUSABLE', reason: KEY_ALG_PS256 }],
  [347, { outcome: 'ERR_KEY_INVALID', reason: KEY_ALG_ES521 }],
  [348, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [350, { outcome: 'ERR_KEY_UNUSABLE', reason: `${KEY_ALG_PS256} (with key_ops ["verify"])` }],
  [351, { outcome: 'ERR_KEY_INVALID', reason: `${KEY_ALG_ES521} (with key_ops ["verify"])` }],
  [352, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [357, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [358, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [359, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [372, { outcome: 'ERR_KEY_INVALID', reason: QUESTION_MARK }],
  [373, { outcome: 'ERR_KEY_INVALID', reason: QUESTION_MARK }],
  [376, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
  [377, { outcome: 'ERR_KEY_INVALID', reason: HMAC }],
])

/** The JWK a caller would configure for a group: `public` when present, else the public half of `private`. */
function groupJwk(group: Group): Record<string, unknown> {
  if (group.public) return group.public
  assert.ok(group.private, `group ${group.comment} has neither a public nor a private key`)
  return publicHalf(group.private)
}

/** Decides every vector once: import the group's key (a refusal rejects every token), then verify. */
function decideAll(): Map<number, { vector: Vector; group: Group; outcome: Outcome }> {
  const decided = new Map<number, { vector: Vector; group: Group; outcome: Outcome }>()
  for (const group of file.testGroups) {
    let keySet: KeySet | undefined
    let importOutcome: Outcome = 'accepted'
    try {
      keySet = new KeySet([importPublicJwk(groupJwk(group))])
    } catch (error) {
      importOutcome = (error as { code?: Outcome }).code ?? 'unexpected-exception'
    }
    for (const vector of group.tests) {
      const outcome = keySet === undefined ? importOutcome : decideJws(vector.jws, keySet)
      decided.set(vector.tcId, { vector, group, outcome })
    }
  }
  return decided
}

const decided = decideAll()

describe('Wycheproof json_web_signature_test.json through verifyCompactJws', () => {
  it('holds the 401 vectors described in PROVENANCE.md, with unique tcIds and no "acceptable" label', () => {
    const vectors = file.testGroups.flatMap((group) => group.tests)
    assert.equal(file.numberOfTests, 401)
    assert.equal(vectors.length, 401)
    assert.equal(decided.size, 401, 'tcIds are not unique')
    assert.equal(vectors.filter((v) => v.result === 'valid').length, 46)
    assert.equal(vectors.filter((v) => v.result === 'acceptable').length, 0)
  })

  it('decides every vector as labelled, except exactly the listed deviations', () => {
    const failures: string[] = []
    let asLabelled = 0
    for (const [tcId, { vector, outcome }] of decided) {
      const accepted = outcome === 'accepted'
      const agrees = accepted === (vector.result === 'valid')
      const deviation = DEVIATIONS.get(tcId)
      if (outcome === 'unexpected-exception')
        failures.push(`tcId ${tcId}: threw something other than JwksBridgeError`)
      else if (deviation === undefined) {
        if (agrees) asLabelled++
        else failures.push(`tcId ${tcId}: ${outcome}, labelled ${vector.result}`)
      } else if (agrees) failures.push(`tcId ${tcId}: listed as a deviation but now decided as labelled`)
      else if (outcome !== deviation.outcome) {
        failures.push(`tcId ${tcId}: deviates with ${outcome}, the table says ${deviation.outcome}`)
      }
    }
    for (const tcId of DEVIATIONS.keys()) {
      if (!decided.has(tcId)) failures.push(`tcId ${tcId}: listed as a deviation but not in the file`)
    }
    assert.deepEqual(failures, [], describeFailures(failures))
    assert.equal(asLabelled + DEVIATIONS.size, 401)
    assert.equal(asLabelled, 387)
  })

  it('accounts for every entry of ANOMALIES.json', () => {
    const failures: string[] = []
    const tokenOf = (tcId: number) => decided.get(tcId)?.vector.jws
    for (const anomaly of anomalies) {
      const entry = decided.get(anomaly.tcId)
      if (entry === undefined || entry.vector.result !== anomaly.label) {
        failures.push(`tcId ${anomaly.tcId}: not in the file with label ${anomaly.label}`)
      } else if (DEVIATIONS.has(anomaly.tcId)) {
        // Listed above with its reason.
      } else if (anomaly.tcId === 367 || anomaly.tcId === 370) {
        // Labelled invalid, yet byte-identical to tcId 357 (valid). Identical bytes must get one
        // decision: all three are refused, since 357 is HS256 (listed above), so these agree with
        // their label and need no entry of their own.
        if (tokenOf(anomaly.tcId) !== tokenOf(357))
          failures.push(`tcId ${anomaly.tcId}: not identical to 357`)
        if (entry.outcome !== decided.get(357)?.outcome) {
          failures.push(`tcId ${anomaly.tcId}: decided differently from the identical tcId 357`)
        }
      } else failures.push(`tcId ${anomaly.tcId}: an anomaly that is neither listed nor explained`)
    }
    assert.equal(anomalies.length, 8)
    assert.deepEqual(failures, [], describeFailures(failures))
  })

  it('without any HMAC path, structure alone decides the base64 group (357-377) as a strict reading does', () => {
    // These vectors are HS256, so the key import already refuses all of them. To check the
    // canonical-base64url rules (RFC 7515 §2; PyJWT GHSA-hxm8-2xgr-2p9m) against them anyway, run
    // each token against an empty key set: a structurally sound token gets as far as the algorithm
    // check (ERR_ALG_NOT_ALLOWED), a malformed one stops earlier (ERR_BASE64URL_INVALID). Expected:
    // the label, or ANOMALIES.json's strict_result where the label conflicts with RFC 7515.
    const strict = new Map(anomalies.map((a) => [a.tcId, a.strict_result]))
    const group = file.testGroups.find((g) => g.comment === 'base64')
    assert.ok(group)
    const empty = new KeySet([])
    const failures: string[] = []
    for (const vector of group.tests) {
      const expected = strict.get(vector.tcId) ?? vector.result
      const outcome = decideJws(vector.jws, empty)
      const want = expected === 'valid' ? 'ERR_ALG_NOT_ALLOWED' : 'ERR_BASE64URL_INVALID'
      if (outcome !== want) failures.push(`tcId ${vector.tcId}: ${outcome}, expected ${want}`)
    }
    assert.equal(group.tests.length, 21)
    assert.deepEqual(failures, [], describeFailures(failures))
  })

  it('the JWT verifier stays stricter: every JWS it accepts here is refused as a JWT for its payload', async () => {
    // Wycheproof's payloads are not JWT claims sets ("foo", empty, zero bytes...). verifyCompactJws
    // accepts them; createVerifier must refuse them after the signature, on the payload.
    const payloadCodes = new Set(['ERR_TOKEN_MALFORMED', 'ERR_JSON_INVALID', 'ERR_UTF8_INVALID'])
    const failures: string[] = []
    let checked = 0
    for (const [tcId, { vector, group, outcome }] of decided) {
      if (outcome !== 'accepted') continue
      const jwk = groupJwk(group)
      const algorithms = algorithmsFor(vector.jws, new KeySet([importPublicJwk(jwk)]))
      const verifier = createVerifier({ issuer: 'https://issuer.example', jwks: { keys: [jwk] }, algorithms })
      try {
        await verifier.verify(vector.jws as string)
        failures.push(`tcId ${tcId}: accepted as a JWT`)
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'no code'
        if (!payloadCodes.has(code)) failures.push(`tcId ${tcId}: refused as a JWT with ${code}`)
      } finally {
        verifier.close()
      }
      checked++
    }
    assert.equal(checked, 32)
    assert.deepEqual(failures, [], describeFailures(failures))
  })
})
