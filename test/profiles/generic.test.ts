import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { genericProfile, tokenProfile } from '../../src/bridge/profiles.ts'
import { isJwksBridgeError, type VerifiedJwt } from '../../src/index.ts'
import { makeKey } from '../helpers/tokens.ts'
import { mint, refused, type Setup, signIn } from './helpers.ts'

const NOW = 1_800_000_000

// A Clerk-like session token: iss = Frontend API URL, azp = the page's origin, sid, 60 s lifetime.
const CLERK = {
  issuer: 'https://clerk.example.com',
  key: makeKey('RS256', 'ins_2abcDEFghiJKLmnoPQRstuVWXyz'),
  header: { alg: 'RS256', typ: 'JWT', kid: 'ins_2abcDEFghiJKLmnoPQRstuVWXyz' },
  payload: {
    azp: 'https://app.example.com',
    exp: NOW + 50,
    fva: [3, -1],
    iat: NOW - 10,
    iss: 'https://clerk.example.com',
    nbf: NOW - 20,
    sid: 'sess_2bYvQ1n9mZx4kL7pT0aW3rE5uI8',
    sub: 'user_2bYvPz8m1Nq4jK6hS9dV2cX7',
    v: 2,
  },
}
// A Supabase-like access token (asymmetric key): aud "authenticated", session_id, role, aal.
const SUPABASE = {
  issuer: 'https://abcdefghijklmnop.supabase.co/auth/v1',
  key: makeKey('ES256', 'b7e8c0a1-5f3d-4a2e-9c6b-1d0e2f3a4b5c'),
  header: { alg: 'ES256', typ: 'JWT', kid: 'b7e8c0a1-5f3d-4a2e-9c6b-1d0e2f3a4b5c' },
  payload: {
    iss: 'https://abcdefghijklmnop.supabase.co/auth/v1',
    sub: '0e7f1c9a-3b2d-4e5f-8a6b-7c8d9e0f1a2b',
    aud: 'authenticated',
    exp: NOW + 3600,
    iat: NOW - 5,
    email: 'ada@example.com',
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: NOW - 5 }],
    session_id: '5d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
    is_anonymous: false,
  },
}

