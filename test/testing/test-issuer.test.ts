import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { genericProfile, oidcIdTokenProfile, supertokensProfile } from '../../src/bridge/profiles.ts'
import { createVerifier, isJwksBridgeError, type VerifiedJwt } from '../../src/index.ts'
import { createTestIssuer, TEST_ISSUER_ALGORITHMS, type TestIssuer } from '../../src/testing/index.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'

const NOW_MS = 1_800_000_000_000
const clock = () => NOW_MS

function verifierFor(issuer: TestIssuer, extra: Record<string, unknown> = {}) {
  return createVerifier({ ...issuer.verifierOptions(), nowMs: clock, tokenCache: false, ...extra })
}

describe('createTestIssuer: real tokens that the real verifier accepts', () => {
  for (const alg of TEST_ISSUER_ALGORITHMS) {
    for (const profile of ['generic', 'oidc-id-token'] as const) {
      it(`${profile} / ${alg}: verifies with verifierOptions() and passes the ${profile} profile`, async () => {
        const idp = createTestIssuer({ alg, profile, nowMs: clock })
        const result = await verifierFor(idp).verify(idp.sign({ sub: 'user-42', email: 'a@example.com' }))
        assert.equal(result.header.alg, alg)
        assert.equal(result.header.kid, idp.kid)
        assert.equal(result.payload.iss, idp.issuer)
        assert.equal(result.payload.sub, 'user-42')
        assert.equal(result.payload.email, 'a@example.com')
        assert.equal(result.payload.iat, NOW_MS / 1000)
        assert.equal(result.payload.exp, NOW_MS / 1000 + 3600)
        const check =
          profile === 'generic' ? genericProfile() : oidcIdTokenProfile({ audience: idp.audience as string })
        assert.equal(check.check(result).subject, 'user-42')
      })
    }
  }

  it('oidc-id-token: aud is the audience (default test-client), with sid and auth_time', async () => {
    const idp = createTestIssuer({ profile: 'oidc-id-token', nowMs: clock })
    assert.equal(idp.audience, 'test-client')
    assert.equal(idp.verifierOptions().audience, 'test-client')
    const { payload } = await verifierFor(idp).verify(idp.sign())
    assert.equal(payload.aud, 'test-client')
    assert.equal(typeof payload.sid, 'string')
    assert.equal(payload.auth_time, payload.iat)
    const result = oidcIdTokenProfile({ audience: 'my-app' })
    const custom = createTestIssuer({ profile: 'oidc-id-token', audience: 'my-app', nowMs: clock })
    const verified = await verifierFor(custom).verify(custom.sign())
    assert.equal(result.check(verified).providerSessionId, verified.payload.sid)
  })

  it('generic: aud only when an audience is given; the default subject is test-user', async () => {
    const plain = createTestIssuer({ nowMs: clock })
    const { payload } = await verifierFor(plain).verify(plain.sign())
    assert.equal(payload.aud, undefined)
    assert.equal(payload.sub, 'test-user')
    assert.equal('audience' in plain.verifierOptions(), false)
    const api = createTestIssuer({ audience: 'my-api', subject: 'alice', nowMs: clock })
    const verified = await verifierFor(api).verify(api.sign())
    assert.equal(verified.payload.aud, 'my-api')
    assert.equal(verified.payload.sub, 'alice')
  })

  it('each token is distinct (a random jti), so the single-use guard does not take the second for a replay', () => {
    const idp = createTestIssuer({ nowMs: clock })
    // Compared as a boolean so that a failure never prints a token.
    const first = idp.sign({ sub: 'u' })
    const second = idp.sign({ sub: 'u' })
    assert.equal(first === second, false)
  })

  it('claims and header override the defaults; undefined removes a member', async () => {
    const idp = createTestIssuer({ nowMs: clock })
    const verifier = verifierFor(idp, { requireExp: false, typ: 'at+jwt' })
    const { header, payload } = await verifier.verify(
      idp.sign({ exp: undefined, jti: undefined, scope: 'read' }, { typ: 'at+jwt' }),
    )
    assert.equal(header.typ, 'at+jwt')
    assert.equal('exp' in payload, false)
    assert.equal('jti' in payload, false)
    assert.equal(payload.scope, 'read')
  })

  it('an expired token is refused by the verifier (the issuer really signs what it is told)', async () => {
    const idp = createTestIssuer({ nowMs: clock })
    await assert.rejects(verifierFor(idp).verify(idp.sign({ exp: NOW_MS / 1000 - 1 })), (e: unknown) =>
      isJwksBridgeError(e, 'ERR_JWT_EXPIRED'),
    )
  })

  it('another issuer with the same settings has other keys: its tokens do not verify', async () => {
    const a = createTestIssuer({ nowMs: clock })
    const b = createTestIssuer({ nowMs: clock })
    assert.notEqual(a.kid, b.kid)
    await assert.rejects(verifierFor(a).verify(b.sign()), (e: unknown) =>
      isJwksBridgeError(e, 'ERR_KEY_NOT_FOUND'),
    )
  })

  it('publishes public keys only', () => {
    for (const alg of TEST_ISSUER_ALGORITHMS) {
      const [jwk] = createTestIssuer({ alg }).jwks.keys
      assert.ok(jwk)
      assert.equal(jwk.alg, alg)
      assert.equal(jwk.use, 'sig')
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(privateMember in jwk, false)
    }
  })
})

