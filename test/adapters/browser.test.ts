// The browser script, unchanged, against every adapter: real Chromium (test/helpers/browser.ts) signs
// in, reloads and signs out on a page each adapter's app serves (test/adapters/apps.ts). The provider
// is a function source handing out a token the page was rendered with; its sign-out is remembered in
// localStorage, so the page after sign-out has no token to hand over.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { bundleClient } from '../../scripts/build-client.mjs'
import { type Bridge, createBridge } from '../../src/bridge/bridge.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { CONFORMANCE_REQUEST_ID_HEADER } from '../../src/testing/adapter-conformance.ts'
import { createTestIssuer } from '../../src/testing/test-issuer.ts'
import { launchChromium, skipWithoutBrowser as skip, until } from '../helpers/browser.ts'
import { ADAPTER_APPS } from './apps.ts'

const issuer = createTestIssuer()

/** The page: the meta tags (the bridge's CSRF token too), the classic script, and a provider whose token is minted per page. */
function page(hasSession: boolean, csrfToken: string): string {
  const token = hasSession ? '' : issuer.sign({ sub: 'browser-user' })
  return `<!doctype html><html><head>
<meta name="authentication-url" content="/auth">
<meta name="csrf-token" content="${csrfToken}">
<meta name="has-session" content="${hasSession}">
<script src="/client.js"></script>
</head><body><p id="status">${hasSession ? 'signed in' : 'signed out'}</p>
<button id="sign-out">Sign out</button>
<script>
  const source = JwksBridge.functionSource(
    () => (localStorage.getItem('provider-signed-out') ? undefined : ${JSON.stringify(token)} || undefined),
    undefined,
    () => localStorage.setItem('provider-signed-out', '1'),
  )
  JwksBridge.start({ source })
  document.getElementById('sign-out').onclick = () => JwksBridge.signOut({ source })
</script></body></html>`
}

describe('the browser script against every adapter, in Chromium', { skip }, () => {
  let browser: Browser
  let clientScript: string
  before(async () => {
    clientScript = (await bundleClient()).iife
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })

  for (const [name, serve] of ADAPTER_APPS) {
    it(`${name}: sign in → reload keeps the session → sign out`, async () => {
      const stores = createMemoryStores()
      const bridge: Bridge = createBridge({
        verifier: issuer.verifierOptions(),
        identities: stores.identities,
        sessions: stores.sessions,
      })
      const app = await serve({ bridge, requestIdHeader: CONFORMANCE_REQUEST_ID_HEADER, page, clientScript })
      const context = await browser.newContext()
      try {
        const tab = await context.newPage()
        const errors: string[] = []
        tab.on('pageerror', (error) => errors.push(error.message))
        const puts: string[] = []
        tab.on('request', (request) => {
          if (request.method() !== 'GET') puts.push(`${request.method()} ${new URL(request.url()).pathname}`)
        })
        let loads = 0
        tab.on('load', () => loads++)

        await tab.goto(`${app.url}/`)
        await until(
          async () => (await tab.textContent('#status').catch(() => '')) === 'signed in',
          'the signed-in page',
        )
        assert.deepEqual(puts, ['PUT /auth'])
        const me = await context.request.get(`${app.url}/me`)
        assert.equal(me.status(), 200)
        assert.equal(((await me.json()) as { subject: string }).subject, 'browser-user')

        const before = loads
        await tab.reload()
        await until(() => loads > before, 'the reload')
        assert.equal(await tab.textContent('#status'), 'signed in')
        assert.deepEqual(puts, ['PUT /auth'], 'no second handoff')

        await tab.click('#sign-out')
        await until(
          async () => (await tab.textContent('#status').catch(() => '')) === 'signed out',
          'the signed-out page',
        )
        assert.deepEqual(puts, ['PUT /auth', 'DELETE /auth'])
        assert.equal((await context.request.get(`${app.url}/me`)).status(), 401)
        assert.deepEqual(errors, [])
      } finally {
        await context.close()
        await app.close()
      }
    })
  }
})
