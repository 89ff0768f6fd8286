// needs: chromium, build
// The reference app in a real browser (issue 5, item 5): Debian's chromium driven by playwright-core,
// against the app started in-process with the development identity provider and its own SQLite file.
// Outside CI, a machine without /usr/bin/chromium skips this file with a message; in CI it fails.
//
// The scenarios run in order and share one browser; each works in its own context (cookie jar).
// Every page of every context is watched: the last test checks that none showed a console error or
// warning, or threw, except the refusals the cross-site scenario provokes on purpose.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium, skipWithoutBrowser as skip, until } from '../helpers/browser.ts'
import { startTestApp, type TestApp } from './app-fixture.ts'
import { AttackerSite } from './attacker-server.ts'
import { ContextWatch, type Expected } from './page-watch.ts'
import { startTurboFront, type TurboFront } from './turbo-front.ts'

/** Bound for each browser step (a navigation, a selector). */
const STEP_MS = 5000
/** How long the page script gets to do something it should not do, before we conclude it did not. */
const SETTLE_MS = 300
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

const SESSION_COOKIE = 'jwks-bridge-session'
/** Text matched literally in a RegExp. */
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A Set-Cookie line's name only: failure messages never show a cookie's value. */
const cookieName = (line: string) => line.split('=')[0]

