// examples/nextjs, as a user runs it: installed from its own lockfile (npm ci), built with
// `next build`, served by `next start` on 127.0.0.1 behind a TLS-terminating proxy (as production runs
// it: https, so cookies are Secure and __Host-), and driven by Chromium: sign in through the
// development provider, reload, sign out, with the CSRF token the page renders (csrf is on by default). The app reaches jwks-bridge as `file:../..`: dist/ must be
// built (npm ci at the root runs prepare; locally: npm run build).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { freePort } from '../../src/app/free-port.ts'
import { launchChromium, skipWithoutBrowser as skip, until } from '../helpers/browser.ts'
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const example = join(root, 'examples/nextjs')
const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_OPTIONS: '' }
delete env.NODE_ENV

function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: example, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.slice(-3000)}`))
    })
  })
}

describe('examples/nextjs: next build, next start, and a sign-in in Chromium', {
  skip,
  timeout: 900_000,
}, () => {
  let server: ChildProcess | undefined
  let proxy: TlsProxy | undefined
  let url = ''
  let browser: Browser
  let page: Page
  const calls: string[] = []

  before(async () => {
    assert.ok(existsSync(join(root, 'dist/adapters/fetch.js')), 'dist/ is built (npm run build)')
    // No install scripts: the file:../.. dependency's `prepare` would rebuild dist/ under the other
    // test files reading it (and the example's own dependencies need none).
    await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], 600_000)
    await run(join(example, 'node_modules/.bin/next'), ['build'], 600_000)
    const port = await freePort('127.0.0.1')
    // Browsers reach the app only through the proxy: its https URL is the app's PUBLIC_URL.
    proxy = await startTlsProxy(port)
    url = proxy.url
    server = spawn(
      join(example, 'node_modules/.bin/next'),
      ['start', '--hostname', '127.0.0.1', '--port', String(port)],
      {
        cwd: example,
        // The development provider under `next start` (NODE_ENV=production), on loopback only.
        env: { ...env, PORT: String(port), PUBLIC_URL: url, DEV_ISSUER_IN_PRODUCTION: 'anyone-can-sign-in' },
        stdio: 'ignore',
        detached: true,
      },
    )
    await until(
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.status === 200,
      'next start to answer',
      60_000,
    )
    browser = await launchChromium()
    // The proxy's certificate is self-signed, made for this run.
    page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage()
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname
      if (path === '/auth') calls.push(`${request.method()} ${path}`)
    })
  })

  after(async () => {
    await browser?.close()
    // next start runs next-server as its child: end the whole group this test started.
    if (server?.pid !== undefined) process.kill(-server.pid, 'SIGTERM')
    await proxy?.close()
  })

  const status = () => page.textContent('#status')

  it('signs in through the development provider: the server component shows the identity', async () => {
    await page.goto(`${url}/`)
    assert.equal(await status(), 'You are not signed in.')
    assert.equal(await page.getAttribute('meta[name="has-session"]', 'content'), 'false')
    // The CSRF pair from proxy.ts: the token in <head>, the same value in the __Host- cookie.
    const token = await page.getAttribute('head > meta[name="csrf-token"]', 'content')
    assert.match(token ?? '', /^[A-Za-z0-9_-]{43}$/)
    const csrfCookie = (await page.context().cookies()).find(
      (c) => c.name === '__Host-jwks-bridge-session-csrf',
    )
    assert.equal(csrfCookie?.value, token)
    assert.equal(csrfCookie?.secure, true)
    await page.click('#sign-in')
    await page.waitForURL((u) => u.pathname === '/dev-issuer/sign-in')
    await page.fill('#username', 'grace')
    await page.click('button[type="submit"]')
    await page.waitForSelector('#subject', { timeout: 20_000 })
    assert.equal(await page.textContent('#subject'), 'grace')
    assert.equal(await page.getAttribute('meta[name="has-session"]', 'content'), 'true')
    assert.deepEqual(calls, ['PUT /auth'])
    // Over https the session cookie is the production one: __Host-, Secure, HttpOnly.
    const session = (await page.context().cookies()).find((c) => c.name.endsWith('jwks-bridge-session'))
    assert.equal(session?.name, '__Host-jwks-bridge-session')
    assert.equal(session?.secure, true)
    assert.equal(session?.httpOnly, true)
  })

  it('a reload keeps the session, with no second handoff', async () => {
    await page.reload()
    await page.waitForSelector('#subject')
    assert.equal(await page.textContent('#subject'), 'grace')
    assert.deepEqual(calls, ['PUT /auth'])
  })

  it('signs out: the app session and the provider session end', async () => {
    await page.click('#sign-out')
    await page.waitForSelector('#sign-in', { timeout: 20_000 })
    assert.equal(await status(), 'You are not signed in.')
    assert.deepEqual(calls, ['PUT /auth', 'DELETE /auth'])
    const cookies = await page.context().cookies()
    assert.equal(
      cookies.some((cookie) => cookie.name.endsWith('jwks-bridge-session')),
      false,
    )
  })
})
