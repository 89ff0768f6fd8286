// GET /auth/check with an access token (API_RESOURCE): the reference app on loopback, a real test
// issuer serving its key set, Bearer and DPoP requests as a proxy (nginx auth_request, Caddy
// forward_auth) passes them on, with and without TRUST_PROXY.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createTestIssuer, type ServedTestIssuer } from '../../src/testing/index.ts'
import { startTestApp, type TestApp } from '../app/app-fixture.ts'
import { signText } from '../helpers/tokens.ts'
import { ath, clientKey, proofJwk, thumbprintOf } from '../resource-server/support.ts'

const RESOURCE = 'https://api.example.com'
const issuer = createTestIssuer({ alg: 'RS256' })
const key = clientKey()

const token = (claims: Record<string, unknown> = {}) =>
  issuer.sign(
    {
      aud: RESOURCE,
      client_id: 'cli',
      scope: 'read',
      jti: randomUUID(),
      email: 'ada@example.com',
      ...claims,
    },
    { typ: 'at+jwt' },
  )
const boundToken = () => token({ cnf: { jkt: thumbprintOf(key) } })

function proof(bound: string, method: string, url: string): string {
  const header = JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: proofJwk(key) })
  const claims = {
    jti: randomUUID(),
    htm: method,
    htu: url,
    iat: Math.floor(Date.now() / 1000),
    ath: ath(bound),
  }
  return signText(key, header, JSON.stringify(claims))
}

