// The examples in examples/forward-auth/, run for real on loopback: nginx (auth_request) and Caddy
// (forward_auth) in front of a small Ruby app that knows nothing of JWTs, and jwks-bridge's own
// reverse-proxy mode in front of the same app. Signed in through the development provider (HTTP, and
// in Chromium), a spoofed identity header, a signed-out request, an API client's refused access token
// (the check's challenge reaches it), the upstream down.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { freePort } from '../../src/app/free-port.ts'
import { startTestApp, type TestApp } from '../app/app-fixture.ts'
import { devIssuerToken } from '../app/dev-token.ts'
import { launchChromium } from '../helpers/browser.ts'
import { get, NAVIGATION, signInCookie } from '../proxy/support.ts'
import { type Child, startCaddy, startNginx, startRuby } from './processes.ts'

const STEP_MS = 10_000

// The API behind nginx and Caddy (API_RESOURCE). The development provider mints one kind of token:
// with its `aud` set to the API (AUDIENCE) and the generic access-token profile, that token also
// stands in for an access token here (a real provider issues the two separately). It has no scope,
// so the check refuses it for API_SCOPES: the 403 of RFC 6750 §3.1.
const RESOURCE = 'https://api.example.com'
const API_ENV = {
  API_RESOURCE: RESOURCE,
  AUDIENCE: RESOURCE,
  API_TOKEN_PROFILE: 'generic',
  API_SCOPES: 'read',
}

/** The token with an all-zero signature of the same length: well formed, not the issuer's. */
function forged(jwt: string): string {
  const [header, payload, signature] = jwt.split('.') as [string, string, string]
  return `${header}.${payload}.${Buffer.alloc(Buffer.from(signature, 'base64url').length).toString('base64url')}`
}

/** Signs in as a person does, starting from a private page: ends on that page, signed in. */
async function browserSignIn(browser: Browser, url: string, name: string): Promise<string | null> {
  const context = await browser.newContext()
  context.setDefaultTimeout(STEP_MS)
  try {
    const page = await context.newPage()
    await page.goto(`${url}/`)
    await page.waitForURL((u) => u.pathname === '/auth/sign-in')
    await page.click('#sign-in')
    await page.waitForURL((u) => u.pathname === '/dev-issuer/sign-in')
    await page.fill('#username', name)
    await page.click('button[type="submit"]')
    // Back on the sign-in page, the browser script hands the token over and reloads; the page then
    // sends the browser back to where it started, the Ruby app's page.
    await page.waitForURL((u) => u.pathname === '/', { timeout: STEP_MS })
    await page.waitForSelector('h1:text("Ruby app")')
    return await page.textContent('#subject')
  } finally {
    await context.close()
  }
}

type Front = 'nginx' | 'caddy' | 'jwks-bridge serve (UPSTREAM_URL)'

