// The JOSE cookbook (RFC 7520), RFC 8037's Ed25519 example and RFC 7797's b64:false examples, from
// ietf-jose/cookbook (see PROVENANCE.md). The asymmetric compact examples must verify at the JWS
// level; HMAC, detached content, the JSON serializations and b64:false must be refused, each with
// the error code of the rule that refuses it.
import assert from 'node:assert/strict'
import { createPrivateKey, sign } from 'node:crypto'
import { describe, it } from 'node:test'
import type { ErrorCode } from '../../src/errors.ts'
import { createVerifier } from '../../src/index.ts'
import type { Algorithm } from '../../src/jose/algorithms.ts'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import { KeySet } from '../../src/jose/key-set.ts'
import { verifyCompactJws } from '../../src/jose/verify-jws.ts'
import { loadVectors, outcomeOf, publicHalf } from './support.ts'

type Jwk = Record<string, unknown>
interface Example {
  title: string
  input: { payload: string; key: Jwk | Jwk[]; alg: string | string[] }
  signing: { protected_b64u?: string }
  output: {
    compact?: string
    json: { payload?: string; signatures: { protected?: string; signature: string }[] }
    json_flat: Record<string, unknown>
  }
}

const example = (path: string) => loadVectors<Example>(`rfc7520/${path}`)
const jwk = (path: string) => loadVectors<Jwk>(`rfc7520/jwk/${path}`)

// The cookbook's public keys, as published in RFC 7520 §3.1 (EC P-521) and §3.3 (RSA 2048).
const ecPublic = importPublicJwk(jwk('3_1.ec_public_key.json'))
const rsaPublic = importPublicJwk(jwk('3_3.rsa_public_key.json'))
const cookbookKeys = new KeySet([ecPublic, rsaPublic])

async function jwtOutcome(token: string, key: Jwk, algorithms: Algorithm[]): Promise<string> {
  const verifier = createVerifier({ issuer: 'https://issuer.example', jwks: { keys: [key] }, algorithms })
  try {
    await verifier.verify(token)
    return 'accepted'
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code'
  } finally {
    verifier.close()
  }
}

describe('RFC 7520 §3: the cookbook keys', () => {
  it('imports the public EC and RSA keys, and refuses the private and symmetric ones', () => {
    assert.equal(ecPublic.crv, 'P-521')
    assert.equal(rsaPublic.bits, 2048)
    // A key set holds public keys only; private material means the key has leaked (RFC 7517 §5).
    assert.equal(
      outcomeOf(() => importPublicJwk(jwk('3_2.ec_private_key.json'))),
      'ERR_KEY_INVALID',
    )
    assert.equal(
      outcomeOf(() => importPublicJwk(jwk('3_4.rsa_private_key.json'))),
      'ERR_KEY_INVALID',
    )
    // Symmetric keys: no HMAC path at all (RFC 8725 §3.2).
    assert.equal(
      outcomeOf(() => importPublicJwk(jwk('3_5.symmetric_key_mac_computation.json'))),
      'ERR_KEY_INVALID',
    )
    assert.equal(
      outcomeOf(() => importPublicJwk(jwk('3_6.symmetric_key_encryption.json'))),
      'ERR_KEY_INVALID',
    )
    // The public half of each private key is the published public key.
    assert.equal(
      importPublicJwk(publicHalf(jwk('3_2.ec_private_key.json'))).fingerprint,
      ecPublic.fingerprint,
    )
    assert.equal(
      importPublicJwk(publicHalf(jwk('3_4.rsa_private_key.json'))).fingerprint,
      rsaPublic.fingerprint,
    )
  })
})

