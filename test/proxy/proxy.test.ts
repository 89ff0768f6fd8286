// Reverse-proxy mode end to end: the reference app (UPSTREAM_URL, PUBLIC_PATHS) on loopback in front
// of a real upstream server, sessions from the development provider, plain HTTP clients.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import WebSocket, { WebSocketServer } from 'ws'
import { startTestApp, type TestApp } from '../app/app-fixture.ts'
import { get, NAVIGATION, signInCookie, startUpstream, type Upstream } from './support.ts'

describe('reverse proxy (UPSTREAM_URL)', { timeout: 60_000 }, () => {
  let upstream: Upstream
  let test: TestApp
  let url: string
  let cookie: string

  before(async () => {
    upstream = await startUpstream()
    test = await startTestApp({
      UPSTREAM_URL: upstream.url,
      PUBLIC_PATHS: '/public/,/set-cookie',
      UPSTREAM_TIMEOUT_SECONDS: '0.5',
    })
    url = test.url
    cookie = await signInCookie(url, 'ada')
  })

  after(async () => {
    await test?.close()
    await upstream?.close()
  })

  const lastSeen = () => upstream.seen[upstream.seen.length - 1]

  it('a signed-in request reaches the upstream with X-Auth-Subject, X-Auth-Issuer, X-Auth-Identity-Id', async () => {
    const response = await fetch(`${url}/orders?id=7`, { headers: { cookie } })
    assert.equal(response.status, 200)
    const body = (await response.json()) as { url: string; headers: Record<string, string> }
    assert.equal(body.url, '/orders?id=7')
    assert.equal(body.headers['x-auth-subject'], 'ada')
    assert.equal(body.headers['x-auth-issuer'], `${url}/dev-issuer`)
    assert.match(body.headers['x-auth-identity-id'] ?? '', /^[A-Za-z0-9_-]{10,}$/)
    assert.equal(body.headers['x-forwarded-for'], '127.0.0.1')
    assert.equal(body.headers['x-forwarded-proto'], 'http')
    assert.equal(body.headers['x-forwarded-host'], new URL(url).host)
  })

  it('spoofing: identity headers the client sends are removed, signed in or not', async () => {
    const spoof = {
      'X-Auth-Subject': 'admin',
      'x-auth-identity-id': 'someone',
      'X-AUTH-EMAIL': 'root@example.com',
    }
    const signedIn = await fetch(`${url}/x`, { headers: { cookie, ...spoof } })
    const seen = ((await signedIn.json()) as { headers: Record<string, string> }).headers
    assert.equal(seen['x-auth-subject'], 'ada')
    assert.notEqual(seen['x-auth-identity-id'], 'someone')
    assert.equal(
      seen['x-auth-email'],
      undefined,
      'the dev provider sends no email; the client’s copy is gone',
    )
    const anonymous = await fetch(`${url}/public/page`, { headers: spoof })
    assert.equal(anonymous.status, 200)
    const headers = ((await anonymous.json()) as { headers: Record<string, string> }).headers
    for (const name of ['x-auth-subject', 'x-auth-identity-id', 'x-auth-email'])
      assert.equal(headers[name], undefined)
  })

  it('a private path without a session: 401 JSON for API clients, 303 to the sign-in page for a browser; the upstream sees neither', async () => {
    const before = upstream.seen.length
    const api = await fetch(`${url}/orders`, { headers: { accept: 'application/json' } })
    assert.equal(api.status, 401)
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'ERR_UNAUTHENTICATED')
    const page = await get(`${url}/orders?id=7`, NAVIGATION)
    assert.equal(page.status, 303)
    assert.equal(page.headers.location, '/auth/sign-in?return_to=%2Forders%3Fid%3D7')
    const forged = await fetch(`${url}/orders`, { headers: { cookie: `${cookie.slice(0, -3)}AAA` } })
    assert.equal(forged.status, 401)
    assert.equal(upstream.seen.length, before)
  })

  it('PUBLIC_PATHS reach the upstream without a session; a dot segment under one does not', async () => {
    assert.equal((await fetch(`${url}/public/a.css`)).status, 200)
    assert.equal(lastSeen()?.url, '/public/a.css')
    assert.equal((await fetch(`${url}/public/%2e%2e/orders`)).status, 401)
  })

  it('a page load carries the meta-tag values; the CSRF cookie joins the upstream’s own Set-Cookie', async () => {
    const response = await get(`${url}/set-cookie`, NAVIGATION)
    const seen = (JSON.parse(response.body) as { headers: Record<string, string> }).headers
    assert.equal(seen['x-auth-authentication-url'], '/auth')
    assert.equal(seen['x-auth-has-session'], 'false')
    assert.match(seen['x-auth-csrf-token'] ?? '', /^[A-Za-z0-9_-]{43}$/)
    const names = (response.headers['set-cookie'] ?? []).map((line) => line.split('=')[0])
    assert.deepEqual(names, ['upstream', 'jwks-bridge-session-csrf'])
    const signedIn = await get(`${url}/home`, { ...NAVIGATION, cookie })
    assert.equal(
      (JSON.parse(signedIn.body) as { headers: Record<string, string> }).headers['x-auth-has-session'],
      'true',
    )
  })

  it('the bridge answers its own routes (check, sign-in page, script, health); the upstream never sees them', async () => {
    const before = upstream.seen.length
    const check = await fetch(`${url}/auth/check`, { headers: { cookie } })
    assert.equal(check.status, 200)
    assert.equal(check.headers.get('x-auth-subject'), 'ada')
    assert.equal(await check.text(), '')
    assert.equal((await fetch(`${url}/auth/check`)).status, 401)
    assert.equal((await fetch(`${url}/assets/jwks-bridge-client.min.js`)).status, 200)
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
    assert.equal((await fetch(`${url}/auth/sign-in`)).status, 200)
    assert.equal(upstream.seen.length, before)
  })

  it('bodies stream both ways: a 4 MiB upload arrives whole, a slow answer’s first chunk arrives before its end', async () => {
    const data = randomBytes(4 * 1024 * 1024)
    const upload = await fetch(`${url}/upload`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/octet-stream' },
      body: data,
    })
    assert.equal(upload.status, 200)
    assert.deepEqual(await upload.json(), {
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    })
    const started = performance.now()
    const slow = await fetch(`${url}/slow-stream`, { headers: { cookie } })
    const reader = (slow.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    const firstMs = performance.now() - started
    assert.equal(new TextDecoder().decode(first.value), 'first\n')
    assert.ok(firstMs < 350, `first chunk after ${firstMs.toFixed(0)} ms: buffered, not streamed`)
    while (!(await reader.read()).done) {}
  })

  it('keep-alive: sequential requests reuse one upstream connection', async () => {
    const before = upstream.sockets.size
    for (let i = 0; i < 20; i++) await (await fetch(`${url}/k${i}`, { headers: { cookie } })).text()
    assert.ok(
      upstream.sockets.size - before <= 1,
      `${upstream.sockets.size - before} new upstream connections`,
    )
  })

  it('an upstream that does not answer in time → 504 ERR_UPSTREAM_TIMEOUT (UPSTREAM_TIMEOUT_SECONDS)', async () => {
    const started = performance.now()
    const response = await fetch(`${url}/hang`, { headers: { cookie } })
    assert.equal(response.status, 504)
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'ERR_UPSTREAM_TIMEOUT')
    assert.ok(performance.now() - started < 5000)
  })

  it('/metrics counts forward-auth checks and proxied requests', async () => {
    const text = await (await fetch(`${url}/metrics`)).text()
    assert.match(text, /jwks_bridge_forward_auth_checks_total\{result="allowed"\} [1-9]/)
    assert.match(text, /jwks_bridge_forward_auth_checks_total\{result="denied"\} [1-9]/)
    assert.match(text, /jwks_bridge_proxy_requests_total\{outcome="forwarded"\} [1-9]/)
    assert.match(text, /jwks_bridge_proxy_requests_total\{outcome="refused"\} [1-9]/)
    assert.match(text, /jwks_bridge_proxy_requests_total\{outcome="upstream-error"\} [1-9]/)
  })
})