describe('createTestIssuer: SuperTokens-shaped tokens', () => {
  const idp = createTestIssuer({ profile: 'supertokens', nowMs: clock })

  it('header { alg RS256, typ JWT, kid d-<ms>, version 5 } and the V5 claims', async () => {
    const result = await verifierFor(idp, supertokensProfile().verifierOptions).verify(
      idp.sign({ sub: 'st-user' }),
    )
    assert.deepEqual(Object.keys(result.header).sort(), ['alg', 'kid', 'typ', 'version'])
    assert.equal(result.header.alg, 'RS256')
    assert.equal(result.header.typ, 'JWT')
    assert.equal(result.header.version, '5')
    assert.equal(result.header.kid, `d-${NOW_MS}`)
    const p = result.payload
    assert.equal(p.iss, 'https://api.test-issuer.invalid/auth')
    assert.equal(p.sub, 'st-user')
    assert.equal(p.rsub, 'st-user')
    assert.equal(p.tId, 'public')
    assert.match(p.sessionHandle as string, /^[0-9a-f-]{36}$/)
    assert.ok(/^[0-9a-f]{64}$/.test(p.refreshTokenHash1 as string), 'refreshTokenHash1 is a SHA-256 hex')
    assert.equal(p.parentRefreshTokenHash1, null)
    assert.equal(p.antiCsrfToken, null)
    assert.equal(p.aud, undefined)
    assert.equal(p.jti, undefined)
    assert.equal(p.exp, (p.iat as number) + 3600)
    assert.deepEqual(supertokensProfile().check(result), {
      subject: 'st-user',
      providerSessionId: p.sessionHandle,
    })
  })

  it('can mint the tokens the profile must refuse (stt 1, a createJWT token without sessionHandle)', async () => {
    const verifier = verifierFor(idp, supertokensProfile().verifierOptions)
    const profile = supertokensProfile()
    const refusedFor = async (token: string, claim: string) => {
      const result: VerifiedJwt = await verifier.verify(token)
      assert.throws(
        () => profile.check(result),
        (e: unknown) => isJwksBridgeError(e, 'ERR_PROFILE_MISMATCH') && e.claim === claim,
      )
    }
    await refusedFor(idp.sign({ stt: 1 }), 'stt')
    await refusedFor(
      idp.sign(
        { sessionHandle: undefined, refreshTokenHash1: undefined, rsub: undefined, tId: undefined },
        { version: undefined },
      ),
      'sessionHandle',
    )
  })

  it('refuses options SuperTokens cannot have', () => {
    for (const options of [
      { profile: 'supertokens', alg: 'ES256' },
      { profile: 'supertokens', audience: 'x' },
      { alg: 'HS256' },
      { profile: 'auth0' },
      { issuer: '' },
      { lifetimeSeconds: 0 },
      { audiance: 'typo' },
    ]) {
      assert.throws(
        () => createTestIssuer(options as never),
        (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
      )
    }
  })
})

describe('createTestIssuer: options', () => {
  it('issue #13: a misspelt option is refused, naming the nearest known one', () => {
    refusesUnknownOption(
      () => createTestIssuer({ lifetimeSecond: 60 } as never),
      'createTestIssuer',
      'lifetimeSecond',
      'lifetimeSeconds',
    )
    const idp = createTestIssuer({ alg: 'ES256' })
    refusesUnknownOption(
      () => idp.signLogoutToken({ sid: 's1', claim: {} } as never),
      'signLogoutToken',
      'claim',
      'claims',
    )
  })
})
