import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { oidcIdTokenProfile, tokenProfile } from '../../src/bridge/profiles.ts'
import { isJwksBridgeError } from '../../src/index.ts'
import { makeKey } from '../helpers/tokens.ts'
import { mint, refused, type Setup, signIn } from './helpers.ts'

const NOW = 1_800_000_000
const CLIENT_ID = 'dBzZ2qJ1xT0kYbH5oZs8aN3uQ7cW9eRf'

// An Auth0-like ID token (iss with its trailing slash, aud = client id, sid, nonce from spa-js).
const AUTH0 = {
  issuer: 'https://example-tenant.eu.auth0.com/',
  key: makeKey('RS256', 'auth0-2OjEj3xMKl'),
  header: { alg: 'RS256', typ: 'JWT', kid: 'auth0-2OjEj3xMKl' },
  payload: {
    nickname: 'ada',
    name: 'ada@example.com',
    email: 'ada@example.com',
    email_verified: true,
    iss: 'https://example-tenant.eu.auth0.com/',
    aud: CLIENT_ID,
    sub: 'auth0|65f1c0de2a9b4c0012345678',
    iat: NOW - 5,
    exp: NOW + 36_000,
    sid: 'Vd3qz8yk1Q2m7KcW9tPz0a4LbX5nR6sE',
    nonce: 'bE1xZmZ3VnNYUkJ4T0x2',
  },
}
// A Keycloak-like ID token (azp = client id, payload typ "ID", sid, session_state).
const KEYCLOAK = {
  issuer: 'https://sso.example.com/realms/acme',
  key: makeKey('RS256', 'kc-R9aVf0hQ3tZx'),
  header: { alg: 'RS256', typ: 'JWT', kid: 'kc-R9aVf0hQ3tZx' },
  payload: {
    exp: NOW + 300,
    iat: NOW - 1,
    auth_time: NOW - 2,
    jti: '0b8f1a5c-8d8e-4b8e-9d3d-31f0c9b2a7e1',
    iss: 'https://sso.example.com/realms/acme',
    aud: 'web-app',
    sub: 'f3c1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b',
    typ: 'ID',
    azp: 'web-app',
    sid: '6a0c3f0e-2f7c-4d8a-9f55-2a3b4c5d6e7f',
    session_state: '6a0c3f0e-2f7c-4d8a-9f55-2a3b4c5d6e7f',
    acr: '1',
    email_verified: false,
    preferred_username: 'ada',
  },
}

