import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createResourceServer } from '../../src/resource-server/resource-server.ts'
import { signToken } from '../helpers/tokens.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import {
  API_URL,
  accessToken,
  clientKey,
  codeOf,
  dpopProof,
  ISSUER,
  issuerKey,
  makeApi,
  NOW_SECONDS,
  otherClientKey,
  RESOURCE,
  thumbprintOf,
} from './support.ts'

const get = (headers: Record<string, string | string[]>, url = API_URL) => ({ method: 'GET', url, headers })
const bearer = (token: string) => get({ authorization: `Bearer ${token}` })
const dpopRequest = (token: string, proof: string) => get({ authorization: `DPoP ${token}`, dpop: proof })

describe('createResourceServer: access tokens (RFC 9068)', () => {
  const api = makeApi()

  it('RFC 6750 §2.1 + RFC 9068: a Bearer access token for this resource passes, with its scopes', async () => {
    const auth = await api.authenticate(bearer(accessToken()))
    assert.equal(auth.scheme, 'Bearer')
    assert.equal(auth.payload.client_id, 'client-1')
    assert.deepEqual(auth.scopes, ['read', 'write'])
    assert.equal(auth.jkt, undefined)
  })

  it('RFC 9068 §4: typ must be at+jwt; a plain JWT (an ID token’s typ) is refused', async () => {
    assert.equal(await codeOf(api.authenticate(bearer(accessToken({}, { typ: 'JWT' })))), 'ERR_TYP_MISMATCH')
    assert.equal(
      await codeOf(api.authenticate(bearer(accessToken({}, { typ: undefined })))),
      'ERR_TYP_MISMATCH',
    )
  })

  it('RFC 9068 §4 / RFC 8707: a token for another resource is refused (aud)', async () => {
    const other = accessToken({ aud: 'https://other-api.example.com' })
    assert.equal(await codeOf(api.authenticate(bearer(other))), 'ERR_AUDIENCE_MISMATCH')
    const noAud = accessToken({ aud: undefined })
    assert.equal(await codeOf(api.authenticate(bearer(noAud))), 'ERR_CLAIM_MISSING')
  })

  it('RFC 9068 §2.2: client_id, sub, iat and jti are required', async () => {
    for (const claim of ['client_id', 'sub', 'iat', 'jti']) {
      const error = await api.authenticate(bearer(accessToken({ [claim]: undefined }))).catch((e) => e)
      assert.equal(error.code, 'ERR_CLAIM_MISSING', claim)
      assert.equal(error.claim, claim)
    }
  })

  it('RFC 9068 §4: an issuer that is not configured is refused', async () => {
    assert.equal(
      await codeOf(api.authenticate(bearer(accessToken({ iss: 'https://evil.example.com' })))),
      'ERR_ISSUER_MISMATCH',
    )
  })

  it('RFC 9068 §4 / OIDC Core §2: an ID token presented as an access token is refused, whatever the profile', async () => {
    const idToken = signToken(issuerKey(), {
      aud: RESOURCE,
      nonce: 'n',
      at_hash: 'x',
      client_id: 'c',
      jti: 'j',
    })
    assert.equal(await codeOf(api.authenticate(bearer(idToken))), 'ERR_TYP_MISMATCH')
    const generic = makeApi({ accessTokenProfile: 'generic' })
    assert.equal(await codeOf(generic.authenticate(bearer(idToken))), 'ERR_ACCESS_TOKEN_INVALID')
    // Keycloak marks ID tokens in the claims set.
    const keycloakId = signToken(issuerKey(), { aud: RESOURCE, typ: 'ID' })
    assert.equal(await codeOf(generic.authenticate(bearer(keycloakId))), 'ERR_ACCESS_TOKEN_INVALID')
    const keycloakAccess = signToken(issuerKey(), { aud: RESOURCE, typ: 'Bearer', scope: 'read' })
    assert.deepEqual((await generic.authenticate(bearer(keycloakAccess))).scopes, ['read'])
    // RFC 8725 §2.8: a logout token is not an access token either.
    const logout = signToken(issuerKey(), { aud: RESOURCE }, { typ: 'logout+jwt' })
    assert.equal(await codeOf(generic.authenticate(bearer(logout))), 'ERR_ACCESS_TOKEN_INVALID')
  })

  it('RFC 8417 / RFC 8725 §2.8: a token with an "events" claim (a security event or logout token) is refused even when typed at+jwt', async () => {
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} }
    assert.equal(await codeOf(api.authenticate(bearer(accessToken({ events })))), 'ERR_ACCESS_TOKEN_INVALID')
    const generic = makeApi({ accessTokenProfile: 'generic' })
    const untyped = signToken(issuerKey(), { aud: RESOURCE, events })
    assert.equal(await codeOf(generic.authenticate(bearer(untyped))), 'ERR_ACCESS_TOKEN_INVALID')
  })

  it('cognito profile: token_use must be access; without aud, a scope of the resource server names the API', async () => {
    const cognito = makeApi({ accessTokenProfile: 'cognito' })
    const token = (claims: Record<string, unknown>) =>
      signToken(issuerKey(), { client_id: 'c', token_use: 'access', scope: `${RESOURCE}/read`, ...claims })
    assert.deepEqual((await cognito.authenticate(bearer(token({})))).scopes, [`${RESOURCE}/read`])
    assert.equal(
      await codeOf(cognito.authenticate(bearer(token({ token_use: 'id' })))),
      'ERR_ACCESS_TOKEN_INVALID',
    )
    assert.equal(
      await codeOf(cognito.authenticate(bearer(token({ scope: 'https://other/read' })))),
      'ERR_AUDIENCE_MISMATCH',
    )
    assert.equal(
      await codeOf(cognito.authenticate(bearer(token({ aud: 'someone-else' })))),
      'ERR_AUDIENCE_MISMATCH',
    )
  })

  it('RFC 6750 §3.1 insufficient_scope: a missing scope is 403 with the scope needed', async () => {
    const scoped = makeApi({ scopes: ['read'] })
    assert.equal((await scoped.authenticate(bearer(accessToken({ scope: 'read' })))).scheme, 'Bearer')
    const error = await scoped.authenticate(bearer(accessToken({ scope: 'write' }))).catch((e) => e)
    assert.equal(error.code, 'ERR_SCOPE_INSUFFICIENT')
    const answer = scoped.challenge(error)
    assert.equal(answer.status, 403)
    assert.match(
      answer.headers['www-authenticate'] ?? '',
      /^Bearer error="insufficient_scope", .*scope="read"/,
    )
    // Per route: the resource server's scopes plus the route's.
    const routeError = await scoped
      .authenticate(bearer(accessToken({ scope: 'read' })), { scopes: ['admin'] })
      .catch((e) => e)
    assert.equal(routeError.code, 'ERR_SCOPE_INSUFFICIENT')
    assert.match(scoped.challenge(routeError).headers['www-authenticate'] ?? '', /scope="read admin"/)
    // Okta writes scp as an array.
    assert.deepEqual(
      (await scoped.authenticate(bearer(accessToken({ scope: undefined, scp: ['read'] })))).scopes,
      ['read'],
    )
  })

  it('RFC 6750 §3.1: no credentials → 401 challenge without error, pointing at the metadata (RFC 9728 §5.1)', async () => {
    const error = await api.authenticate(get({})).catch((e) => e)
    assert.equal(error.code, 'ERR_TOKEN_MISSING')
    const answer = api.challenge(error)
    assert.equal(answer.status, 401)
    assert.equal(
      answer.headers['www-authenticate'],
      `Bearer resource_metadata="${RESOURCE}/.well-known/oauth-protected-resource", DPoP algs="${api.metadata().dpop_signing_alg_values_supported?.join(' ')}", resource_metadata="${RESOURCE}/.well-known/oauth-protected-resource"`,
    )
  })

  it('RFC 6750 §2: a token in the query is refused even with a good header', async () => {
    const request = { ...bearer(accessToken()), url: `${API_URL}?access_token=abc` }
    assert.equal(await codeOf(api.authenticate(request)), 'ERR_REQUEST_INVALID')
    const body = { ...bearer(accessToken()), body: { access_token: 'abc' } }
    assert.equal(await codeOf(api.authenticate(body)), 'ERR_REQUEST_INVALID')
  })

  it('RFC 9728 §2: metadata names the resource, its issuers, header bearer method, DPoP algorithms and scopes', () => {
    const scoped = makeApi({
      scopes: ['read'],
      dpop: 'required',
      dpopAlgorithms: ['ES256'],
      resourceName: 'Things',
    })
    assert.deepEqual(scoped.metadata(), {
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['read'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: true,
      resource_name: 'Things',
    })
    assert.equal(scoped.metadataPath, '/.well-known/oauth-protected-resource')
    assert.deepEqual(makeApi({ dpop: 'off' }).metadata().dpop_signing_alg_values_supported, undefined)
  })
})