for (const front of ['nginx', 'caddy', 'jwks-bridge serve (UPSTREAM_URL)'] as Front[]) {
  describe(`forward auth example: ${front} in front of a Ruby app`, { timeout: 120_000 }, () => {
    let dir: string
    let ruby: Child
    let proxy: Child | undefined
    let bridge: TestApp
    let url: string
    let appPort: number
    let browser: Browser | undefined

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-fwd-'))
      appPort = await freePort('127.0.0.1')
      ruby = await startRuby(appPort)
      if (front === 'jwks-bridge serve (UPSTREAM_URL)') {
        bridge = await startTestApp({ UPSTREAM_URL: `http://127.0.0.1:${appPort}`, PUBLIC_PATHS: '/public/' })
        url = bridge.url
      } else {
        const port = await freePort('127.0.0.1')
        url = `http://127.0.0.1:${port}`
        // The bridge's URL as browsers see it is the proxy's, and so is the development provider's
        // issuer: the bridge fetches its key set through the proxy, so the proxy starts first.
        const BRIDGE_PORT = await freePort('127.0.0.1')
        const ports = { PORT: port, BRIDGE_PORT, APP_PORT: appPort }
        proxy = front === 'nginx' ? await startNginx(dir, ports) : await startCaddy(dir, ports)
        bridge = await startTestApp({ PUBLIC_URL: url, PORT: String(BRIDGE_PORT), ...API_ENV })
      }
    })

    after(async () => {
      await browser?.close()
      await proxy?.stop()
      await ruby?.stop()
      await bridge?.close()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    it('signed out: an API request gets 401 and never reaches the app; a page load is sent to the sign-in page', async () => {
      const api = await get(`${url}/whoami`, { accept: 'application/json' })
      assert.equal(api.status, 401)
      assert.doesNotMatch(api.body, /subject=/)
      assert.equal(api.headers['www-authenticate'], undefined, 'a session 401 carries no token challenge')
      const page = await get(`${url}/whoami`, NAVIGATION)
      assert.equal(page.status, 303)
      assert.match(page.headers.location ?? '', /^\/auth\/sign-in(\?|$)/)
      assert.equal(page.headers['www-authenticate'], undefined)
      assert.doesNotMatch(ruby.output(), /\/whoami/, 'the Ruby app saw no signed-out request')
    })

    it('signed in through the development provider: the app prints the X-Auth-Subject it receives', async () => {
      const cookie = await signInCookie(url, 'ada')
      const answer = await get(`${url}/whoami`, { cookie })
      assert.equal(answer.status, 200)
      assert.equal(answer.body, 'subject=ada\n')
    })

    it('a spoofed X-Auth-Subject is refused: replaced when signed in, removed on a public page', async () => {
      const cookie = await signInCookie(url, 'grace')
      const signedIn = await get(`${url}/whoami`, { cookie, 'X-Auth-Subject': 'admin' })
      assert.equal(signedIn.body, 'subject=grace\n')
      const claims = await get(`${url}/whoami`, { cookie, 'X-Auth-Email': 'admin@example.com' })
      assert.equal(claims.status, 200)
      const outsider = await get(`${url}/public/x`, { 'X-Auth-Subject': 'admin', 'x-auth-email': 'a@b' })
      assert.equal(outsider.status, 200)
      assert.match(outsider.body, /<strong id="subject"><\/strong>/)
      // The Ruby app logs after answering: wait for its line rather than race the pipe.
      const logged = await ruby.waitForOutput(/GET \/public\/x subject=nil/)
      assert.doesNotMatch(logged, /subject="admin"/)
    })

    if (front !== 'jwks-bridge serve (UPSTREAM_URL)') {
      /**
       * The check's answer to `authorization`, asked directly, and the front's answer to an API request
       * with it: the same status and the same WWW-Authenticate, and the app never sees the request.
       */
      async function sameChallenge(authorization: string, status: number, headers = {}): Promise<string> {
        const direct = await get(`${bridge.url}/auth/check`, { authorization })
        assert.equal(direct.status, status)
        const challenge = direct.headers['www-authenticate']
        assert.ok(challenge, 'the check answers with a challenge')
        const answer = await get(`${url}/api/orders`, { ...headers, authorization })
        assert.equal(answer.status, status)
        // Exactly one copy: nginx's auth_request already carries it onto a 401 by itself.
        assert.equal(answer.headers['www-authenticate'], challenge)
        assert.equal(answer.headers.location, undefined, 'a token is answered, never sent to sign in')
        assert.doesNotMatch(ruby.output(), /\/api\/orders/, 'the Ruby app saw no refused request')
        return challenge
      }

      it('RFC 6750 §3, RFC 9728 §5.1: a refused access token gets 401 with the check’s WWW-Authenticate, a page load too', async () => {
        const authorization = `Bearer ${forged(await devIssuerToken(url, 'mallory'))}`
        const challenge = await sameChallenge(authorization, 401, { accept: 'application/json' })
        assert.match(
          challenge,
          /^Bearer error="invalid_token".*resource_metadata="https:\/\/api\.example\.com\//,
        )
        await sameChallenge(authorization, 401, NAVIGATION)
      })

      it('RFC 6750 §3.1: a genuine token without the scope gets 403 insufficient_scope with the check’s WWW-Authenticate', async () => {
        const authorization = `Bearer ${await devIssuerToken(url, 'turing')}`
        const challenge = await sameChallenge(authorization, 403, { accept: 'application/json' })
        assert.match(challenge, /^Bearer error="insufficient_scope", .*scope="read"/)
      })
    }

    it('a sign-in in Chromium, from a private page back to it', async () => {
      browser = await launchChromium()
      assert.equal(await browserSignIn(browser, url, 'lin'), 'lin')
    })

    if (front === 'jwks-bridge serve (UPSTREAM_URL)') {
      it('the Ruby app renders the meta tags from the forwarded headers on a page load', async () => {
        const page = await get(`${url}/public/welcome`, NAVIGATION)
        assert.match(page.body, /<meta name="authentication-url" content="\/auth">/)
        assert.match(page.body, /<meta name="has-session" content="false">/)
        assert.match(page.body, /<meta name="csrf-token" content="[A-Za-z0-9_-]{43}">/)
      })
    }

    it('the app down: the front answers 502', async () => {
      const cookie = await signInCookie(url, 'ada')
      await ruby.stop()
      const answer = await get(`${url}/whoami`, { cookie })
      assert.equal(answer.status, 502)
    })
  })
}