const clerkSetup: Setup = { issuer: CLERK.issuer, key: CLERK.key, nowSeconds: NOW }
const clerkToken = (payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mint(CLERK.key, { ...CLERK.header, ...header }, { ...CLERK.payload, ...payload })

describe('generic profile', () => {
  it('Clerk-like: subject = sub, provider session id = sid, azp checked against authorizedParties', async () => {
    const clerk = genericProfile({ authorizedParties: ['https://app.example.com'] })
    assert.deepEqual(await signIn(clerk, clerkToken(), clerkSetup), {
      subject: CLERK.payload.sub,
      providerSessionId: CLERK.payload.sid,
    })
    await refused(
      signIn(clerk, clerkToken({ azp: 'https://evil.example.com' }), clerkSetup),
      'ERR_PROFILE_MISMATCH',
      'azp',
    )
    await refused(signIn(clerk, clerkToken({ azp: undefined }), clerkSetup), 'ERR_PROFILE_MISMATCH', 'azp')
  })

  it('without authorizedParties, azp is not looked at', async () => {
    const plain = tokenProfile('generic')
    assert.equal(
      (await signIn(plain, clerkToken({ azp: 'https://other.example.com' }), clerkSetup)).subject,
      CLERK.payload.sub,
    )
  })

  it('Supabase-like: audience "authenticated" and session_id as the provider session id', async () => {
    const supabase = genericProfile({ audience: 'authenticated', sessionIdClaim: 'session_id' })
    const setup: Setup = {
      issuer: SUPABASE.issuer,
      key: SUPABASE.key,
      nowSeconds: NOW,
      verifier: { algorithms: ['ES256', 'RS256'] },
    }
    const t = mint(SUPABASE.key, SUPABASE.header, SUPABASE.payload)
    assert.deepEqual(await signIn(supabase, t, setup), {
      subject: SUPABASE.payload.sub,
      providerSessionId: SUPABASE.payload.session_id,
    })
    const anon = mint(SUPABASE.key, SUPABASE.header, { ...SUPABASE.payload, aud: 'anon' })
    await refused(signIn(supabase, anon, setup), 'ERR_AUDIENCE_MISMATCH')
    await refused(
      signIn(supabase, anon, { ...setup, withoutProfileOptions: true }),
      'ERR_PROFILE_MISMATCH',
      'aud',
    )
  })

  it('Cognito-like: claimValues { token_use: "id" } refuses the access token', async () => {
    const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI'
    const key = makeKey('RS256', 'cognito-kid-1')
    const base = {
      iss: issuer,
      sub: '7a1b2c3d-4e5f-4061-8a9b-0c1d2e3f4a5b',
      iat: NOW - 1,
      exp: NOW + 3600,
      auth_time: NOW - 1,
    }
    const cognito = genericProfile({ audience: '1example23456789', claimValues: { token_use: 'id' } })
    const setup: Setup = { issuer, key, nowSeconds: NOW }
    const id = mint(
      key,
      { alg: 'RS256', kid: key.kid },
      { ...base, aud: '1example23456789', token_use: 'id', 'cognito:username': 'ada' },
    )
    assert.equal((await signIn(cognito, id, setup)).subject, base.sub)
    // Cognito access tokens carry client_id and no aud: refused by the audience, and by token_use.
    const access = mint(
      key,
      { alg: 'RS256', kid: key.kid },
      { ...base, client_id: '1example23456789', token_use: 'access', scope: 'openid' },
    )
    await refused(signIn(cognito, access, setup), 'ERR_CLAIM_MISSING', 'aud')
    const accessWithAud = mint(
      key,
      { alg: 'RS256', kid: key.kid },
      { ...base, aud: '1example23456789', token_use: 'access' },
    )
    await refused(signIn(cognito, accessWithAud, setup), 'ERR_PROFILE_MISMATCH', 'token_use')
  })

  it('requires exp even when the verifier was told not to', async () => {
    const plain = genericProfile()
    const t = clerkToken({ exp: undefined })
    await refused(
      signIn(plain, t, { ...clerkSetup, verifier: { requireExp: false } }),
      'ERR_PROFILE_MISMATCH',
      'exp',
    )
    // With the profile's verifier options left in place the verifier already refuses it.
    await refused(signIn(plain, t, clerkSetup), 'ERR_CLAIM_MISSING', 'exp')
  })

  it('requires sub and iss (checked on the verified result itself)', async () => {
    const plain = genericProfile()
    await refused(signIn(plain, clerkToken({ sub: undefined }), clerkSetup), 'ERR_PROFILE_MISMATCH', 'sub')
    // The verifier always has an issuer, so a token without iss cannot reach a profile through it;
    // check() refuses such a result anyway.
    const verified: VerifiedJwt = { header: { alg: 'RS256' }, payload: { sub: 'a', exp: NOW + 1 } }
    assert.throws(
      () => plain.check(verified),
      (e: unknown) => isJwksBridgeError(e, 'ERR_PROFILE_MISMATCH') && e.claim === 'iss',
    )
  })

  it('a sid that is not a string gives a null provider session id; an over-long one is refused', async () => {
    const plain = genericProfile()
    assert.equal((await signIn(plain, clerkToken({ sid: 12 }), clerkSetup)).providerSessionId, null)
    assert.equal((await signIn(plain, clerkToken({ sid: undefined }), clerkSetup)).providerSessionId, null)
    await refused(
      signIn(plain, clerkToken({ sid: 's'.repeat(256) }), clerkSetup),
      'ERR_PROFILE_MISMATCH',
      'sid',
    )
  })

  it('refuses logout and security event tokens signed by the same keys (E3)', async () => {
    const plain = genericProfile()
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} }
    await refused(
      signIn(plain, clerkToken({ events }, { typ: 'logout+jwt' }), clerkSetup),
      'ERR_PROFILE_MISMATCH',
      'typ',
    )
    await refused(
      signIn(plain, clerkToken({}, { typ: 'application/secevent+jwt' }), clerkSetup),
      'ERR_PROFILE_MISMATCH',
      'typ',
    )
    await refused(signIn(plain, clerkToken({ events }), clerkSetup), 'ERR_PROFILE_MISMATCH', 'events')
  })

  it('accepts an RFC 9068 access token (generic is also for API access tokens)', async () => {
    const plain = genericProfile()
    assert.equal(
      (await signIn(plain, clerkToken({}, { typ: 'at+jwt' }), clerkSetup)).subject,
      CLERK.payload.sub,
    )
  })

  it('RFC 9449 §7.2: a DPoP-bound access token (cnf) cannot sign in without its proof', async () => {
    const plain = genericProfile()
    await refused(
      signIn(
        plain,
        clerkToken({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }, { typ: 'at+jwt' }),
        clerkSetup,
      ),
      'ERR_PROFILE_MISMATCH',
      'cnf',
    )
  })

  it('refuses bad options at creation', () => {
    const bad = [
      { audience: '' },
      { authorizedParties: [] },
      { sessionIdClaim: '' },
      { sessionIdClaim: 'sub' },
      { claimValues: { token_use: null } },
      { claimValues: { n: Number.NaN } },
      { audiences: 'x' },
    ]
    for (const options of bad) {
      assert.throws(
        () => genericProfile(options as never),
        (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
      )
    }
  })
})