describe('createResourceServer: DPoP (RFC 9449)', () => {
  it('RFC 9449 §7.1: a DPoP-bound token with a proof by its key passes, giving jkt', async () => {
    const api = makeApi()
    const key = clientKey()
    const token = accessToken({}, {}, key)
    const auth = await api.authenticate(dpopRequest(token, dpopProof(key, token)))
    assert.equal(auth.scheme, 'DPoP')
    assert.equal(auth.jkt, thumbprintOf(key))
  })

  it('RFC 9449 §7.2: a DPoP-bound token presented as Bearer is refused', async () => {
    const api = makeApi()
    const error = await api.authenticate(bearer(accessToken({}, {}, clientKey()))).catch((e) => e)
    assert.equal(error.code, 'ERR_TOKEN_BOUND')
    assert.match(api.challenge(error).headers['www-authenticate'] ?? '', /^Bearer error="invalid_token"/)
    // Even with a DPoP header beside it.
    const token = accessToken({}, {}, clientKey())
    const withProof = get({ authorization: `Bearer ${token}`, dpop: dpopProof(clientKey(), token) })
    assert.equal(await codeOf(api.authenticate(withProof)), 'ERR_TOKEN_BOUND')
  })

  it('RFC 9449 §6.1: a proof by another key than cnf.jkt is refused', async () => {
    const api = makeApi()
    const token = accessToken({}, {}, clientKey())
    const error = await api
      .authenticate(dpopRequest(token, dpopProof(otherClientKey(), token)))
      .catch((e) => e)
    assert.equal(error.code, 'ERR_DPOP_BINDING_MISMATCH')
    assert.match(api.challenge(error).headers['www-authenticate'] ?? '', /DPoP error="invalid_token"/)
  })

  it('RFC 9449 §7.1: an unbound token with the DPoP scheme is refused', async () => {
    const api = makeApi()
    const token = accessToken()
    assert.equal(
      await codeOf(api.authenticate(dpopRequest(token, dpopProof(clientKey(), token)))),
      'ERR_DPOP_BINDING_MISMATCH',
    )
  })

  it('RFC 9449 §7.1: the DPoP scheme without a DPoP header is invalid_dpop_proof', async () => {
    const api = makeApi()
    const error = await api
      .authenticate(get({ authorization: `DPoP ${accessToken({}, {}, clientKey())}` }))
      .catch((e) => e)
    assert.equal(error.code, 'ERR_DPOP_PROOF_INVALID')
    assert.match(api.challenge(error).headers['www-authenticate'] ?? '', /DPoP error="invalid_dpop_proof"/)
  })

  it('RFC 9449 §11.1: a proof is single use (replayed → invalid_dpop_proof)', async () => {
    const api = makeApi()
    const key = clientKey()
    const token = accessToken({}, {}, key)
    const proof = dpopProof(key, token)
    await api.authenticate(dpopRequest(token, proof))
    const error = await api.authenticate(dpopRequest(token, proof)).catch((e) => e)
    assert.equal(error.code, 'ERR_DPOP_PROOF_REPLAYED')
    assert.equal(api.challenge(error).status, 401)
  })

  it('RFC 9449 §4.3 check 8-9: a proof for another method or URL is refused at authenticate', async () => {
    const api = makeApi()
    const key = clientKey()
    const token = accessToken({}, {}, key)
    assert.equal(
      await codeOf(api.authenticate(dpopRequest(token, dpopProof(key, token, { method: 'DELETE' })))),
      'ERR_DPOP_PROOF_INVALID',
    )
    const elsewhere = dpopProof(key, token, { url: `${RESOURCE}/admin` })
    assert.equal(await codeOf(api.authenticate(dpopRequest(token, elsewhere))), 'ERR_DPOP_PROOF_INVALID')
  })

  it('dpop "required": Bearer is refused with a DPoP challenge; dpop "off": the DPoP scheme is refused', async () => {
    const required = makeApi({ dpop: 'required' })
    const error = await required.authenticate(bearer(accessToken())).catch((e) => e)
    assert.equal(error.code, 'ERR_DPOP_REQUIRED')
    assert.match(required.challenge(error).headers['www-authenticate'] ?? '', /^DPoP algs=/)
    const off = makeApi({ dpop: 'off' })
    const key = clientKey()
    const token = accessToken({}, {}, key)
    assert.equal(
      await codeOf(off.authenticate(dpopRequest(token, dpopProof(key, token)))),
      'ERR_AUTH_SCHEME_UNSUPPORTED',
    )
  })

  it('RFC 9449 §9: with server nonces, a proof without one gets use_dpop_nonce and the nonce; with it, it passes', async () => {
    let now = NOW_SECONDS * 1000
    const api = makeApi({ dpopNonce: { secret: 'a'.repeat(32), lifetimeSeconds: 300 }, nowMs: () => now })
    const key = clientKey()
    const token = accessToken({ exp: NOW_SECONDS + 3600 }, {}, key)
    const error = await api.authenticate(dpopRequest(token, dpopProof(key, token))).catch((e) => e)
    assert.equal(error.code, 'ERR_DPOP_NONCE_REQUIRED')
    const answer = api.challenge(error)
    assert.equal(answer.status, 401)
    const nonce = answer.headers['dpop-nonce'] as string
    assert.match(nonce, /^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/)
    assert.match(answer.headers['www-authenticate'] ?? '', /DPoP error="use_dpop_nonce"/)
    const auth = await api.authenticate(dpopRequest(token, dpopProof(key, token, { claims: { nonce } })))
    assert.equal(auth.dpopNonce, undefined)
    // A forged nonce, and one two lifetimes old, are refused; one lifetime old passes with a new nonce.
    const forged = `${nonce.split('.')[0]}.${'A'.repeat(22)}`
    const forgedProof = dpopProof(key, token, { claims: { nonce: forged } })
    assert.equal(await codeOf(api.authenticate(dpopRequest(token, forgedProof))), 'ERR_DPOP_NONCE_REQUIRED')
    now += 300_000
    const later = (n: string) => dpopProof(key, token, { claims: { nonce: n, iat: now / 1000 } })
    const stale = await api.authenticate(dpopRequest(token, later(nonce)))
    assert.notEqual(stale.dpopNonce, undefined)
    now += 300_000
    assert.equal(await codeOf(api.authenticate(dpopRequest(token, later(nonce)))), 'ERR_DPOP_NONCE_REQUIRED')
  })
})

