// needs: build
// The reference app with API_RESOURCE: GET /api/me takes access tokens (Bearer or DPoP) from the
// configured issuer, and the RFC 9728 metadata is served. A real test issuer serves the key set.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { readConfig } from '../../src/app/config.ts'
import { createTestIssuer, type ServedTestIssuer } from '../../src/testing/index.ts'
import { startTestApp, type TestApp } from '../app/app-fixture.ts'
import { signText } from '../helpers/tokens.ts'
import { ath, clientKey, proofJwk, thumbprintOf } from './support.ts'

const RESOURCE = 'https://api.example.com'
const issuer = createTestIssuer({ alg: 'RS256' })

describe('reference app: GET /api/me with API_RESOURCE', () => {
  let served: ServedTestIssuer
  let app: TestApp
  before(async () => {
    served = await issuer.serve()
    app = await startTestApp({
      ISSUER_URL: served.issuer,
      JWKS_URI: served.jwksUri,
      API_RESOURCE: RESOURCE,
      API_SCOPES: 'read',
    })
  })
  after(async () => {
    await app?.close()
    await served?.close()
  })
  const token = (claims: Record<string, unknown> = {}) =>
    issuer.sign(
      { aud: RESOURCE, client_id: 'cli', scope: 'read', jti: randomUUID(), ...claims },
      { typ: 'at+jwt' },
    )

  it('RFC 6750 §2.1 + RFC 9068: a Bearer access token for API_RESOURCE gets the caller', async () => {
    const response = await fetch(`${app.url}/api/me`, { headers: { authorization: `Bearer ${token()}` } })
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), {
      subject: 'test-user',
      issuer: served.issuer,
      clientId: 'cli',
      scopes: ['read'],
      scheme: 'Bearer',
    })
  })

  it('RFC 9449: a DPoP-bound token with a proof for the app’s public URL passes; the proof again is refused', async () => {
    const key = clientKey()
    const bound = token({ cnf: { jkt: thumbprintOf(key) } })
    const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: proofJwk(key) })
    const claims = {
      jti: randomUUID(),
      htm: 'GET',
      htu: `${app.url}/api/me`,
      iat: Math.floor(Date.now() / 1000),
      ath: ath(bound),
    }
    const headers = { authorization: `DPoP ${bound}`, dpop: signText(key, header, JSON.stringify(claims)) }
    const first = await fetch(`${app.url}/api/me`, { headers })
    assert.equal(first.status, 200)
    assert.equal(((await first.json()) as { jkt: string }).jkt, thumbprintOf(key))
    // RFC 9449 §11.1: remembered in the app's session store (SQLite here).
    const again = await fetch(`${app.url}/api/me`, { headers })
    assert.equal(again.status, 401)
  })

  it('RFC 6750 §3.1: no token → 401 with challenges; a missing scope → 403; an ID token → 401', async () => {
    const none = await fetch(`${app.url}/api/me`)
    assert.equal(none.status, 401)
    assert.match(
      none.headers.get('www-authenticate') ?? '',
      /^Bearer resource_metadata="https:\/\/api\.example\.com\/\.well-known\/oauth-protected-resource"/,
    )
    const scopeless = await fetch(`${app.url}/api/me`, {
      headers: { authorization: `Bearer ${token({ scope: 'other' })}` },
    })
    assert.equal(scopeless.status, 403)
    const idToken = issuer.sign({ aud: RESOURCE, nonce: 'n' })
    assert.equal(
      (await fetch(`${app.url}/api/me`, { headers: { authorization: `Bearer ${idToken}` } })).status,
      401,
    )
  })

  it('RFC 9728 §3: the metadata document is served', async () => {
    const response = await fetch(`${app.url}/.well-known/oauth-protected-resource`)
    assert.equal(response.status, 200)
    const document = (await response.json()) as Record<string, unknown>
    assert.equal(document.resource, RESOURCE)
    assert.deepEqual(document.authorization_servers, [served.issuer])
    assert.deepEqual(document.scopes_supported, ['read'])
  })
})

describe('reference app config: API_*', () => {
  it('API_SCOPES, API_DPOP and API_TOKEN_PROFILE are read; without API_RESOURCE they are refused', () => {
    const config = readConfig({
      API_RESOURCE: RESOURCE,
      API_SCOPES: 'read, write',
      API_DPOP: 'required',
      API_TOKEN_PROFILE: 'generic',
    })
    assert.deepEqual(config.api, {
      resource: RESOURCE,
      scopes: ['read', 'write'],
      dpop: 'required',
      profile: 'generic',
    })
    assert.equal(readConfig({}).api, undefined)
    assert.throws(() => readConfig({ API_SCOPES: 'read' }), /need API_RESOURCE/)
    assert.throws(() => readConfig({ API_RESOURCE: RESOURCE, API_DPOP: 'maybe' }), {
      code: 'ERR_INVALID_OPTIONS',
    })
  })
})