describe('forward auth: GET /auth/check with an access token (API_RESOURCE)', { timeout: 60_000 }, () => {
  let served: ServedTestIssuer
  let trusted: TestApp
  let untrusted: TestApp

  before(async () => {
    served = await issuer.serve()
    const env = {
      ISSUER_URL: served.issuer,
      JWKS_URI: served.jwksUri,
      API_RESOURCE: RESOURCE,
      API_SCOPES: 'read',
    }
    trusted = await startTestApp({ ...env, TRUST_PROXY: 'true' })
    untrusted = await startTestApp(env)
  })
  after(async () => {
    await trusted?.close()
    await untrusted?.close()
    await served?.close()
  })

  const check = (app: TestApp, headers: Record<string, string>) =>
    fetch(`${app.url}/auth/check`, { headers: { accept: 'application/json', ...headers } })

  it('RFC 6750 §2.1: a valid Bearer token → 200 with X-Auth-Subject, X-Auth-Issuer and claims from the token, no X-Auth-Identity-Id', async () => {
    for (const app of [trusted, untrusted]) {
      const answer = await check(app, { authorization: `Bearer ${token()}` })
      assert.equal(answer.status, 200)
      assert.equal(answer.headers.get('x-auth-subject'), 'test-user')
      assert.equal(answer.headers.get('x-auth-issuer'), served.issuer)
      assert.equal(answer.headers.get('x-auth-email'), 'ada@example.com')
      assert.equal(answer.headers.get('x-auth-identity-id'), null, 'a token is not a local identity')
      assert.equal(answer.headers.get('cache-control'), 'no-store')
      assert.equal(await answer.text(), '')
    }
  })

  it('RFC 6750 §3.1: a refused token → 401 with the resource server’s challenge (invalid_token); a missing scope → 403 insufficient_scope', async () => {
    const expired = await check(untrusted, {
      authorization: `Bearer ${token({ exp: Math.floor(Date.now() / 1000) - 3600 })}`,
    })
    assert.equal(expired.status, 401)
    assert.match(expired.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/)
    assert.match(
      expired.headers.get('www-authenticate') ?? '',
      /resource_metadata="https:\/\/api\.example\.com\//,
    )
    assert.equal(expired.headers.get('x-auth-subject'), null)
    const otherApi = await check(untrusted, {
      authorization: `Bearer ${token({ aud: 'https://other.example' })}`,
    })
    assert.equal(otherApi.status, 401)
    const scopeless = await check(untrusted, { authorization: `Bearer ${token({ scope: 'other' })}` })
    assert.equal(scopeless.status, 403)
    assert.match(scopeless.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/)
  })

  it('RFC 6750 §2.3: a token in the original request’s query (X-Original-URI, trusted proxy) is refused', async () => {
    const answer = await check(trusted, {
      authorization: `Bearer ${token()}`,
      'x-original-uri': '/orders?access_token=abc',
    })
    assert.equal(answer.status, 400)
  })

  it('no Authorization header: the session check as before (401, no challenge)', async () => {
    const answer = await check(untrusted, {})
    assert.equal(answer.status, 401)
    assert.equal(answer.headers.get('www-authenticate'), null)
  })

  it('RFC 9449 §4.3 (htm, htu): behind a trusted proxy the proof is checked against X-Original-Method and X-Original-URI', async () => {
    const bound = boundToken()
    const ok = await check(trusted, {
      authorization: `DPoP ${bound}`,
      dpop: proof(bound, 'POST', `${trusted.url}/orders/7`),
      'x-original-method': 'POST',
      'x-original-uri': '/orders/7?page=2',
    })
    assert.equal(ok.status, 200)
    assert.equal(ok.headers.get('x-auth-subject'), 'test-user')
    // Caddy's and Traefik's names for the same.
    const caddy = await check(trusted, {
      authorization: `DPoP ${bound}`,
      dpop: proof(bound, 'GET', `${trusted.url}/orders/8`),
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/orders/8',
    })
    assert.equal(caddy.status, 200)
    // A proof made for another request, or for the check's own URL, does not pass for this one.
    for (const [method, url] of [
      ['GET', `${trusted.url}/orders/7`],
      ['POST', `${trusted.url}/admin`],
      ['GET', `${trusted.url}/auth/check`],
    ] as const) {
      const refused = await check(trusted, {
        authorization: `DPoP ${bound}`,
        dpop: proof(bound, method, url),
        'x-original-method': 'POST',
        'x-original-uri': '/orders/7',
      })
      assert.equal(refused.status, 401, `${method} ${url}`)
      assert.match(refused.headers.get('www-authenticate') ?? '', /DPoP error="invalid_dpop_proof"/)
    }
  })

  it('RFC 9449 §4.3: behind a trusted proxy that does not send the original method and URI, DPoP is refused saying so', async () => {
    const bound = boundToken()
    const answer = await check(trusted, {
      authorization: `DPoP ${bound}`,
      dpop: proof(bound, 'GET', `${trusted.url}/auth/check`),
    })
    assert.equal(answer.status, 401)
    assert.match(
      answer.headers.get('www-authenticate') ?? '',
      /invalid_dpop_proof.*X-Original-Method and X-Original-URI/,
    )
  })

  it('RFC 9449 §4.3: without TRUST_PROXY a spoofed X-Original-URI does not choose htu; DPoP is refused with the reason', async () => {
    const bound = boundToken()
    const answer = await check(untrusted, {
      authorization: `DPoP ${bound}`,
      dpop: proof(bound, 'GET', `${untrusted.url}/orders/7`),
      'x-original-method': 'GET',
      'x-original-uri': '/orders/7',
    })
    assert.equal(answer.status, 401)
    assert.equal(answer.headers.get('x-auth-subject'), null)
    assert.match(
      answer.headers.get('www-authenticate') ?? '',
      /DPoP error="invalid_dpop_proof", error_description="[^"]*TRUST_PROXY=true/,
    )
  })

  it('RFC 9449 §11.1: a proof is single use at the check too', async () => {
    const bound = boundToken()
    const headers = {
      authorization: `DPoP ${bound}`,
      dpop: proof(bound, 'GET', `${trusted.url}/orders/9`),
      'x-original-method': 'GET',
      'x-original-uri': '/orders/9',
    }
    assert.equal((await check(trusted, headers)).status, 200)
    assert.equal((await check(trusted, headers)).status, 401)
  })
})
