import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { genericProfile, oidcIdTokenProfile } from '../../src/bridge/profiles.ts'
import { createVerifier, isJwksBridgeError } from '../../src/index.ts'
import { createTestIssuer } from '../../src/testing/index.ts'

const NOW_MS = 1_800_000_000_000
const clock = () => NOW_MS
const EVENT = 'http://schemas.openid.net/event/backchannel-logout'

describe('signLogoutToken: OpenID Connect Back-Channel Logout tokens', () => {
  const idp = createTestIssuer({ profile: 'oidc-id-token', audience: 'web-app', nowMs: clock })
  // How a relying party verifies them (Back-Channel Logout 1.0 §2.6): typ, iat, jti, events, aud.
  const logoutVerifier = createVerifier({
    ...idp.verifierOptions(),
    typ: 'logout+jwt',
    requiredClaims: ['iat', 'jti', 'events', 'aud'],
    nowMs: clock,
  })

  it('typ logout+jwt, the events claim, jti, iat, a short exp, sid and sub, no nonce', async () => {
    const { header, payload } = await logoutVerifier.verify(
      idp.signLogoutToken({ sid: 'sid-1', sub: 'user-1' }),
    )
    assert.equal(header.typ, 'logout+jwt')
    assert.deepEqual(payload.events, { [EVENT]: {} })
    assert.equal(payload.sid, 'sid-1')
    assert.equal(payload.sub, 'user-1')
    assert.equal(payload.aud, 'web-app')
    assert.equal(payload.iss, idp.issuer)
    assert.equal(payload.iat, NOW_MS / 1000)
    assert.equal(payload.exp, NOW_MS / 1000 + 120)
    assert.equal(typeof payload.jti, 'string')
    assert.equal('nonce' in payload, false)
  })

  it('sid alone or sub alone; at least one is required; jti differs per token', async () => {
    const bySid = await logoutVerifier.verify(idp.signLogoutToken({ sid: 'sid-2' }))
    assert.equal('sub' in bySid.payload, false)
    const bySub = await logoutVerifier.verify(idp.signLogoutToken({ sub: 'user-2' }))
    assert.equal('sid' in bySub.payload, false)
    assert.notEqual(bySid.payload.jti, bySub.payload.jti)
    assert.throws(
      () => idp.signLogoutToken({}),
      (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
    )
  })

  it('is never accepted as a sign-in token by the profiles (E3)', async () => {
    const signInVerifier = createVerifier({ ...idp.verifierOptions(), nowMs: clock })
    const result = await signInVerifier.verify(idp.signLogoutToken({ sid: 'sid-3', sub: 'user-3' }))
    for (const profile of [genericProfile(), oidcIdTokenProfile({ audience: 'web-app' })]) {
      assert.throws(
        () => profile.check(result),
        (e: unknown) => isJwksBridgeError(e, 'ERR_PROFILE_MISMATCH') && e.claim === 'typ',
      )
    }
  })

  it('an ID token is not a logout token (typ JWT is refused by the logout verifier)', async () => {
    await assert.rejects(logoutVerifier.verify(idp.sign()), (e: unknown) =>
      isJwksBridgeError(e, 'ERR_TYP_MISMATCH'),
    )
  })

  it('aud defaults to test-client for an issuer without audience; overrides apply', async () => {
    const plain = createTestIssuer({ nowMs: clock })
    const verifier = createVerifier({ ...plain.verifierOptions(), typ: 'logout+jwt', nowMs: clock })
    assert.equal((await verifier.verify(plain.signLogoutToken({ sub: 'u' }))).payload.aud, 'test-client')
    const custom = plain.signLogoutToken({ sub: 'u', aud: 'rp-1', claims: { exp: undefined, extra: 1 } })
    const { payload } = await createVerifier({
      ...plain.verifierOptions(),
      typ: 'logout+jwt',
      requireExp: false,
      nowMs: clock,
    }).verify(custom)
    assert.equal(payload.aud, 'rp-1')
    assert.equal('exp' in payload, false)
    assert.equal(payload.extra, 1)
  })
})