describe('createResourceServer: options', () => {
  const base = { resource: RESOURCE, issuer: ISSUER, jwks: { keys: [issuerKey().jwk] } }
  const refused = (options: Record<string, unknown>) => {
    try {
      createResourceServer(options as never)
    } catch (error) {
      return error as { code?: string; message: string }
    }
    throw new Error('expected ERR_INVALID_OPTIONS')
  }

  it('unknown keys, audience and typ are refused (ERR_INVALID_OPTIONS)', () => {
    assert.match(refused({ ...base, scope: ['read'] }).message, /unknown option "scope"/)
    // The shared option checks of lib/options.ts (issue #12): the factory named, the nearest name offered.
    refusesUnknownOption(
      () => createResourceServer({ ...base, dpopp: 'off' } as never),
      'createResourceServer',
      'dpopp',
      'dpop',
    )
    refusesUnknownOption(
      () =>
        createResourceServer({ ...base, dpopNonce: { secret: 'x'.repeat(32), lifetimeSecond: 60 } } as never),
      'createResourceServer',
      'dpopNonce.lifetimeSecond',
      'dpopNonce.lifetimeSeconds',
    )
    assert.match(refused({ ...base, audience: 'x' }).message, /every token must name the resource/)
    assert.match(refused({ ...base, typ: 'JWT' }).message, /accessTokenProfile/)
    assert.match(
      refused({ resource: RESOURCE, issuers: [{ issuer: ISSUER, jwks: base.jwks, audience: 'x' }] }).message,
      /issuers\[0\]\.audience/,
    )
    assert.equal(refused({ ...base, dpop: 'yes' }).code, 'ERR_INVALID_OPTIONS')
  })

  it('RFC 8707 §2 / RFC 9728 §1.2: resource is required, an absolute https URL without fragment', () => {
    for (const resource of [
      undefined,
      'my-api',
      'http://api.example.com',
      'https://api.example.com/#x',
      'ftp://x',
    ]) {
      assert.equal(refused({ ...base, resource }).code, 'ERR_INVALID_OPTIONS', String(resource))
    }
    assert.doesNotThrow(() => createResourceServer({ ...base, resource: 'http://127.0.0.1:8080' }))
  })

  it('RFC 9449 §11.1: nonce secrets shorter than 32 bytes and HS* proof algorithms are refused', () => {
    assert.match(refused({ ...base, dpopNonce: { secret: 'short' } }).message, /32 bytes/)
    assert.equal(refused({ ...base, dpopAlgorithms: ['HS256'] }).code, 'ERR_INVALID_OPTIONS')
    assert.equal(refused({ ...base, scopes: ['has space'] }).code, 'ERR_INVALID_OPTIONS')
  })

  it('per-issuer requiredClaims keep the profile’s claims (no issuer escapes RFC 9068 §2.2)', async () => {
    const api = createResourceServer({
      resource: RESOURCE,
      issuers: [{ issuer: ISSUER, jwks: base.jwks, requiredClaims: ['email'] }],
      nowMs: () => NOW_SECONDS * 1000,
    })
    const error = await api
      .authenticate(bearer(accessToken({ email: 'a@b', client_id: undefined })))
      .catch((e) => e)
    assert.equal(error.claim, 'client_id')
  })
})