// The whole file is bounded too: a browser that hangs fails the run, it does not stall it.
describe('reference app in Chromium', { skip, timeout: 120_000 }, () => {
  let browser: Browser
  let test: TestApp
  let url: string
  const watches: ContextWatch[] = []
  /** Problems the cross-site scenario provokes on purpose: the browser logs the app's refusals. */
  const provoked: Expected[] = []

  before(async () => {
    test = await startTestApp()
    url = test.url
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await test?.close()
  })

  /** A new cookie jar with a page in it, watched. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page; watch: ContextWatch }> {
    const context = await browser.newContext()
    context.setDefaultTimeout(STEP_MS)
    context.setDefaultNavigationTimeout(STEP_MS)
    const watch = new ContextWatch(context)
    watches.push(watch)
    return { context, page: await context.newPage(), watch }
  }

  /**
   * The whole sign-in as a user does it: the link, the provider's form, back on the app's page,
   * where the script hands the token over and refreshes into the session (shown by #subject).
   */
  async function signIn(page: Page, name: string, start = `${url}/`, expectSession = true): Promise<void> {
    await page.goto(start)
    await page.click('#sign-in')
    await page.waitForURL((u) => u.pathname === '/dev-issuer/sign-in')
    await page.fill('#username', name)
    await page.click('button[type="submit"]')
    if (expectSession) await page.waitForSelector('#subject')
    else await page.waitForURL(start)
  }

  const text = (page: Page, selector: string) => page.textContent(selector)

  describe('signed in through the development provider (one context for 1-3)', () => {
    let context: BrowserContext
    let page: Page
    let watch: ContextWatch
    let identityId: string | null

    before(async () => {
      ;({ context, page, watch } = await newPage())
    })

    it('1. signs in through the development provider and shows the identity; GET /me answers it', async () => {
      await page.goto(`${url}/`)
      assert.equal(await text(page, '#status'), 'You are not signed in.')
      await signIn(page, 'ada')
      assert.equal(page.url(), `${url}/`)
      assert.equal(await text(page, '#subject'), 'ada')
      identityId = await text(page, '#identity-id')
      assert.match(identityId ?? '', /^[A-Za-z0-9_-]{10,}$/)
      assert.equal(await page.getAttribute('meta[name="has-session"]', 'content'), 'true')
      assert.equal(watch.count('PUT', `${url}/auth`), 1, 'one handoff')

      const me = (await page.evaluate(async () => {
        const response = await fetch('/me', { headers: { accept: 'application/json' } })
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          body: await response.json(),
        }
      })) as { status: number; type: string; body: { id: string; subject: string; issuer: string } }
      assert.equal(me.status, 200)
      assert.match(me.type, /^application\/json/)
      assert.equal(me.body.subject, 'ada')
      assert.equal(me.body.id, identityId)
      assert.equal(me.body.issuer, `${url}/dev-issuer`)
      assert.equal(test.rows('sessions'), 1)
    })

    it('2. a reload keeps the session: no second handoff, no token asked for', async () => {
      const puts = watch.count('PUT', `${url}/auth`)
      const tokens = watch.count('GET', `${url}/dev-issuer/token`)
      await page.reload()
      await page.waitForSelector('#subject')
      await settle()
      assert.equal(await text(page, '#subject'), 'ada')
      assert.equal(await text(page, '#identity-id'), identityId)
      assert.equal(watch.count('PUT', `${url}/auth`), puts, 'no second PUT /auth')
      assert.equal(
        watch.count('GET', `${url}/dev-issuer/token`),
        tokens,
        'a signed-in page asks for no token',
      )
      assert.equal(watch.count('GET', `${url}/`) >= 3, true, 'the page was loaded again')
    })

    it('3. sign-out ends the app session and the provider session; the page shows signed out', async () => {
      const puts = watch.count('PUT', `${url}/auth`)
      await page.click('#sign-out')
      await page.waitForSelector('#sign-in')
      await settle()
      assert.equal(await text(page, '#status'), 'You are not signed in.')
      assert.equal(await page.getAttribute('meta[name="has-session"]', 'content'), 'false')
      assert.equal(watch.count('DELETE', `${url}/auth`), 1)
      assert.equal(watch.count('POST', `${url}/dev-issuer/sign-out`), 1)
      assert.equal(watch.count('PUT', `${url}/auth`), puts, 'not signed in again by the reloaded page')

      assert.equal(
        (await context.cookies()).some((c) => c.name === SESSION_COOKIE),
        false,
        'cookie cleared',
      )
      assert.equal((await context.request.get(`${url}/me`)).status(), 401)
      // The provider's session is over too: its token endpoint has nobody to answer for.
      assert.equal((await context.request.get(`${url}/dev-issuer/token`)).status(), 204)
      assert.equal(test.rows('sessions'), 0, 'the session row is gone')
    })
  })

  describe('4. a cross-site page that posts a valid token is refused', () => {
    let attacker: AttackerSite
    let victim: { context: BrowserContext; page: Page; watch: ContextWatch }

    before(async () => {
      attacker = new AttackerSite()
      await attacker.listen()
      attacker.target = `${url}/auth`
      // The attacker's own valid token, from the provider out of band: signed in on its page in
      // another context, then its token endpoint opened in that tab (the sign-in page's CSP allows
      // no fetch, and the app's page would hand the token over itself).
      const mallory = await newPage()
      await mallory.page.goto(`${url}/dev-issuer/sign-in`)
      await mallory.page.fill('#username', 'mallory')
      await mallory.page.click('button[type="submit"]')
      await mallory.page.waitForSelector('#status')
      const answer = await mallory.page.goto(`${url}/dev-issuer/token`)
      assert.ok(answer)
      assert.equal(answer.status(), 200)
      attacker.token = ((await answer.json()) as { jwt: string }).jwt
      assert.equal(attacker.token.split('.').length, 3, 'a compact JWS from the provider')
      await mallory.context.close()
      victim = await newPage()
      // The victim has used the app before: its pre-session (CSRF) cookie is in the jar.
      await victim.page.goto(`${url}/`)
    })

    after(async () => {
      await attacker?.close()
    })

    /**
     * Loads an attacker page and returns the app's answer to the request it makes, as the app's
     * server saw it (the browser hides an opaque no-cors answer), and the error code when the
     * browser shows the answer (the form's navigation).
     */
    async function attack(origin: string, path: '/form' | '/fetch') {
      provoked.push({
        page: new RegExp(`^(${literal(`${origin}${path}`)}|${literal(`${url}/auth`)})$`),
        text: /^error: Failed to load resource: the server responded with a status of 403 \(Forbidden\)$/,
      })
      const seen = test.exchanges.length
      const answer = victim.page.waitForResponse((r) => r.url() === attacker.target, { timeout: STEP_MS })
      await victim.page.goto(`${origin}${path}`)
      const response = await answer
      await until(
        () => test.exchanges.slice(seen).some((e) => e.url === '/auth'),
        'the app to answer',
        STEP_MS,
      )
      const exchange = test.exchanges.slice(seen).find((e) => e.url === '/auth')
      assert.ok(exchange)
      let code: string | undefined
      if (path === '/form') code = ((await response.json()) as { error: { code: string } }).error.code
      return { ...exchange, code }
    }

    const sessionsBefore = () => test.rows('sessions')

    for (const [label, originOf, site] of [
      ['another port of 127.0.0.1 (same site, another origin)', () => attacker.origin, 'same-site'],
      ['localhost (another site)', () => attacker.localhostOrigin, 'cross-site'],
    ] as const) {
      it(`from ${label}: a self-submitting form is answered 403 ERR_CROSS_SITE_REQUEST`, async () => {
        const rows = sessionsBefore()
        const used = test.rows('used_tokens')
        const result = await attack(originOf(), '/form')
        assert.equal(result.method, 'POST')
        assert.equal(result.origin, originOf(), 'the browser named the attacking origin')
        assert.equal(result.secFetchSite, site)
        assert.equal(result.status, 403)
        assert.equal(result.code, 'ERR_CROSS_SITE_REQUEST')
        assert.deepEqual(result.setCookie.map(cookieName), [], 'no Set-Cookie at all')
        await expectNoSession(rows, used)
      })

      it(`from ${label}: fetch in no-cors mode is answered 403 and sets no cookie`, async () => {
        const rows = sessionsBefore()
        const used = test.rows('used_tokens')
        const result = await attack(originOf(), '/fetch')
        // The page's fetch resolved with an opaque answer: the browser sent it and shows nothing.
        await until(async () => (await victim.page.title()) === 'sent', 'the fetch to resolve', STEP_MS)
        assert.equal(result.method, 'POST')
        assert.equal(result.origin, originOf())
        assert.equal(result.secFetchSite, site)
        assert.equal(result.status, 403)
        assert.deepEqual(result.setCookie.map(cookieName), [])
        await expectNoSession(rows, used)
      })
    }

    async function expectNoSession(rows: number, used: number): Promise<void> {
      const cookies = await victim.context.cookies()
      assert.equal(
        cookies.some((c) => c.name.includes(SESSION_COOKIE) && !c.name.endsWith('-csrf')),
        false,
      )
      assert.equal((await victim.context.request.get(`${url}/me`)).status(), 401)
      assert.equal(test.rows('sessions'), rows, 'no session row was written')
      // Refused before the token was even read: it is not spent, so nothing at all was stored.
      assert.equal(test.rows('used_tokens'), used, 'the token was not even consumed')
      assert.equal(
        (await test.app.stores.identities.findBySubject(`${url}/dev-issuer`, 'mallory')) === undefined,
        true,
        'no identity for the attacker either',
      )
    }

    it('control: the same token from the app’s own page would have signed in (the origin made the difference)', async () => {
      // The victim's tab goes back to the app; the app's own script sends it (same origin, CSRF header).
      const page = victim.page
      await page.goto(`${url}/`)
      const csrf = (await page.getAttribute('meta[name="csrf-token"]', 'content')) ?? ''
      const sent = (await page.evaluate(
        async ({ jwt, csrf }) => {
          const response = await fetch('/auth', {
            method: 'PUT',
            headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
            body: JSON.stringify({ jwt }),
          })
          return response.status
        },
        { jwt: attacker.token, csrf },
      )) as number
      assert.equal(sent, 200)
      assert.equal((await victim.context.request.get(`${url}/me`)).status(), 200)
      // Signed out again, so the scenarios after this one start from no session.
      await page.goto(`${url}/`)
      await page.click('#sign-out')
      await page.waitForSelector('#sign-in')
      assert.equal(test.rows('sessions'), 0)
    })
  })

  describe('5. Hotwire Turbo (a Turbo app in front of the reference app: turbo-front.ts)', () => {
    let front: TurboFront
    const log = (page: Page) =>
      page.evaluate('({ visits: window.turboLog, clears: window.cacheClears })') as Promise<{
        visits: string[]
        clears: number
      }>

    before(async () => {
      front = await startTurboFront()
    })

    after(async () => {
      await front?.close()
    })

    it('signs in, navigates A → B → back (restoration visit) without a second handoff', async () => {
      const { page, watch } = await newPage()
      const origin = front.origin
      let fullLoads = 0
      page.on('load', () => fullLoads++)
      await signIn(page, 'grace', `${origin}/a`)
      // The handoff ended in Turbo's replace visit of A, which now shows the identity.
      await until(
        async () => (await log(page)).visits.includes('visit replace'),
        'the replace visit',
        STEP_MS,
      )
      assert.equal(await text(page, '#page'), 'A')
      assert.equal(await text(page, '#subject'), 'grace')
      assert.equal((await log(page)).clears, 1, 'Turbo.cache.clear once, after the handoff')
      const loadsAfterSignIn = fullLoads

      await page.click('#to-b')
      await page.waitForSelector('#page:text("B")')
      assert.equal(page.url(), `${origin}/b`)
      assert.equal(await text(page, '#subject'), 'grace')
      const servedA = front.served.A
      await page.goBack()
      await page.waitForSelector('#page:text("A")')
      await settle()
      assert.equal(page.url(), `${origin}/a`)
      assert.equal(await text(page, '#subject'), 'grace')

      const { visits, clears } = await log(page)
      assert.deepEqual(visits, ['visit replace', 'visit advance', 'visit restore'])
      assert.equal(clears, 1, 'no second cache clear')
      assert.equal(fullLoads, loadsAfterSignIn, 'Turbo visits only, no full page load')
      // Back showed A from Turbo's snapshot cache, the copy a stale has-session="false" would live in.
      assert.equal(front.served.A, servedA, 'A restored from the cache, not fetched again')
      assert.equal(watch.count('PUT', `${origin}/auth`), 1, 'one handoff for the whole walk')
      assert.deepEqual(watch.unexpected(), [])
      assert.equal(front.test.rows('sessions'), 1)
    })

    it('a session the browser does not keep: one handoff, one Turbo refresh, then ERR_SESSION_NOT_KEPT (no loop)', async () => {
      const { page, watch } = await newPage()
      const origin = front.origin
      front.dropSessionCookie = true
      provoked.push({
        page: new RegExp(`^${literal(`${origin}/a`)}$`),
        text: /^warning: jwks-bridge: ERR_SESSION_NOT_KEPT$/,
      })
      try {
        await signIn(page, 'linus', `${origin}/a`, false)
        await until(
          async () => (await log(page)).visits.includes('visit replace'),
          'the replace visit',
          STEP_MS,
        )
        await until(() => watch.problems.length > 0, 'the warning', STEP_MS)
        await settle()
        assert.equal(await page.getAttribute('meta[name="has-session"]', 'content'), 'false')
        assert.equal(watch.count('PUT', `${origin}/auth`), 1, 'no second handoff for the refreshed page')
        assert.deepEqual(
          watch.problems.map((p) => p.text),
          ['warning: jwks-bridge: ERR_SESSION_NOT_KEPT'],
        )
      } finally {
        front.dropSessionCookie = false
      }
    })
  })

  it('6. the session cookie: HttpOnly, SameSite=Lax, Path=/, no Domain; plain http on 127.0.0.1: no Secure, no __Host-', async () => {
    const { context, page } = await newPage()
    const handoff = page.waitForResponse((r) => r.url() === `${url}/auth` && r.request().method() === 'PUT', {
      timeout: 3 * STEP_MS,
    })
    const signedIn = signIn(page, 'hedy')
    const response = await handoff
    await signedIn
    const line = ((await response.headerValue('set-cookie')) ?? '')
      .split('\n')
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`))
    assert.ok(line, 'the handoff sets the session cookie, without a prefix')
    const attributes = line
      .split(';')
      .slice(1)
      .map((a) => a.trim().split('=')[0]?.toLowerCase())
    assert.deepEqual(attributes.sort(), ['httponly', 'max-age', 'path', 'samesite'])
    // Booleans, not assert.match: a failure must not print the session token.
    assert.equal(/; Path=\/(;|$)/.test(line), true, 'Path=/')
    assert.equal(/; SameSite=Lax(;|$)/.test(line), true, 'SameSite=Lax')

    const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)
    assert.ok(cookie, 'the browser kept it')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'Lax')
    assert.equal(cookie.path, '/')
    assert.equal(cookie.secure, false)
    assert.equal(cookie.domain, '127.0.0.1', 'host-only: no Domain attribute')
    assert.equal(
      (await context.cookies()).some((c) => c.name.startsWith('__Host-')),
      false,
    )
    // HttpOnly as the page sees it: no script can read the session.
    assert.equal(((await page.evaluate('document.cookie')) as string).includes(SESSION_COOKIE), false)
  })

  it('7. no console error or warning and no uncaught exception on any page visited', async () => {
    const visited = new Set(watches.flatMap((w) => w.visited).map((u) => new URL(u).pathname))
    for (const path of ['/', '/dev-issuer/sign-in', '/form', '/fetch', '/a', '/b']) {
      assert.equal(visited.has(path), true, `${path} was visited`)
    }
    const problems = watches.flatMap((w) => w.unexpected(provoked))
    assert.deepEqual(problems, [])
    // The watch does see console messages: each provocation (the four refusals of scenario 4, the
    // warning for a session the browser did not keep) was logged once, and nothing else was.
    assert.equal(provoked.length, 5)
    assert.equal(watches.flatMap((w) => w.problems).length, provoked.length)
  })
})
