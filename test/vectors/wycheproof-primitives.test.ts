// Project Wycheproof signature-primitive vectors for the algorithms JWS uses (primitives/*.json),
// fed to jwks-bridge's verifySignature with keys imported by importPublicJwk. These exercise the
// JOSE encoding checks in front of node:crypto (signature length, ECDSA R||S range, PSS salt
// length) and node:crypto itself. The messages are arbitrary octets, not JWS signing inputs, so they
// are checked at this layer rather than wrapped into tokens. See PROVENANCE.md.
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { describe, it } from 'node:test'
import { type Algorithm, algorithmSpec } from '../../src/jose/algorithms.ts'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import { fits } from '../../src/jose/key-set.ts'
import { verifySignature } from '../../src/jose/signature.ts'
import { describeFailures, loadVectors, outcomeOf } from './support.ts'

interface Vector {
  tcId: number
  comment: string
  msg: string
  sig: string
  result: 'valid' | 'invalid' | 'acceptable'
  flags: string[]
}
interface Group {
  publicKeyDer: string
  publicKeyJwk?: Record<string, unknown>
  keyJwk?: Record<string, unknown>
  tests: Vector[]
}

/** Each file, the JWS algorithm it stands for, its vector count and its groups without a JWK. */
const FILES: readonly { file: string; alg: Algorithm; tests: number; derivedKeys: number }[] = [
  { file: 'ecdsa_secp256r1_sha256_p1363_test.json', alg: 'ES256', tests: 262, derivedKeys: 9 },
  { file: 'ecdsa_secp384r1_sha384_p1363_test.json', alg: 'ES384', tests: 280, derivedKeys: 9 },
  { file: 'ecdsa_secp521r1_sha512_p1363_test.json', alg: 'ES512', tests: 318, derivedKeys: 9 },
  { file: 'ed25519_test.json', alg: 'EdDSA', tests: 151, derivedKeys: 0 },
  { file: 'rsa_signature_2048_sha256_test.json', alg: 'RS256', tests: 259, derivedKeys: 0 },
  { file: 'rsa_signature_2048_sha384_test.json', alg: 'RS384', tests: 258, derivedKeys: 0 },
  { file: 'rsa_signature_2048_sha512_test.json', alg: 'RS512', tests: 259, derivedKeys: 0 },
  // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash: exactly these three files.
  { file: 'rsa_pss_2048_sha256_mgf1_32_test.json', alg: 'PS256', tests: 108, derivedKeys: 0 },
  { file: 'rsa_pss_2048_sha384_mgf1_48_test.json', alg: 'PS384', tests: 141, derivedKeys: 0 },
  { file: 'rsa_pss_4096_sha512_mgf1_64_test.json', alg: 'PS512', tests: 179, derivedKeys: 0 },
]

/**
 * THE list of vectors on which verifySignature's answer differs from Wycheproof's label, per file
 * and tcId, with the reason. Empty: every labelled vector is decided as labelled. The test fails if
 * another vector disagrees, or a listed one stops deviating.
 */
const DEVIATIONS: ReadonlyMap<string, { verified: boolean; reason: string }> = new Map()

/**
 * Vectors labelled "acceptable" (either answer is fine), and the answer jwks-bridge gives. Recorded
 * so that this list stays true; a change of answer is allowed, but must be written down here.
 */
const ACCEPTABLE: ReadonlyMap<string, { verified: boolean; reason: string }> = new Map([
  [
    'rsa_signature_2048_sha256_test.json#8',
    {
      verified: false,
      reason: 'DigestInfo without the NULL parameters: OpenSSL refuses it, as RFC 8017 §9.2 encodes',
    },
  ],
  [
    'rsa_signature_2048_sha384_test.json#8',
    {
      verified: false,
      reason: 'DigestInfo without the NULL parameters: OpenSSL refuses it, as RFC 8017 §9.2 encodes',
    },
  ],
  [
    'rsa_signature_2048_sha512_test.json#8',
    {
      verified: false,
      reason: 'DigestInfo without the NULL parameters: OpenSSL refuses it, as RFC 8017 §9.2 encodes',
    },
  ],
])

/** The group's JWK, or one made from its SubjectPublicKeyInfo by node:crypto when it has none. */
function groupJwk(group: Group): { jwk: Record<string, unknown>; derived: boolean } {
  const given = group.publicKeyJwk ?? group.keyJwk
  if (given) return { jwk: given, derived: false }
  const key = createPublicKey({ key: Buffer.from(group.publicKeyDer, 'hex'), format: 'der', type: 'spki' })
  return { jwk: key.export({ format: 'jwk' }) as Record<string, unknown>, derived: true }
}