describe('reverse proxy: WebSocket upgrades', { timeout: 30_000 }, () => {
  let upstream: Upstream
  let wss: WebSocketServer
  let test: TestApp
  let cookie: string
  const subjects: (string | undefined)[] = []

  before(async () => {
    upstream = await startUpstream()
    wss = new WebSocketServer({ server: upstream.server })
    wss.on('connection', (socket, request) => {
      subjects.push(request.headers['x-auth-subject'] as string | undefined)
      socket.on('message', (data) => socket.send(`echo:${String(data)}`))
    })
    test = await startTestApp({ UPSTREAM_URL: upstream.url })
    cookie = await signInCookie(test.url, 'grace')
  })

  after(async () => {
    await test?.close()
    wss?.close()
    await upstream?.close()
  })

  function open(headers: Record<string, string>): Promise<{ status: number; echo?: string }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${test.url.replace('http', 'ws')}/live`, { headers })
      socket.once('unexpected-response', (_request, response) => {
        resolve({ status: response.statusCode ?? 0 })
        socket.terminate()
      })
      socket.once('open', () => socket.send('hi'))
      socket.once('message', (data) => {
        resolve({ status: 101, echo: String(data) })
        socket.close()
      })
      socket.once('error', reject)
    })
  }

  it('a signed-in upgrade is proxied with the identity headers (a spoofed copy removed)', async () => {
    const answer = await open({ cookie, origin: test.url, 'x-auth-subject': 'admin' })
    assert.deepEqual(answer, { status: 101, echo: 'echo:hi' })
    assert.equal(subjects.at(-1), 'grace')
  })

  it('without a session → 401; cross-site WebSocket hijacking (another Origin) → 403', async () => {
    const connections = subjects.length
    assert.equal((await open({})).status, 401)
    assert.equal((await open({ cookie, origin: 'https://evil.example' })).status, 403)
    assert.equal(subjects.length, connections, 'the upstream saw neither')
  })
})

describe('reverse proxy: the upstream is down', { timeout: 30_000 }, () => {
  it('→ 502 ERR_UPSTREAM_UNREACHABLE', async () => {
    const upstream = await startUpstream()
    const port = upstream.port
    await upstream.close()
    const test = await startTestApp({ UPSTREAM_URL: `http://127.0.0.1:${port}` })
    try {
      const cookie = await signInCookie(test.url, 'ada')
      const response = await fetch(`${test.url}/anything`, { headers: { cookie } })
      assert.equal(response.status, 502)
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'ERR_UPSTREAM_UNREACHABLE',
      )
    } finally {
      await test.close()
    }
  })
})
