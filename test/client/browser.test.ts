// needs: chromium
// The browser script in a real browser: Debian's chromium driven by playwright-core, against a fake
// bridge on 127.0.0.1 (fake-bridge-server.ts). Outside CI, a machine without /usr/bin/chromium skips
// this file with a message; in CI (CI=true) a missing browser fails it (test/helpers/browser.ts).
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { bundleClient } from '../../scripts/build-client.mjs'
import { launchChromium, skipWithoutBrowser as skip, until } from '../helpers/browser.ts'
import { AttackerServer } from './attacker-server.ts'
import { CSRF_TOKEN, FakeBridge } from './fake-bridge-server.ts'

/** How long the script gets to do something it should not do, before we conclude it did not. */
const SETTLE_MS = 200

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

describe('browser script in Chromium', { skip }, () => {
  let browser: Browser
  let bridge: FakeBridge
  /** The other origin an injection aims at: it must receive nothing. */
  let attacker: AttackerServer
  let context: BrowserContext
  let page: Page
  /** console errors and page errors (uncaught exceptions) */
  let errors: string[]
  let warnings: string[]
  /** load events of the page: a reload shows up here once the new document has loaded */
  let loads: number

  before(async () => {
    bridge = new FakeBridge(await bundleClient())
    await bridge.listen()
    attacker = new AttackerServer()
    await attacker.listen()
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await bridge?.close()
    await attacker?.close()
  })

  beforeEach(async () => {
    // One context for the file (cheaper on a shared machine), emptied between tests; a new page is a
    // new tab, so sessionStorage starts empty too.
    await page?.close()
    context ??= await browser.newContext()
    await context.clearCookies()
    bridge.reset()
    attacker.received = []
    errors = []
    warnings = []
    loads = 0
    page = await context.newPage()
    page.on('load', () => loads++)
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
      if (message.type() === 'warning') warnings.push(message.text())
    })
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
  })

  const signedInCookie = () => context.addCookies([{ name: 'sid', value: '1', url: bridge.origin }])
  // Through Document.prototype: some pages below clobber document.querySelector.
  const hasSessionMeta = () =>
    page.evaluate(
      `Document.prototype.querySelector.call(document, 'meta[name="has-session"]')?.getAttribute('content')`,
    )
  /** Errors other than the browser's own log line for an HTTP refusal the test asked for. */
  const unexpectedErrors = (...statuses: number[]) =>
    errors.filter(
      (e) =>
        !statuses.some((s) =>
          e.includes(`Failed to load resource: the server responded with a status of ${s}`),
        ),
    )

  it('classic script: one PUT of the provider token as JSON with the CSRF header, then a reload into the session', async () => {
    await page.goto(`${bridge.origin}/app?csrf=1`)
    await until(() => loads === 2, 'the reload')
    assert.equal(await hasSessionMeta(), 'true')
    await settle()
    assert.equal(bridge.puts.length, 1, 'one PUT for the page')
    const [put] = bridge.puts
    assert.equal(put!.tokenSerial, 1, 'the token the provider handed out')
    assert.equal(put!.contentType, 'application/json')
    assert.equal(put!.accept, 'application/json')
    assert.equal(put!.csrf === CSRF_TOKEN, true, 'X-CSRF-Token carries the csrf-token meta')
    assert.equal(put!.secFetchSite, 'same-origin')
    assert.equal(bridge.tokenCalls, 1, 'the signed-in page asks the provider for nothing')
    assert.equal(bridge.pageLoads, 2)
    assert.deepEqual(errors, [])
    assert.deepEqual(warnings, [])
  })

  it('ES module: the same handoff; no X-CSRF-Token when the page has no csrf-token meta', async () => {
    await page.goto(`${bridge.origin}/app?script=module`)
    await until(() => loads === 2, 'the reload')
    assert.equal(await hasSessionMeta(), 'true')
    await settle()
    assert.equal(bridge.puts.length, 1)
    assert.equal(bridge.puts[0]!.csrf, undefined)
    assert.deepEqual(errors, [])
  })

  it('has-session="true": no token is asked for and nothing is sent', async () => {
    await signedInCookie()
    await page.goto(`${bridge.origin}/app?csrf=1`)
    await settle()
    assert.equal(await hasSessionMeta(), 'true')
    assert.equal(await page.evaluate('typeof JwksBridge.start'), 'function', 'the script did load')
    assert.equal(bridge.puts.length, 0)
    assert.equal(bridge.tokenCalls, 0)
    assert.equal(bridge.pageLoads, 1)
    assert.deepEqual(errors, [])
  })

  it('no provider session: the token source gives nothing, nothing is sent, no reload', async () => {
    bridge.providerSignedIn = false
    await page.goto(`${bridge.origin}/app`)
    await until(() => bridge.tokenCalls === 1, 'the token request')
    await settle()
    assert.equal(bridge.puts.length, 0)
    assert.equal(bridge.pageLoads, 1)
    assert.deepEqual(warnings, [])
    assert.deepEqual(unexpectedErrors(401), [])
  })

  it('ERR_TOKEN_REPLAYED: retries once with a refreshed token, then reloads into the session', async () => {
    bridge.refusals = [{ status: 401, code: 'ERR_TOKEN_REPLAYED' }]
    await page.goto(`${bridge.origin}/app?csrf=1`)
    await until(() => loads === 2, 'the reload')
    await settle()
    assert.deepEqual(
      bridge.puts.map((p) => p.tokenSerial),
      [1, 2],
      'the second PUT carries a new token',
    )
    assert.equal(bridge.tokenCalls, 2)
    assert.equal(await hasSessionMeta(), 'true')
    assert.deepEqual(warnings, [])
    assert.deepEqual(unexpectedErrors(401), [])
  })

  it('refused again after the retry (ERR_JWT_TOO_OLD twice): stops after two PUTs and warns with the code only', async () => {
    bridge.refusals = [
      { status: 401, code: 'ERR_JWT_TOO_OLD' },
      { status: 401, code: 'ERR_JWT_TOO_OLD' },
      { status: 401, code: 'ERR_JWT_TOO_OLD' },
    ]
    await page.goto(`${bridge.origin}/app`)
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.equal(bridge.puts.length, 2)
    assert.equal(bridge.pageLoads, 1, 'no reload')
    assert.deepEqual(warnings, ['jwks-bridge: ERR_JWT_TOO_OLD'])
    assert.deepEqual(unexpectedErrors(401), [])
  })

  it('other refusals (403 ERR_CSRF_TOKEN_INVALID) are reported and not retried', async () => {
    bridge.refusals = [{ status: 403, code: 'ERR_CSRF_TOKEN_INVALID' }]
    await page.goto(`${bridge.origin}/app?csrf=1`)
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.equal(bridge.puts.length, 1)
    assert.equal(bridge.tokenCalls, 1)
    assert.equal(bridge.pageLoads, 1)
    assert.deepEqual(warnings, ['jwks-bridge: ERR_CSRF_TOKEN_INVALID'])
    assert.deepEqual(unexpectedErrors(403), [])
  })

  it('a session the browser does not keep: one reload, then ERR_SESSION_NOT_KEPT instead of a reload loop', async () => {
    bridge.keepSession = false
    await page.goto(`${bridge.origin}/app`)
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.equal(bridge.puts.length, 1)
    assert.equal(bridge.pageLoads, 2)
    assert.deepEqual(warnings, ['jwks-bridge: ERR_SESSION_NOT_KEPT'])
    assert.deepEqual(errors, [])
  })

  it('start() called again on the same page sends nothing more', async () => {
    bridge.refusals = [{ status: 403, code: 'ERR_CROSS_SITE_REQUEST' }]
    await page.goto(`${bridge.origin}/app`)
    await until(() => warnings.length > 0, 'the warning')
    await page.evaluate(`(async () => {
      await JwksBridge.start({ source: JwksBridge.devIssuerSource('/issuer') })
      await JwksBridge.start({ source: JwksBridge.devIssuerSource('/issuer') })
    })()`)
    await settle()
    assert.equal(bridge.puts.length, 1)
    assert.deepEqual(warnings, ['jwks-bridge: ERR_CROSS_SITE_REQUEST'])
  })

  it('refuses an authentication-url on another origin', async () => {
    await page.goto(`${bridge.origin}/app?auth=${encodeURIComponent(`${attacker.origin}/auth`)}`)
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.equal(bridge.puts.length, 0)
    assert.equal(bridge.tokenCalls, 0, 'the token is not even asked for')
    assert.deepEqual(attacker.received, [])
    assert.deepEqual(warnings, ['jwks-bridge: ERR_AUTHENTICATION_URL'])
    assert.deepEqual(errors, [])
  })

  it('Hotwire Turbo: cache cleared and a replace visit; turbo:load registered once; no second PUT for a visit', async () => {
    await page.goto(`${bridge.origin}/app?turbo=1&csrf=1`)
    const turboCalls = () => page.evaluate('window.turboCalls') as Promise<string[]>
    await until(async () => (await turboCalls()).length === 2, 'the Turbo visit')
    const href = page.url()
    assert.deepEqual(await turboCalls(), ['cache.clear', `visit ${href} replace`])
    assert.equal(bridge.puts.length, 1)

    // Turbo's own turbo:load for the first render, repeated; and start() called twice more.
    await page.evaluate(`(async () => {
      for (let i = 0; i < 3; i++) document.dispatchEvent(new Event('turbo:load'))
      await JwksBridge.start({ source: JwksBridge.devIssuerSource('/issuer') })
      await JwksBridge.start({ source: JwksBridge.devIssuerSource('/issuer') })
    })()`)
    await settle()
    assert.equal(bridge.puts.length, 1, 'no second PUT for the same visit')
    assert.equal(await page.evaluate('window.turboLoadListeners'), 1, 'one turbo:load listener')

    // Turbo renders a visit: head meta tags replaced by new elements, then turbo:load.
    const render = (hasSession: string) =>
      page.evaluate(`(() => {
        const meta = document.createElement('meta')
        meta.name = 'has-session'
        meta.content = ${JSON.stringify(hasSession)}
        document.head.querySelector('meta[name="has-session"]').replaceWith(meta)
        document.dispatchEvent(new Event('turbo:load'))
      })()`)

    await render('true') // the replace visit: the server now has the session
    await settle()
    assert.equal(bridge.puts.length, 1)

    await render('false') // a later visit without a session (signed out elsewhere): one new handoff
    await until(() => bridge.puts.length === 2, 'the second visit PUT')
    await until(async () => (await turboCalls()).length === 4, 'the second Turbo visit')
    await settle()
    assert.equal(bridge.puts.length, 2, 'one PUT for the new visit, not one per start() call')

    await render('false') // the replace visit still without a session: stop, do not loop
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.equal(bridge.puts.length, 2)
    assert.deepEqual(warnings, ['jwks-bridge: ERR_SESSION_NOT_KEPT'])
    assert.equal(bridge.pageLoads, 1, 'Turbo visits, never location.reload()')
    assert.deepEqual(errors, [])
  })

  it('signOut: DELETE the app session with the CSRF header, then the provider session, then reload', async () => {
    await signedInCookie()
    await page.goto(`${bridge.origin}/app?csrf=1`)
    assert.equal(await hasSessionMeta(), 'true')
    await page.evaluate(`void JwksBridge.signOut({ source: JwksBridge.devIssuerSource('/issuer') })`)
    await until(() => loads === 2 && bridge.tokenCalls === 1, 'the reload and its token request')
    await settle()
    assert.deepEqual(bridge.log.filter((line) => !line.endsWith('/client.js')).slice(-4), [
      'DELETE /auth',
      'POST /issuer/sign-out',
      'GET /app',
      'GET /issuer/token',
    ])
    assert.equal(bridge.deletes.length, 1)
    assert.equal(bridge.deletes[0]!.csrf === CSRF_TOKEN, true)
    assert.equal(bridge.providerSignedIn, false)
    assert.equal(await hasSessionMeta(), 'false')
    assert.equal(bridge.puts.length, 0, 'not signed in again')
    assert.deepEqual(warnings, [])
    assert.deepEqual(unexpectedErrors(401), [])
  })

  it('signOut with reload: false leaves the navigation to the provider (no reload)', async () => {
    await signedInCookie()
    await page.goto(`${bridge.origin}/app?csrf=1`)
    await page.evaluate(
      `JwksBridge.signOut({ source: JwksBridge.devIssuerSource('/issuer'), reload: false })`,
    )
    assert.equal(bridge.providerSignedIn, false, 'signOut resolved after the provider sign-out')
    await settle()
    assert.equal(bridge.deletes.length, 1)
    assert.equal(loads, 1, 'no reload')
    assert.deepEqual(errors, [])
    assert.deepEqual(warnings, [])
  })

  // Issue #10: HTML injection (user content rendered unescaped, no script of the attacker's running)
  // must not move the token, the CSRF token or the sign-out to another origin or another endpoint.
  /** The page with the given query (fake-bridge-server.ts: `head`, `body` inject HTML). */
  const appUrl = (query: Record<string, string>) => `${bridge.origin}/app?${new URLSearchParams(query)}`
  /** The requests of the page, without the script's own download. */
  const routes = () => bridge.log.filter((line) => !/^GET \/client\.m?js$/.test(line))
  const injectedBase = () => `<base href="${attacker.origin}/">`
  const NOT_UNIQUE = 'jwks-bridge: ERR_META_TAG_NOT_UNIQUE'
  const metaError = (name: string) => `jwks-bridge: <meta name="${name}"> must be in <head>, once`

  it('issue #10, <base href> injected in <body>: the handoff PUT (JWT, X-CSRF-Token) goes to the page origin; the <base> origin receives nothing', async () => {
    await page.goto(appUrl({ csrf: '1', source: 'function', body: injectedBase() }))
    await until(() => loads === 2, 'the reload')
    await settle()
    assert.equal(await page.evaluate('document.baseURI'), `${attacker.origin}/`, 'the <base> is in effect')
    assert.deepEqual(attacker.received, [], 'nothing reaches the <base> origin')
    assert.equal(bridge.puts.length, 1)
    assert.equal(bridge.puts[0]!.tokenSerial, 1)
    assert.equal(bridge.puts[0]!.csrf === CSRF_TOKEN, true)
    assert.equal(await hasSessionMeta(), 'true')
    assert.deepEqual(warnings, [])
    assert.deepEqual(errors, [])
  })

  it('issue #10, <base href> injected in <body>: devIssuerSource asks the page origin for the token, not the <base> origin (whose own token would sign the user in as the attacker)', async () => {
    await page.goto(appUrl({ csrf: '1', body: injectedBase() }))
    await until(() => loads === 2, 'the reload')
    await settle()
    assert.deepEqual(attacker.received, [], 'nothing reaches the <base> origin')
    assert.equal(bridge.tokenCalls, 1)
    assert.deepEqual(
      bridge.puts.map((p) => p.tokenSerial),
      [1],
      "the page origin's token, sent to the page origin",
    )
    assert.equal(await hasSessionMeta(), 'true')
    assert.deepEqual(errors, [])
  })

  it('issue #10, <base href> injected in <body>: signOut sends the DELETE (X-CSRF-Token) and the provider sign-out to the page origin', async () => {
    await signedInCookie()
    await page.goto(appUrl({ csrf: '1', body: injectedBase() }))
    await page.evaluate(
      `JwksBridge.signOut({ source: JwksBridge.devIssuerSource('/issuer'), reload: false })`,
    )
    await settle()
    assert.deepEqual(attacker.received, [], 'nothing reaches the <base> origin')
    assert.deepEqual(routes(), ['GET /app', 'DELETE /auth', 'POST /issuer/sign-out'])
    assert.equal(bridge.deletes[0]!.csrf === CSRF_TOKEN, true)
    assert.equal(bridge.providerSignedIn, false)
    assert.deepEqual(warnings, [])
    assert.deepEqual(errors, [])
  })

  it('issue #10, resolved once: a <base href> added to <head> after the script read the page (while the token is fetched) does not move the PUT', async () => {
    await page.goto(appUrl({ csrf: '1', start: '0' }))
    await page.evaluate(`JwksBridge.start({ source: JwksBridge.functionSource(async () => {
      const base = document.createElement('base')
      base.href = ${JSON.stringify(`${attacker.origin}/`)}
      document.head.append(base)
      return (await (await fetch(location.origin + '/issuer/token')).json()).jwt
    }) })`)
    await until(() => loads === 2, 'the reload')
    await settle()
    assert.deepEqual(attacker.received, [], 'nothing reaches the <base> origin')
    assert.equal(bridge.puts.length, 1)
    assert.equal(bridge.puts[0]!.csrf === CSRF_TOKEN, true)
    assert.deepEqual(errors, [])
  })

  it('devIssuerSource on another origin than the page is refused (ERR_TOKEN_SOURCE): that origin is never asked for a token', async () => {
    await page.goto(appUrl({ issuer: `${attacker.origin}/issuer` }))
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.deepEqual(attacker.received, [])
    assert.equal(bridge.puts.length, 0)
    assert.deepEqual(warnings, ['jwks-bridge: ERR_TOKEN_SOURCE'])
    assert.deepEqual(errors, [])
  })

  // Each meta tag the script relies on must be in <head>, once; an injected one before or after the
  // real one is refused rather than guessed between.
  const injectedMeta = (name: string, content: string) => `<meta name="${name}" content="${content}">`
  for (const [label, query, name] of [
    ['authentication-url only in <body>', { bodymeta: '1' }, 'authentication-url'],
    [
      'a second authentication-url in <body>, after the real one',
      { body: injectedMeta('authentication-url', '/elsewhere') },
      'authentication-url',
    ],
    [
      'an authentication-url injected in <head> before the real one',
      { head: injectedMeta('authentication-url', '/elsewhere') },
      'authentication-url',
    ],
    [
      'has-session="true" injected in <head> before the real "false"',
      { head: injectedMeta('has-session', 'true') },
      'has-session',
    ],
    [
      'has-session="true" in <body>, after the real "false"',
      { body: injectedMeta('has-session', 'true') },
      'has-session',
    ],
    [
      'a csrf-token injected in <head> before the real one',
      { csrf: '1', head: injectedMeta('csrf-token', 'injected') },
      'csrf-token',
    ],
    ['a csrf-token only in <body>', { body: injectedMeta('csrf-token', 'injected') }, 'csrf-token'],
  ] as const) {
    it(`issue #10, meta tags once and in <head>: ${label} is refused (ERR_META_TAG_NOT_UNIQUE), nothing is asked for or sent`, async () => {
      await page.goto(appUrl({ source: 'function', ...query }))
      await until(() => warnings.length > 0, 'the warning')
      await settle()
      assert.deepEqual(routes(), ['GET /app'], 'no token asked for, nothing sent')
      assert.deepEqual(warnings, [NOT_UNIQUE])
      assert.deepEqual(errors, [metaError(name)], 'a console error names the tag')
    })
  }

  it('issue #10, meta tags once and in <head>: signOut with a second csrf-token sends no DELETE, still ends the provider session, reports ERR_META_TAG_NOT_UNIQUE', async () => {
    await signedInCookie()
    await page.goto(appUrl({ csrf: '1', body: injectedMeta('csrf-token', 'injected') }))
    await page.evaluate(
      `JwksBridge.signOut({ source: JwksBridge.devIssuerSource('/issuer'), reload: false })`,
    )
    await settle()
    assert.deepEqual(routes(), ['GET /app', 'POST /issuer/sign-out'], 'no DELETE')
    assert.equal(bridge.providerSignedIn, false)
    assert.deepEqual(warnings, [NOT_UNIQUE])
    assert.deepEqual(errors, [metaError('csrf-token')])
  })

  it('issue #10, DOM clobbering: <form name="head"> in <body> (document.head is then the form) with its own meta tags does not stand in for <head>', async () => {
    const form = `<form name="head">${injectedMeta('authentication-url', '/elsewhere')}${injectedMeta('has-session', 'false')}${injectedMeta('csrf-token', 'injected')}</form>`
    await signedInCookie()
    await page.goto(appUrl({ csrf: '1', source: 'function', body: form }))
    await until(() => warnings.length > 0, 'the warning')
    await settle()
    assert.equal(await page.evaluate('String(document.head)'), '[object HTMLFormElement]', 'clobbered')
    assert.deepEqual(routes(), ['GET /app'], 'no token asked for, nothing sent')
    assert.deepEqual(warnings, [NOT_UNIQUE])
    assert.deepEqual(errors, [metaError('has-session')])
  })

  it('issue #10, DOM clobbering: <img id="Turbo"> on a page without Turbo does not stop the reload after a handoff', async () => {
    await page.goto(appUrl({ body: '<img id="Turbo" name="Turbo" alt="">' }))
    await until(() => loads === 2, 'the reload')
    await settle()
    assert.equal(await page.evaluate('String(window.Turbo)'), '[object HTMLImageElement]', 'clobbered')
    assert.equal(bridge.puts.length, 1)
    assert.equal(await hasSessionMeta(), 'true')
    assert.deepEqual(errors, [])
  })

  it('issue #10, DOM clobbering: named elements for fetch, URL, location, sessionStorage, console and document.querySelectorAll/querySelector/body/readyState change nothing', async () => {
    const globals = ['fetch', 'URL', 'location', 'sessionStorage', 'console', 'Document', 'JSON']
    const documentProperties = ['querySelectorAll', 'querySelector', 'body', 'readyState']
    const body = [
      ...globals.map((name) => `<img id="${name}" name="${name}" alt="">`),
      ...documentProperties.map((name) => `<img name="${name}" alt="">`),
    ].join('')
    // The ES module runs after the whole page is parsed: every named element is in place by then.
    await page.goto(appUrl({ csrf: '1', script: 'module', body }))
    await until(() => loads === 2, 'the reload')
    await settle()
    assert.equal(await page.evaluate('typeof document.querySelectorAll'), 'object', 'clobbered')
    assert.equal(bridge.puts.length, 1)
    assert.equal(bridge.puts[0]!.csrf === CSRF_TOKEN, true)
    assert.equal(await hasSessionMeta(), 'true')
    assert.deepEqual(attacker.received, [])
    assert.deepEqual(warnings, [])
    assert.deepEqual(errors, [])
  })
})