describe('Wycheproof signature primitives through importPublicJwk and verifySignature', () => {
  for (const { file, alg, tests, derivedKeys } of FILES) {
    it(`${file} (${alg}): every vector decided as labelled, except the listed ones`, () => {
      const { testGroups } = loadVectors<{ testGroups: Group[] }>(`wycheproof/primitives/${file}`)
      const spec = algorithmSpec(alg)
      assert.ok(spec)
      const failures: string[] = []
      let count = 0
      let derived = 0
      for (const group of testGroups) {
        const { jwk, derived: isDerived } = groupJwk(group)
        if (isDerived) derived++
        const key = importPublicJwk(jwk)
        // KeySet.select would choose this key for the algorithm; verifySignature relies on that.
        assert.ok(fits(key, spec), `a ${file} key does not fit ${alg}`)
        for (const vector of group.tests) {
          count++
          const id = `${file}#${vector.tcId}`
          let verified: boolean | 'threw'
          try {
            verified = verifySignature(
              spec,
              key,
              Buffer.from(vector.msg, 'hex'),
              Buffer.from(vector.sig, 'hex'),
            )
          } catch {
            verified = 'threw'
          }
          if (verified === 'threw') {
            failures.push(`tcId ${vector.tcId}: verifySignature threw`)
            continue
          }
          const listed = vector.result === 'acceptable' ? ACCEPTABLE.get(id) : DEVIATIONS.get(id)
          if (vector.result === 'acceptable') {
            if (listed === undefined) failures.push(`tcId ${vector.tcId}: acceptable, not listed`)
            else if (listed.verified !== verified)
              failures.push(`tcId ${vector.tcId}: acceptable, answer changed`)
            continue
          }
          const agrees = verified === (vector.result === 'valid')
          if (listed === undefined) {
            if (!agrees) failures.push(`tcId ${vector.tcId}: verified=${verified}, labelled ${vector.result}`)
          } else if (agrees)
            failures.push(`tcId ${vector.tcId}: listed as a deviation but decided as labelled`)
        }
      }
      assert.deepEqual(failures, [], describeFailures(failures))
      assert.equal(count, tests)
      assert.equal(derived, derivedKeys)
    })
  }

  it('every listed deviation and acceptable vector names a file that is run', () => {
    const files = new Set(FILES.map((f) => f.file))
    for (const id of [...DEVIATIONS.keys(), ...ACCEPTABLE.keys()]) {
      assert.ok(files.has(id.split('#')[0] ?? ''), `${id} names no file that is run`)
    }
  })

  it('EdDSA and its RFC 9864 name Ed25519 decide the Ed25519 vectors alike', () => {
    const { testGroups } = loadVectors<{ testGroups: Group[] }>('wycheproof/primitives/ed25519_test.json')
    const eddsa = algorithmSpec('EdDSA')
    const ed25519 = algorithmSpec('Ed25519')
    assert.ok(eddsa && ed25519)
    const differing: number[] = []
    for (const group of testGroups) {
      const key = importPublicJwk(groupJwk(group).jwk)
      for (const vector of group.tests) {
        const msg = Buffer.from(vector.msg, 'hex')
        const sig = Buffer.from(vector.sig, 'hex')
        if (verifySignature(eddsa, key, msg, sig) !== verifySignature(ed25519, key, msg, sig)) {
          differing.push(vector.tcId)
        }
      }
    }
    assert.deepEqual(differing, [])
  })

  it('Ed448 is out of scope: importPublicJwk refuses every Ed448 key (ERR_KEY_INVALID)', () => {
    // jwks-bridge offers EdDSA with Ed25519 only (RFC 8037 allows Ed448 too; RFC 9864 names it
    // Ed448). A key it cannot verify with is refused at import, so no Ed448 vector can be decided.
    const { testGroups } = loadVectors<{ testGroups: Group[] }>('wycheproof/primitives/ed448_test.json')
    assert.equal(testGroups.length, 15)
    for (const group of testGroups) {
      assert.equal(groupJwk(group).jwk.crv, 'Ed448')
      assert.equal(
        outcomeOf(() => importPublicJwk(groupJwk(group).jwk)),
        'ERR_KEY_INVALID',
      )
    }
  })
})
