// Rules for `crit` (RFC 7515 §4.1.11): when present it is a non-empty array of unique strings,
// none a registered header name, each present in the header and understood by the recipient
// (none by default; the application names the ones it handles with `criticalHeaders`). Bypasses of
// this rule: jsonwebtoken 9.0.3 accepts unknown `crit` members (security catalogue §6); PyJWT
// CVE-2026-32597, fast-jwt CVE-2026-35042. Also: `b64` never in a JWT (RFC 7797 §7) and no nested
// JWTs (`cty: "JWT"`, RFC 7519 §5.2).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { makeKey, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, verifierFor } from './support.ts'

const key = makeKey('ES256')
const verifier = verifierFor([key], { algorithms: ['ES256'] })
const understanding = verifierFor([key], { algorithms: ['ES256'], criticalHeaders: ['exp-ext', 'toString'] })
const withHeader = (header: Record<string, unknown>) => signToken(key, {}, header)

describe('crit is a non-empty array of unique extension names (RFC 7515 §4.1.11)', () => {
  for (const [label, crit] of [
    ['a string', 'exp-ext'],
    ['an object', { 'exp-ext': true }],
    ['a number', 1],
    ['null', null],
    ['true', true],
  ] as const) {
    it(`rejects crit that is ${label} (not an array) with ERR_CRIT_INVALID`, async () => {
      await expectCode(understanding.verify(withHeader({ crit, 'exp-ext': 1 })), 'ERR_CRIT_INVALID')
    })
  }

  it('rejects an empty crit array with ERR_CRIT_INVALID ("MUST NOT" be empty)', async () => {
    await expectCode(verifier.verify(withHeader({ crit: [] })), 'ERR_CRIT_INVALID')
  })

  it('rejects crit with a non-string member with ERR_CRIT_INVALID', async () => {
    await expectCode(understanding.verify(withHeader({ crit: [1], 1: 'x' })), 'ERR_CRIT_INVALID')
    await expectCode(
      understanding.verify(withHeader({ crit: [['exp-ext']], 'exp-ext': 1 })),
      'ERR_CRIT_INVALID',
    )
  })

  it('rejects crit with an empty-string member with ERR_CRIT_INVALID', async () => {
    await expectCode(understanding.verify(withHeader({ crit: [''], '': 1 })), 'ERR_CRIT_INVALID')
  })

  it('rejects crit listing a name twice with ERR_CRIT_INVALID, even an understood one', async () => {
    await expectCode(
      understanding.verify(withHeader({ crit: ['exp-ext', 'exp-ext'], 'exp-ext': 1 })),
      'ERR_CRIT_INVALID',
    )
  })

  for (const name of ['alg', 'kid', 'typ', 'crit', 'jwk', 'x5c']) {
    it(`rejects crit listing the registered name "${name}" with ERR_CRIT_INVALID`, async () => {
      await expectCode(
        verifier.verify(withHeader({ crit: [name], x5c: ['AA'], jwk: {} })),
        'ERR_CRIT_INVALID',
      )
    })
  }

  it('rejects crit listing a name absent from the header with ERR_CRIT_INVALID, even an understood one', async () => {
    await expectCode(understanding.verify(withHeader({ crit: ['exp-ext'] })), 'ERR_CRIT_INVALID')
  })

  it('rejects crit listing an inherited name ("toString", "constructor") absent from the header with ERR_CRIT_INVALID', async () => {
    // "Present in the header" means an own member of the JSON object, not a property inherited
    // from Object.prototype (jose test "crit: inherited properties").
    await expectCode(understanding.verify(withHeader({ crit: ['toString'] })), 'ERR_CRIT_INVALID')
    await expectCode(verifier.verify(withHeader({ crit: ['constructor'] })), 'ERR_CRIT_INVALID')
  })
})

describe('each critical extension must be understood (RFC 7515 §4.1.11: otherwise the JWS is invalid)', () => {
  it('rejects an unknown extension present in the header with ERR_CRIT_UNSUPPORTED (jsonwebtoken 9.0.3 accepts it)', async () => {
    await expectCode(verifier.verify(withHeader({ crit: ['exp-ext'], 'exp-ext': 1 })), 'ERR_CRIT_UNSUPPORTED')
  })

  it('rejects a mix of an understood and an unknown extension with ERR_CRIT_UNSUPPORTED', async () => {
    const token = withHeader({ crit: ['exp-ext', 'other'], 'exp-ext': 1, other: 2 })
    await expectCode(understanding.verify(token), 'ERR_CRIT_UNSUPPORTED')
  })

  it('accepts an extension the application declares with criticalHeaders, and returns it in the header', async () => {
    const { header } = await understanding.verify(withHeader({ crit: ['exp-ext'], 'exp-ext': 42 }))
    assert.deepEqual(header.crit, ['exp-ext'])
    assert.equal(header['exp-ext'], 42)
  })

  it('accepts an understood extension member when crit does not list it (it is then not critical)', async () => {
    await expectAccepted(verifier.verify(withHeader({ 'exp-ext': 42 })))
  })
})

describe('b64 has no place in a JWT (RFC 7797 §7: JWTs MUST NOT use the unencoded payload option)', () => {
  const b64Aware = verifierFor([key], { algorithms: ['ES256'], criticalHeaders: ['b64'] })
  it('rejects b64: false without crit with ERR_HEADER_INVALID', async () => {
    await expectCode(verifier.verify(withHeader({ b64: false })), 'ERR_HEADER_INVALID')
  })

  it('rejects b64: false listed in crit with ERR_HEADER_INVALID (RFC 7797 §6 form)', async () => {
    await expectCode(verifier.verify(withHeader({ b64: false, crit: ['b64'] })), 'ERR_HEADER_INVALID')
  })

  it('rejects b64: true with ERR_HEADER_INVALID', async () => {
    await expectCode(verifier.verify(withHeader({ b64: true })), 'ERR_HEADER_INVALID')
  })

  it('rejects b64 even when the application lists "b64" in criticalHeaders', async () => {
    const error = await expectCode(
      b64Aware.verify(withHeader({ b64: false, crit: ['b64'] })),
      'ERR_HEADER_INVALID',
    )
    assert.equal(error.claim, 'b64')
  })
})

describe('nested JWTs are not supported (RFC 7519 §5.2 cty "JWT"; RFC 7515 §4.1.10 media types)', () => {
  for (const cty of ['JWT', 'jwt', 'application/jwt', 'Application/JWT']) {
    it(`rejects cty ${JSON.stringify(cty)} with ERR_HEADER_INVALID`, async () => {
      const error = await expectCode(verifier.verify(withHeader({ cty })), 'ERR_HEADER_INVALID')
      assert.equal(error.claim, 'cty')
    })
  }

  it('rejects a non-string cty or typ with ERR_HEADER_INVALID', async () => {
    await expectCode(verifier.verify(withHeader({ cty: ['JWT'] })), 'ERR_HEADER_INVALID')
    await expectCode(verifier.verify(withHeader({ typ: 1 })), 'ERR_HEADER_INVALID')
  })

  it('accepts another content type such as "json"', async () => {
    await expectAccepted(verifier.verify(withHeader({ cty: 'json' })))
  })
})