describe('RFC 7520 §4.1-4.3 and RFC 8037 A.4: asymmetric compact JWS verify', () => {
  const cases: { name: string; path: string; keySet: () => KeySet; alg: Algorithm }[] = [
    {
      name: '4.1 RSA v1.5 (RS256)',
      path: 'jws/4_1.rsa_v15_signature.json',
      keySet: () => cookbookKeys,
      alg: 'RS256',
    },
    {
      name: '4.2 RSA-PSS (PS384)',
      path: 'jws/4_2.rsa-pss_signature.json',
      keySet: () => cookbookKeys,
      alg: 'PS384',
    },
    {
      name: '4.3 ECDSA P-521 (ES512)',
      path: 'jws/4_3.ecdsa_signature.json',
      keySet: () => cookbookKeys,
      alg: 'ES512',
    },
    {
      name: 'RFC 8037 Ed25519 (EdDSA)',
      path: 'curve25519/jws.json',
      // No separate key file: the example's own key, private member stripped.
      keySet: () =>
        new KeySet([importPublicJwk(publicHalf(example('curve25519/jws.json').input.key as Jwk))]),
      alg: 'EdDSA',
    },
  ]
  for (const { name, path, keySet, alg } of cases) {
    it(`${name}: verifies, returns the payload octets, and fails with another payload`, async () => {
      const vector = example(path)
      const token = vector.output.compact
      assert.ok(token)
      assert.equal(vector.input.alg, alg)
      // The example's own key is the published one.
      const own = importPublicJwk(publicHalf(vector.input.key as Jwk))
      assert.ok(keySet().keys.some((key) => key.fingerprint === own.fingerprint))

      const { header, payload } = verifyCompactJws(token, keySet(), { algorithms: [alg] })
      assert.equal(header.alg, alg)
      assert.ok(payload.equals(Buffer.from(vector.input.payload, 'utf8')), 'payload octets differ')

      const [head, , signature] = token.split('.')
      const other = `${head}.${Buffer.from('another payload').toString('base64url')}.${signature}`
      assert.equal(
        outcomeOf(() => verifyCompactJws(other, keySet(), { algorithms: [alg] })),
        'ERR_SIGNATURE_INVALID',
      )
      // Only the allowlisted algorithm: the same token under another allowlist is refused.
      const elsewhere: Algorithm = alg === 'RS256' ? 'PS256' : 'RS256'
      assert.equal(
        outcomeOf(() => verifyCompactJws(token, keySet(), { algorithms: [elsewhere] })),
        'ERR_ALG_NOT_ALLOWED',
      )

      // The payload is prose, not a claims set: the JWT verifier refuses what the JWS layer accepts.
      assert.equal(await jwtOutcome(token, own.publicJwk as Jwk, [alg]), 'ERR_JSON_INVALID')
    })
  }
})

