import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { supertokensIssuer, supertokensProfile, tokenProfile } from '../../src/bridge/profiles.ts'
import { isJwksBridgeError } from '../../src/index.ts'
import { makeKey } from '../helpers/tokens.ts'
import { mint, refused, type Setup, signIn } from './helpers.ts'

// The SuperTokens V5 access token of identity-providers.md §1.2-1.3 (core AccessTokenInfo, node SDK iss).
const ISSUER = 'https://api.example.com/auth'
const IAT = 1_795_932_848
const KEY = makeKey('RS256', 'd-1795932848013')
const HEADER = { alg: 'RS256', typ: 'JWT', kid: 'd-1795932848013', version: '5' }
const PAYLOAD = {
  iat: IAT,
  exp: IAT + 3600,
  sub: 'fa7a0841-b533-4478-9553-0fde890c3483',
  tId: 'public',
  rsub: 'fa7a0841-b533-4478-9553-0fde890c3483',
  sessionHandle: '43d9ad0e-6e1a-4d0a-a1c3-1b6fbc2f9c0e',
  refreshTokenHash1: 'cdffd5dd8ca8126c0482ba994814b9014cc9e973435d399f1cf1f69479e6b907',
  parentRefreshTokenHash1: null,
  antiCsrfToken: null,
  iss: ISSUER,
  'st-ev': { v: true, t: IAT * 1000 },
  'st-role': { v: ['admin'], t: IAT * 1000 },
  'st-perm': { v: ['read', 'write'], t: IAT * 1000 },
}
const SETUP: Setup = { issuer: ISSUER, key: KEY, nowSeconds: IAT + 30 }
const profile = supertokensProfile()