const auth0 = oidcIdTokenProfile({ audience: CLIENT_ID })
const keycloak = tokenProfile('oidc-id-token', { audience: 'web-app', claimValues: { typ: 'ID' } })
const auth0Setup: Setup = { issuer: AUTH0.issuer, key: AUTH0.key, nowSeconds: NOW }
const keycloakSetup: Setup = { issuer: KEYCLOAK.issuer, key: KEYCLOAK.key, nowSeconds: NOW }
const auth0Token = (payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mint(AUTH0.key, { ...AUTH0.header, ...header }, { ...AUTH0.payload, ...payload })
const keycloakToken = (payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mint(KEYCLOAK.key, { ...KEYCLOAK.header, ...header }, { ...KEYCLOAK.payload, ...payload })

describe('oidc-id-token profile: creation', () => {
  it('refuses to exist without the audience (the client id)', () => {
    for (const make of [
      () => tokenProfile('oidc-id-token', undefined as never),
      () => oidcIdTokenProfile({} as never),
      () => oidcIdTokenProfile({ audience: '' }),
      () => oidcIdTokenProfile({ audience: ['a', 'b'] as never }),
      () => oidcIdTokenProfile({ audience: 'x', nonce: 7 as never }),
      () => oidcIdTokenProfile({ audience: 'x', azp: 'x' } as never),
    ]) {
      assert.throws(make, (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'))
    }
  })

  it('hands the audience to the verifier', () => {
    assert.equal(auth0.verifierOptions?.audience, CLIENT_ID)
    assert.equal(auth0.name, 'oidc-id-token')
  })
})

describe('oidc-id-token profile: provider ID tokens sign in', () => {
  it('Auth0-like: subject = sub, provider session id = sid', async () => {
    assert.deepEqual(await signIn(auth0, auth0Token(), auth0Setup), {
      subject: AUTH0.payload.sub,
      providerSessionId: AUTH0.payload.sid,
    })
  })

  it('Keycloak-like: azp equal to the client id, payload typ "ID" required by claimValues', async () => {
    assert.deepEqual(await signIn(keycloak, keycloakToken(), keycloakSetup), {
      subject: KEYCLOAK.payload.sub,
      providerSessionId: KEYCLOAK.payload.sid,
    })
    // A Keycloak access token for the same client (payload typ "Bearer", aud "account") is refused.
    const access = keycloakToken({ typ: 'Bearer', aud: ['web-app', 'account'] })
    await refused(signIn(keycloak, access, keycloakSetup), 'ERR_PROFILE_MISMATCH', 'typ')
  })

  it('no sid: provider session id is null', async () => {
    assert.equal((await signIn(auth0, auth0Token({ sid: undefined }), auth0Setup)).providerSessionId, null)
  })
})

describe('oidc-id-token profile: audience and azp (OIDC Core §3.1.3.7 items 3-5)', () => {
  it('refuses a token for another client, in the verifier and in check() alone', async () => {
    const t = auth0Token({ aud: 'another-client' })
    await refused(signIn(auth0, t, auth0Setup), 'ERR_AUDIENCE_MISMATCH')
    await refused(
      signIn(auth0, t, { ...auth0Setup, withoutProfileOptions: true }),
      'ERR_PROFILE_MISMATCH',
      'aud',
    )
  })

  it('several audiences: azp must be present and be the client id', async () => {
    const aud = ['web-app', 'https://api.example.com']
    assert.equal(
      (await signIn(keycloak, keycloakToken({ aud }), keycloakSetup)).subject,
      KEYCLOAK.payload.sub,
    )
    await refused(
      signIn(keycloak, keycloakToken({ aud, azp: undefined }), keycloakSetup),
      'ERR_PROFILE_MISMATCH',
      'azp',
    )
    await refused(
      signIn(keycloak, keycloakToken({ aud, azp: 'mobile-app' }), keycloakSetup),
      'ERR_PROFILE_MISMATCH',
      'azp',
    )
  })

  it('one audience: azp may be absent, but when present it must be the client id', async () => {
    assert.equal(
      (await signIn(keycloak, keycloakToken({ azp: undefined }), keycloakSetup)).subject,
      KEYCLOAK.payload.sub,
    )
    await refused(
      signIn(keycloak, keycloakToken({ azp: 'mobile-app' }), keycloakSetup),
      'ERR_PROFILE_MISMATCH',
      'azp',
    )
    await refused(signIn(keycloak, keycloakToken({ azp: 7 }), keycloakSetup), 'ERR_PROFILE_MISMATCH', 'azp')
  })

  it('authorizedParties admits other presenters explicitly (cross-client ID tokens)', async () => {
    const crossClient = oidcIdTokenProfile({ audience: 'web-app', authorizedParties: ['android-app'] })
    const t = keycloakToken({ aud: ['web-app', 'android-app'], azp: 'android-app' })
    assert.equal((await signIn(crossClient, t, keycloakSetup)).subject, KEYCLOAK.payload.sub)
  })
})

describe('oidc-id-token profile: required claims and nonce', () => {
  it('requires iat and sub (§2), sub at most 255 characters', async () => {
    await refused(signIn(auth0, auth0Token({ iat: undefined }), auth0Setup), 'ERR_PROFILE_MISMATCH', 'iat')
    await refused(signIn(auth0, auth0Token({ sub: undefined }), auth0Setup), 'ERR_PROFILE_MISMATCH', 'sub')
    await refused(
      signIn(auth0, auth0Token({ sub: 'x'.repeat(256) }), auth0Setup),
      'ERR_PROFILE_MISMATCH',
      'sub',
    )
    assert.equal((await signIn(auth0, auth0Token({ sub: 'x'.repeat(255) }), auth0Setup)).subject.length, 255)
  })

  it('nonce, when configured: present and equal (string or predicate)', async () => {
    const withNonce = oidcIdTokenProfile({ audience: CLIENT_ID, nonce: AUTH0.payload.nonce })
    assert.equal((await signIn(withNonce, auth0Token(), auth0Setup)).subject, AUTH0.payload.sub)
    await refused(
      signIn(withNonce, auth0Token({ nonce: 'other' }), auth0Setup),
      'ERR_PROFILE_MISMATCH',
      'nonce',
    )
    await refused(
      signIn(withNonce, auth0Token({ nonce: undefined }), auth0Setup),
      'ERR_PROFILE_MISMATCH',
      'nonce',
    )
    const seen = new Set([AUTH0.payload.nonce])
    const predicate = oidcIdTokenProfile({ audience: CLIENT_ID, nonce: (n) => seen.delete(n) })
    assert.equal((await signIn(predicate, auth0Token(), auth0Setup)).subject, AUTH0.payload.sub)
    // The predicate consumed the nonce: the same token is refused the second time.
    await refused(signIn(predicate, auth0Token(), auth0Setup), 'ERR_PROFILE_MISMATCH', 'nonce')
  })

  it('nonce not configured: not checked', async () => {
    assert.equal(
      (await signIn(auth0, auth0Token({ nonce: undefined }), auth0Setup)).subject,
      AUTH0.payload.sub,
    )
  })
})

describe('oidc-id-token profile: other tokens from the same issuer are refused (E3)', () => {
  const logoutPayload = {
    iss: AUTH0.issuer,
    aud: CLIENT_ID,
    iat: NOW - 1,
    exp: NOW + 120,
    jti: 'bWJq',
    sub: AUTH0.payload.sub,
    sid: AUTH0.payload.sid,
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  }

  it('refuses a back-channel logout token (typ logout+jwt)', async () => {
    const t = mint(AUTH0.key, { ...AUTH0.header, typ: 'logout+jwt' }, logoutPayload)
    await refused(signIn(auth0, t, auth0Setup), 'ERR_PROFILE_MISMATCH', 'typ')
  })

  it('refuses a logout token without the explicit typ (the events claim gives it away)', async () => {
    const t = mint(AUTH0.key, AUTH0.header, logoutPayload)
    await refused(signIn(auth0, t, auth0Setup), 'ERR_PROFILE_MISMATCH', 'events')
  })

  it("RFC 9449 §7.2: refuses a token bound to a key (cnf), even with an ID token's typ", async () => {
    const bound = auth0Token({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } })
    await refused(signIn(auth0, bound, auth0Setup), 'ERR_PROFILE_MISMATCH', 'cnf')
  })

  it('refuses an RFC 9068 access token (typ at+jwt, application/ prefix, any case)', async () => {
    for (const typ of ['at+jwt', 'application/AT+JWT']) {
      await refused(signIn(auth0, auth0Token({}, { typ }), auth0Setup), 'ERR_PROFILE_MISMATCH', 'typ')
    }
  })
})
