// Plain http gets a session only from this machine, and that is read from the socket, PUBLIC_URL and
// TRUST_PROXY, never from a header the client writes (SECURITY.md, "Cookies and plain http").
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { request } from '../ops/http.ts'
import { startTestApp, type TestApp } from './app-fixture.ts'
import { devIssuerToken } from './dev-token.ts'

const CSRF_COOKIE = 'jwks-bridge-session-csrf'

/** A CSRF pre-session from the home page over plain http from this machine. */
async function csrfFrom(url: string): Promise<{ cookie: string; token: string }> {
  const page = await request(`${url}/`)
  assert.equal(page.status, 200)
  const lines = ([] as string[]).concat(page.headers['set-cookie'] ?? [])
  const cookie = lines
    .map((line) => line.split(';', 1)[0] as string)
    .find((p) => p.startsWith(`${CSRF_COOKIE}=`))
  assert.ok(cookie)
  return { cookie, token: cookie.slice(CSRF_COOKIE.length + 1) }
}

function putAuth(url: string, headers: Record<string, string>, jwt: string) {
  return request(`${url}/auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jwt }),
  })
}

const codeOf = (text: string) => (JSON.parse(text) as { error?: { code?: string } }).error?.code

describe('reference app: plain http and the session cookie', () => {
  let local: TestApp
  let publicApp: TestApp
  let proxied: TestApp

  before(async () => {
    // The two public setups need a provider that signs tokens: the development one, let through on
    // purpose (its refusal behind a proxy is tested in config.test.ts).
    const exposed = { DANGEROUSLY_EXPOSE_DEV_ISSUER: 'true' }
    const started = await Promise.allSettled([
      startTestApp(),
      // Browsers reach it at an https URL through a proxy on this machine that does not say so.
      startTestApp({ PUBLIC_URL: 'https://app.example.com', ...exposed }),
      startTestApp({ TRUST_PROXY: 'true', ...exposed }),
    ])
    // An app that started is closed even when another did not (a leaked server keeps the run alive).
    ;[local, publicApp, proxied] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [
      TestApp,
      TestApp,
      TestApp,
    ]
    for (const s of started) if (s.status === 'rejected') throw s.reason
  })
  after(async () => {
    await Promise.all([local?.close(), publicApp?.close(), proxied?.close()])
  })

  it('development: plain http from this machine with PUBLIC_URL on loopback signs in', async () => {
    const csrf = await csrfFrom(local.url)
    const jwt = await devIssuerToken(local.url, 'dev-user')
    const answer = await putAuth(local.url, { 'x-csrf-token': csrf.token, cookie: csrf.cookie }, jwt)
    assert.equal(answer.status, 204, answer.text)
  })

  it('RFC 6265bis §8.3: with a public PUBLIC_URL, a spoofed Host: localhost over plain http gets 403 ERR_INSECURE_TRANSPORT', async () => {
    // Where it listens (its URL is the public one).
    const { port } = publicApp.app.fastify.server.address() as { port: number }
    for (const host of ['localhost', '127.0.0.1:3000']) {
      const answer = await putAuth(`http://127.0.0.1:${port}`, { host, origin: `http://${host}` }, 'x.y.z')
      assert.equal(answer.status, 403, host)
      assert.equal(codeOf(answer.text), 'ERR_INSECURE_TRANSPORT', host)
      assert.equal(answer.headers['set-cookie'], undefined)
    }
  })

  it('TRUST_PROXY: X-Forwarded-Proto "https, http" is our proxy saying http (the last value): 403 ERR_INSECURE_TRANSPORT', async () => {
    const csrf = await csrfFrom(proxied.url)
    const jwt = await devIssuerToken(proxied.url, 'spoofer')
    const answer = await putAuth(
      proxied.url,
      { 'x-forwarded-proto': 'https, http', 'x-csrf-token': csrf.token, cookie: csrf.cookie },
      jwt,
    )
    assert.equal(answer.status, 403)
    assert.equal(codeOf(answer.text), 'ERR_INSECURE_TRANSPORT')
    assert.equal(proxied.rows('sessions'), 0)
  })
})