const token = (payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mint(KEY, { ...HEADER, ...header }, { ...PAYLOAD, ...payload })

describe('supertokens profile: a session access token signs in', () => {
  it('accepts the V5 token: subject is sub, provider session id is sessionHandle', async () => {
    const result = await signIn(profile, token(), SETUP)
    assert.deepEqual(result, { subject: PAYLOAD.sub, providerSessionId: PAYLOAD.sessionHandle })
  })

  it('uses sub (the primary user after account linking), not rsub (the recipe user)', async () => {
    const result = await signIn(profile, token({ rsub: 'recipe-user-2' }), SETUP)
    assert.equal(result.subject, PAYLOAD.sub)
  })

  it('accepts stt 0 and a header without version (read as version 3+ by the SDK)', async () => {
    assert.equal((await signIn(profile, token({ stt: 0 }), SETUP)).subject, PAYLOAD.sub)
    assert.equal((await signIn(profile, token({}, { version: undefined }), SETUP)).subject, PAYLOAD.sub)
  })

  it('accepts a static key (kid s-<uuid>)', async () => {
    const staticKey = makeKey('RS256', 's-2de612a5-a5ba-413e-9216-4c43e2e78c86')
    const t = mint(staticKey, { ...HEADER, kid: staticKey.kid }, PAYLOAD)
    assert.equal(
      (await signIn(profile, t, { ...SETUP, key: staticKey })).providerSessionId,
      PAYLOAD.sessionHandle,
    )
  })

  it('exposes its verifier options: RS256 only, typ JWT, exp required', () => {
    assert.deepEqual(profile.verifierOptions?.algorithms, ['RS256'])
    assert.equal(profile.verifierOptions?.typ, 'JWT')
    assert.equal(profile.verifierOptions?.requireExp, true)
    assert.equal(profile.name, 'supertokens')
  })
})

describe('supertokens profile: token confusion (same keys, same iss) is refused', () => {
  it('refuses an OAuth2 provider access token (stt 1)', async () => {
    // Shape of a SuperTokens OAuth2 access token: stt 1, client_id, scp, no session claims.
    const oauth = token({
      stt: 1,
      client_id: 'stcl_5b1f7bd4-37b9-4b33-8a70-1a1cbe1c5a2a',
      scp: ['offline_access'],
      sessionHandle: '43d9ad0e-6e1a-4d0a-a1c3-1b6fbc2f9c0e',
      jti: '7f7a2ad6-83a2-4c40-bb0b-20b1a2d0c5c5',
    })
    await refused(signIn(profile, oauth, SETUP), 'ERR_PROFILE_MISMATCH', 'stt')
  })

  it('refuses an OAuth2 ID token (stt 2) and a string "0"', async () => {
    await refused(signIn(profile, token({ stt: 2, aud: 'stcl_x' }), SETUP), 'ERR_PROFILE_MISMATCH', 'stt')
    await refused(signIn(profile, token({ stt: '0' }), SETUP), 'ERR_PROFILE_MISMATCH', 'stt')
  })

  it('refuses a JWT.createJWT() token: same key set and iss, but no sessionHandle', async () => {
    const createJwt = mint(
      KEY,
      { alg: 'RS256', typ: 'JWT', kid: KEY.kid },
      { sub: PAYLOAD.sub, iss: ISSUER, iat: IAT, exp: IAT + 3630, role: 'service' },
    )
    await refused(signIn(profile, createJwt, SETUP), 'ERR_PROFILE_MISMATCH', 'sessionHandle')
  })

  for (const claim of ['sessionHandle', 'refreshTokenHash1', 'rsub', 'tId', 'sub'] as const) {
    it(`refuses a token whose ${claim} is missing, empty or not a string`, async () => {
      // A missing sub can be caught by the verifier's own checks first; either way nothing signs in.
      await refused(signIn(profile, token({ [claim]: undefined }), SETUP), 'ERR_PROFILE_MISMATCH', claim)
      await refused(signIn(profile, token({ [claim]: '' }), SETUP), 'ERR_PROFILE_MISMATCH', claim)
      const wrongType = signIn(profile, token({ [claim]: 42 }), SETUP)
      await assert.rejects(wrongType, (error: unknown) => {
        assert.ok(isJwksBridgeError(error))
        assert.ok(['ERR_PROFILE_MISMATCH', 'ERR_CLAIMS_INVALID'].includes(error.code))
        assert.equal(error.claim, claim)
        return true
      })
    })
  }

  it('RFC 8725 §3.11 / OIDC Back-Channel Logout 1.0 §4.1: a token carrying "events" (typ JWT) signs nobody in', async () => {
    // A logout token shaped to pass every other rule of the profile: only its events claim tells.
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} }
    await refused(signIn(profile, token({ events }), SETUP), 'ERR_PROFILE_MISMATCH', 'events')
    await refused(
      signIn(profile, token({ events }), { ...SETUP, withoutProfileOptions: true }),
      'ERR_PROFILE_MISMATCH',
      'events',
    )
  })

  it('refuses the legacy V2 payload (userId, no sub) and a header version below 3', async () => {
    const legacy = mint(
      KEY,
      { alg: 'RS256', typ: 'JWT', kid: KEY.kid, version: '2' },
      {
        userId: PAYLOAD.sub,
        userData: {},
        sessionHandle: PAYLOAD.sessionHandle,
        refreshTokenHash1: PAYLOAD.refreshTokenHash1,
        iss: ISSUER,
        iat: IAT,
        exp: IAT + 3600,
      },
    )
    await refused(signIn(profile, legacy, SETUP), 'ERR_PROFILE_MISMATCH', 'version')
    await refused(signIn(profile, token({}, { version: 5 }), SETUP), 'ERR_PROFILE_MISMATCH', 'version')
  })
})

