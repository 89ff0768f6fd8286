// needs: build
// The session cookie behind a TLS-terminating proxy, checked without a browser (Node's fetch sends
// what a proxy forwards): with TRUST_PROXY=true and `X-Forwarded-Proto: https` the app counts the
// request as https and names its cookies `__Host-…` with `Secure` (RFC 6265bis §4.1.3.2: only this
// host, over https, can set them, so no sibling subdomain or plain-http answer can plant one). Without
// TRUST_PROXY the header is ignored: any client could send it. The browser's view of the plain-http
// cookie on 127.0.0.1 is scenario 6 of browser.test.ts.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestApp, type TestApp } from './app-fixture.ts'
import { cookiePairs, devIssuerToken } from './dev-token.ts'

const HTTPS = { 'x-forwarded-proto': 'https' }

/** The home page: its csrf-token meta and the Set-Cookie lines it sent. */
async function home(url: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/`, { headers })
  assert.equal(response.status, 200)
  const csrf = /<meta name="csrf-token" content="([A-Za-z0-9_-]{43})">/.exec(await response.text())?.[1]
  assert.ok(csrf, 'the page carries a CSRF token')
  return { csrf, setCookie: response.headers.getSetCookie(), cookie: cookiePairs(response).join('; ') }
}

/** The handoff as the browser script sends it. */
async function handoff(url: string, headers: Record<string, string>, userName: string) {
  const page = await home(url, headers)
  const response = await fetch(`${url}/auth`, {
    method: 'PUT',
    headers: {
      ...headers,
      'content-type': 'application/json',
      accept: 'application/json',
      'x-csrf-token': page.csrf,
      cookie: page.cookie,
    },
    body: JSON.stringify({ jwt: await devIssuerToken(url, userName) }),
  })
  await response.arrayBuffer()
  return { page, status: response.status, setCookie: response.headers.getSetCookie(), response }
}

/** A Set-Cookie line's attribute names, lower case, sorted. */
const attributes = (line: string) =>
  line
    .split(';')
    .slice(1)
    .map((a) => a.trim().split('=')[0]?.toLowerCase())
    .sort()

describe('reference app behind a TLS proxy (TRUST_PROXY)', () => {
  let proxied: TestApp
  let direct: TestApp

  before(async () => {
    // TRUST_PROXY with the development provider is refused (security issue #10: behind a proxy the app
    // is public); this test's "proxy" is fetch on loopback, so it turns the guard off, and the app warns.
    ;[proxied, direct] = await Promise.all([
      startTestApp({ TRUST_PROXY: 'true', DANGEROUSLY_EXPOSE_DEV_ISSUER: 'true' }),
      startTestApp(),
    ])
  })

  after(async () => {
    await Promise.all([proxied?.close(), direct?.close()])
  })

  it('TRUST_PROXY=true and X-Forwarded-Proto: https: the session cookie is __Host-jwks-bridge-session; Secure', async () => {
    const result = await handoff(proxied.url, HTTPS, 'ada')
    assert.equal(result.page.setCookie.length, 1)
    // Booleans, not assert.match: a failure must not print a cookie's value.
    const csrfCookie = /^__Host-jwks-bridge-session-csrf=[A-Za-z0-9_-]{43}; /
    assert.equal(csrfCookie.test(result.page.setCookie[0] as string), true, 'the __Host- CSRF cookie')
    assert.deepEqual(attributes(result.page.setCookie[0] as string), [
      'httponly',
      'path',
      'samesite',
      'secure',
    ])

    assert.equal(result.status, 200)
    const session = result.setCookie.find((line) => line.startsWith('__Host-jwks-bridge-session='))
    assert.ok(session, 'the session cookie carries the __Host- prefix')
    assert.deepEqual(attributes(session), ['httponly', 'max-age', 'path', 'samesite', 'secure'])
    assert.equal(/; Path=\/;/.test(session), true, 'Path=/')
    assert.equal(/; SameSite=Lax$/.test(session), true, 'SameSite=Lax')
    assert.equal(/domain=/i.test(session), false, '__Host- forbids Domain')
    assert.equal(
      result.setCookie.some((line) => line.startsWith('__Host-jwks-bridge-session-csrf=;')),
      true,
      'the pre-session CSRF cookie is cleared at sign-in',
    )

    // The cookie works for the next request through the proxy, and only there.
    const cookie = session.split(';')[0] as string
    const me = await fetch(`${proxied.url}/me`, { headers: { ...HTTPS, cookie } })
    assert.equal(me.status, 200)
    assert.equal(((await me.json()) as { subject: string }).subject, 'ada')
    const plain = await fetch(`${proxied.url}/me`, { headers: { cookie } })
    await plain.arrayBuffer()
    assert.equal(plain.status, 401, 'over plain http the __Host- cookie is not the session cookie')
  })

  it('TRUST_PROXY=true without X-Forwarded-Proto (plain http on loopback): no prefix, no Secure', async () => {
    const result = await handoff(proxied.url, {}, 'grace')
    assert.equal(result.status, 200)
    const session = result.setCookie.find((line) => line.startsWith('jwks-bridge-session='))
    assert.ok(session)
    assert.deepEqual(attributes(session), ['httponly', 'max-age', 'path', 'samesite'])
  })

  it('without TRUST_PROXY, X-Forwarded-Proto is ignored: a client cannot claim https', async () => {
    const result = await handoff(direct.url, HTTPS, 'hedy')
    assert.equal(result.status, 200)
    assert.equal(
      result.setCookie.some((line) => line.startsWith('__Host-')),
      false,
    )
    const session = result.setCookie.find((line) => line.startsWith('jwks-bridge-session='))
    assert.ok(session)
    assert.equal(attributes(session).includes('secure'), false)
  })
})
