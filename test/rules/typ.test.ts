// Rule: explicit typing (RFC 8725 §3.11; RFC 9068 §4 access tokens are `at+jwt`). When the
// verifier is given a `typ`, the header's `typ` must name the same media type: compared
// case-insensitively, with the `application/` prefix optional on either side (RFC 7515 §4.1.9).
// This keeps one kind of token (an ID token, a logout token) from passing for another (security
// catalogue E3). Without the option, `typ` is not checked: it is opt-in, as in every peer.
import { describe, it } from 'node:test'
import type { VerifierOptions } from '../../src/index.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import { expectAccepted, expectCode, verifierFor } from './support.ts'

const key = makeKey('ES256')
const make = (options: Partial<VerifierOptions> = {}) =>
  verifierFor([key], { algorithms: ['ES256'], ...options })
const withTyp = (typ: string | undefined) => signToken(key, {}, { typ })

describe('typ: case-insensitive media type, "application/" optional (RFC 7515 §4.1.9; RFC 8725 §3.11)', () => {
  const accessTokens = make({ typ: 'at+jwt' })

  for (const typ of ['at+jwt', 'AT+JWT', 'At+Jwt', 'application/at+jwt', 'Application/AT+JWT']) {
    it(`accepts typ ${JSON.stringify(typ)} when "at+jwt" is expected`, async () => {
      await expectAccepted(accessTokens.verify(withTyp(typ)))
    })
  }

  for (const typ of [
    'JWT',
    'jwt',
    'logout+jwt',
    'at+jwt ',
    'application/application/at+jwt',
    'at-jwt',
    'text/at+jwt',
  ]) {
    it(`rejects typ ${JSON.stringify(typ)} when "at+jwt" is expected with ERR_TYP_MISMATCH`, async () => {
      await expectCode(accessTokens.verify(withTyp(typ)), 'ERR_TYP_MISMATCH')
    })
  }

  it('rejects a token without typ when a typ is expected with ERR_TYP_MISMATCH', async () => {
    await expectCode(accessTokens.verify(withTyp(undefined)), 'ERR_TYP_MISMATCH')
  })

  it('accepts "at+jwt" in the token when the option is written "application/at+jwt"', async () => {
    await expectAccepted(make({ typ: 'application/at+jwt' }).verify(withTyp('at+jwt')))
  })

  it('accepts "jwt" and "application/JWT" when the option is "JWT"', async () => {
    const jwt = make({ typ: 'JWT' })
    await expectAccepted(jwt.verify(withTyp('jwt')))
    await expectAccepted(jwt.verify(withTyp('application/JWT')))
  })

  it('does not check typ when no typ is configured (any value or none verifies)', async () => {
    const open = make()
    for (const typ of [undefined, 'JWT', 'at+jwt', 'logout+jwt'])
      await expectAccepted(open.verify(withTyp(typ)))
  })
})