describe('supertokens profile: header rules', () => {
  it('refuses a token without typ: the verifier (profile options) and check() alone', async () => {
    const t = token({}, { typ: undefined })
    await refused(signIn(profile, t, SETUP), 'ERR_TYP_MISMATCH')
    await refused(
      signIn(profile, t, { ...SETUP, withoutProfileOptions: true }),
      'ERR_PROFILE_MISMATCH',
      'typ',
    )
  })

  it('requires typ "JWT" exactly, as the SDK does (the verifier alone compares case-insensitively)', async () => {
    await refused(signIn(profile, token({}, { typ: 'jwt' }), SETUP), 'ERR_PROFILE_MISMATCH', 'typ')
  })

  it('refuses any algorithm but RS256, even when the verifier was configured to allow it', async () => {
    const es = makeKey('ES256', KEY.kid)
    const t = mint(es, { ...HEADER, alg: 'ES256' }, PAYLOAD)
    const setup = { ...SETUP, key: es }
    await refused(signIn(profile, t, setup), 'ERR_ALG_NOT_ALLOWED')
    await refused(
      signIn(profile, t, { ...setup, verifier: { algorithms: ['ES256', 'RS256'] } }),
      'ERR_PROFILE_MISMATCH',
      'alg',
    )
  })

  it('refuses a token without kid', async () => {
    await refused(signIn(profile, token({}, { kid: undefined }), SETUP), 'ERR_PROFILE_MISMATCH', 'kid')
  })

  it('refuses a token from another issuer (the verifier compares iss exactly)', async () => {
    await refused(signIn(profile, token({ iss: 'https://api.example.com' }), SETUP), 'ERR_ISSUER_MISMATCH')
  })
})

describe('supertokens profile: options', () => {
  it('tenantIds limits the tenants', async () => {
    const only = supertokensProfile({ tenantIds: ['customer-a'] })
    await refused(signIn(only, token(), SETUP), 'ERR_PROFILE_MISMATCH', 'tId')
    assert.equal((await signIn(only, token({ tId: 'customer-a' }), SETUP)).subject, PAYLOAD.sub)
  })

  it('requireEmailVerified needs st-ev.v === true', async () => {
    const verified = supertokensProfile({ requireEmailVerified: true })
    assert.equal((await signIn(verified, token(), SETUP)).subject, PAYLOAD.sub)
    await refused(
      signIn(verified, token({ 'st-ev': { v: false, t: 1 } }), SETUP),
      'ERR_PROFILE_MISMATCH',
      'st-ev',
    )
    await refused(signIn(verified, token({ 'st-ev': undefined }), SETUP), 'ERR_PROFILE_MISMATCH', 'st-ev')
  })

  it('refuses bad options at creation', () => {
    const bad = [{ tenantIds: [] }, { requireEmailVerified: 'yes' }, { tenantid: ['x'] }, 'public']
    for (const options of bad) {
      assert.throws(
        () => tokenProfile('supertokens', options as never),
        (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
      )
    }
  })
})

describe('supertokensIssuer', () => {
  it('issuer = apiDomain + apiBasePath (default /auth); key set at issuer + /jwt/jwks.json', () => {
    assert.deepEqual(supertokensIssuer({ apiDomain: 'https://api.example.com' }), {
      issuer: 'https://api.example.com/auth',
      jwksUri: 'https://api.example.com/auth/jwt/jwks.json',
    })
  })

  it('normalizes the base path like SuperTokens (leading slash, no trailing slash, "/" = none)', () => {
    const cases: [string, string][] = [
      ['/api/auth/', 'https://api.example.com/api/auth'],
      ['custom', 'https://api.example.com/custom'],
      ['/', 'https://api.example.com'],
    ]
    for (const [apiBasePath, issuer] of cases) {
      assert.equal(supertokensIssuer({ apiDomain: 'https://api.example.com/', apiBasePath }).issuer, issuer)
    }
    assert.equal(
      supertokensIssuer({ apiDomain: 'http://localhost:3001' }).jwksUri,
      'http://localhost:3001/auth/jwt/jwks.json',
    )
  })

  it('refuses an apiDomain that is not an http(s) origin', () => {
    for (const apiDomain of [
      'api.example.com',
      'ftp://api.example.com',
      'https://api.example.com/auth',
      'https://u:p@api.example.com',
    ]) {
      assert.throws(
        () => supertokensIssuer({ apiDomain }),
        (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
      )
    }
  })
})