describe('RFC 7520 §4.4-4.8 and RFC 7797: refused, each by its rule', () => {
  const all: Algorithm[] = ['RS256', 'PS384', 'ES512']

  it('4.4 HMAC (HS256): the oct key is refused at import, the token by the allowlist', () => {
    const vector = example('jws/4_4.hmac-sha2_integrity_protection.json')
    assert.equal(
      outcomeOf(() => importPublicJwk(vector.input.key)),
      'ERR_KEY_INVALID',
    )
    assert.ok(vector.output.compact)
    assert.equal(
      outcomeOf(() => verifyCompactJws(vector.output.compact!, cookbookKeys, { algorithms: all })),
      'ERR_ALG_NOT_ALLOWED',
    )
    // HS256 cannot even be configured (RFC 8725 §3.1: no public key becomes an HMAC secret).
    const options = { algorithms: ['HS256'] as unknown as Algorithm[] }
    assert.equal(
      outcomeOf(() => verifyCompactJws(vector.output.compact!, cookbookKeys, options)),
      'ERR_INVALID_OPTIONS',
    )
  })

  it('4.5 detached content: refused with the payload detached and re-attached; the JWT path refuses the empty payload', async () => {
    const vector = example('jws/4_5.signature_with_detached_content.json')
    const detached = vector.output.compact
    assert.ok(detached)
    const [head, empty, signature] = detached.split('.')
    assert.equal(empty, '')
    assert.equal(
      outcomeOf(() => verifyCompactJws(detached, cookbookKeys, { algorithms: all })),
      'ERR_ALG_NOT_ALLOWED',
    )
    const attached = `${head}.${Buffer.from(vector.input.payload, 'utf8').toString('base64url')}.${signature}`
    assert.equal(
      outcomeOf(() => verifyCompactJws(attached, cookbookKeys, { algorithms: all })),
      'ERR_ALG_NOT_ALLOWED',
    )
    // A JWT's claims set is never empty: the JWT verifier refuses the shape before anything else.
    assert.equal(await jwtOutcome(detached, rsaPublic.publicJwk as Jwk, ['RS256']), 'ERR_TOKEN_MALFORMED')
  })

  for (const [name, path] of [
    ['4.6 protecting specific header fields', 'jws/4_6.protecting_specific_header_fields.json'],
    ['4.7 protecting content only', 'jws/4_7.protecting_content_only.json'],
    ['4.8 multiple signatures', 'jws/4_8.multiple_signatures.json'],
  ] as const) {
    it(`${name}: the JSON serializations are not compact tokens`, () => {
      // Compact only (RFC 8725bis "check the format type"): unprotected header members such as 4.6's
      // kid or 4.7's alg never reach the verifier.
      const vector = example(path)
      assert.equal(vector.output.compact, undefined)
      for (const serialized of [vector.output.json, vector.output.json_flat]) {
        if (serialized === undefined) continue
        assert.equal(
          outcomeOf(() =>
            verifyCompactJws(serialized as unknown as string, cookbookKeys, { algorithms: all }),
          ),
          'ERR_TOKEN_TYPE',
        )
        assert.equal(
          outcomeOf(() => verifyCompactJws(JSON.stringify(serialized), cookbookKeys, { algorithms: all })),
          'ERR_TOKEN_MALFORMED',
        )
      }
    })
  }

  it('RFC 7797 b64:false (HS256): the compact form is not base64url, the JSON form not compact', () => {
    const compact = example('rfc7797/hmac-sha2_b64_false.json').output.compact
    assert.ok(compact)
    assert.equal(
      outcomeOf(() => verifyCompactJws(compact, cookbookKeys, { algorithms: all })),
      'ERR_BASE64URL_INVALID',
    )
    const json = example('rfc7797/4.2.hmac-sha2_b64_false.json').output.json
    assert.equal(
      outcomeOf(() => verifyCompactJws(json as unknown as string, cookbookKeys, { algorithms: all })),
      'ERR_TOKEN_TYPE',
    )
    // RFC 7797 §5.2: with b64:false a payload holding "." is sent detached.
    const signature = json.signatures[0]
    assert.ok(signature?.protected)
    const detached = `${signature.protected}..${signature.signature}`
    assert.equal(
      outcomeOf(() => verifyCompactJws(detached, cookbookKeys, { algorithms: all })),
      'ERR_ALG_NOT_ALLOWED',
    )
  })

  it('RFC 7797 b64:false re-signed with the cookbook RSA key: refused by the header rule, crit understood or not', () => {
    // The HS256 examples stop at the allowlist; this shows the b64 rule itself. A JWS with b64:false
    // signs the raw payload (RFC 7797 §3), which jwks-bridge does not implement: it must refuse the
    // header rather than check the signature over the wrong input.
    const privateKey = createPrivateKey({
      key: example('jws/4_1.rsa_v15_signature.json').input.key as never,
      format: 'jwk',
    })
    const head = Buffer.from(JSON.stringify({ alg: 'RS256', b64: false, crit: ['b64'] })).toString(
      'base64url',
    )
    const signature = sign('sha256', Buffer.from(`${head}.$.02`), privateKey).toString('base64url')
    const token = `${head}..${signature}`
    const codes: (ErrorCode | string)[] = [
      outcomeOf(() => verifyCompactJws(token, cookbookKeys, { algorithms: ['RS256'] })),
      outcomeOf(() =>
        verifyCompactJws(token, cookbookKeys, { algorithms: ['RS256'], criticalHeaders: ['b64'] }),
      ),
    ]
    assert.deepEqual(codes, ['ERR_HEADER_INVALID', 'ERR_HEADER_INVALID'])
  })
})
