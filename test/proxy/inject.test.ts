// INJECT_META_TAGS end to end: the reference app in reverse-proxy mode in front of a Node upstream
// that renders HTML pages without the meta tags, plain HTTP clients and one sign-in in Chromium.
import assert from 'node:assert/strict'
import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import type { Browser } from 'playwright-core'
import { startTestApp, type TestApp } from '../app/app-fixture.ts'
import { launchChromium, skipWithoutBrowser } from '../helpers/browser.ts'
import { NAVIGATION, signInCookie } from './support.ts'

const STEP_MS = 10_000

/** An upstream page that knows nothing of the meta tags: the scripts, and who the headers say is signed in. */
function legacyPage(subject: string): string {
  return `<!doctype html>
<html lang="en"><head data-x="1"><meta charset="utf-8"><title>Legacy</title>
<meta name="dev-issuer" content="/dev-issuer">
<script src="/assets/jwks-bridge-client.min.js" defer></script>
<script src="/auth/app.js" defer></script>
</head><body><h1>Legacy app</h1><p id="subject">${subject}</p>
<a id="sign-in" href="/dev-issuer/sign-in?return_to=%2Fpublic%2Fpage">Sign in</a></body></html>
`
}

const BIG_HEAD = `<!doctype html><!-- ${'x'.repeat(70 * 1024)} --><html><head><title>Big</title></head></html>`

interface Html {
  url: string
  seen: IncomingHttpHeaders[]
  /** Ends the held /public/slow response. */
  release(): void
  close(): Promise<void>
}

async function startHtmlUpstream(): Promise<Html> {
  const seen: IncomingHttpHeaders[] = []
  let release = () => {}
  const server = http.createServer((req, res) => {
    seen.push(req.headers)
    const html = { 'content-type': 'text/html; charset=utf-8' }
    const path = req.url ?? ''
    if (path === '/public/page' || path === '/private') {
      const subject = String(req.headers['x-auth-subject'] ?? '')
      const body = legacyPage(subject.replace(/[^A-Za-z0-9_-]/g, ''))
      res.writeHead(200, { ...html, 'content-length': Buffer.byteLength(body), etag: '"v1"' })
      res.end(req.method === 'HEAD' ? undefined : body)
    } else if (path === '/public/json') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}')
    } else if (path === '/public/gzip') {
      // An upstream that compresses whatever it is asked.
      res.writeHead(200, { ...html, 'content-encoding': 'gzip' }).end(gzipSync(legacyPage('')))
    } else if (path === '/public/big-head') {
      res.writeHead(200, html).end(BIG_HEAD)
    } else if (path === '/public/cached') {
      res.writeHead(304, { etag: '"v1"' }).end()
    } else if (path === '/public/slow') {
      res.writeHead(200, html)
      res.write('<html><head><title>Slow</title>')
      release = () => res.end('</head><body>late</body></html>')
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    release: () => release(),
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

function request(method: string, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .request(url, { method, headers }, (response) => {
        const parts: Buffer[] = []
        response.on('data', (chunk: Buffer) => parts.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(parts),
          }),
        )
      })
      .on('error', reject)
      .end()
  })
}

const TAGS =
  /^<meta name="authentication-url" content="\/auth"><meta name="has-session" content="(true|false)"><meta name="csrf-token" content="[A-Za-z0-9_-]{43}">/

describe('INJECT_META_TAGS: the reverse proxy writes the meta tags into upstream pages', {
  timeout: 120_000,
}, () => {
  let upstream: Html
  let test: TestApp
  let url: string
  let browser: Browser | undefined

  before(async () => {
    upstream = await startHtmlUpstream()
    test = await startTestApp({
      UPSTREAM_URL: upstream.url,
      PUBLIC_PATHS: '/public/',
      INJECT_META_TAGS: 'true',
    })
    url = test.url
  })

  after(async () => {
    await browser?.close()
    await test?.close()
    await upstream?.close()
  })

  it('a page load: the three tags right after <head ...>, every other byte the upstream’s; no Content-Length, ETag or caching', async () => {
    const answer = await request('GET', `${url}/public/page`, {
      ...NAVIGATION,
      'accept-encoding': 'gzip, br',
    })
    assert.equal(answer.status, 200)
    const body = answer.body.toString('utf8')
    const at = body.indexOf('<head data-x="1">') + '<head data-x="1">'.length
    const tags = TAGS.exec(body.slice(at))
    assert.ok(tags, body)
    assert.equal(tags[1], 'false')
    assert.equal(body.slice(0, at) + body.slice(at + tags[0].length), legacyPage(''))
    assert.equal(answer.headers['content-length'], undefined)
    assert.equal(answer.headers.etag, undefined)
    assert.equal(answer.headers['cache-control'], 'no-store')
    // The CSRF token's cookie comes with the page, as for the bridge's own pages.
    assert.match(String(answer.headers['set-cookie']), /jwks-bridge-session-csrf=/)
    // RFC 9110 §12.5.3: asked for the identity coding, so that the bytes can be edited in passing.
    assert.equal(upstream.seen.at(-1)?.['accept-encoding'], 'identity')
  })

  it('signed in: has-session is true, the identity headers still reach the upstream', async () => {
    const cookie = await signInCookie(url, 'ada')
    const answer = await request('GET', `${url}/private`, { ...NAVIGATION, cookie })
    const body = answer.body.toString('utf8')
    assert.match(body, /<meta name="has-session" content="true">/)
    assert.match(body, /<p id="subject">ada<\/p>/)
  })

  it('not a page load (a script’s fetch): untouched, and Accept-Encoding as the client sent it', async () => {
    const answer = await request('GET', `${url}/public/page`, { accept: '*/*', 'accept-encoding': 'gzip' })
    assert.equal(answer.body.toString('utf8'), legacyPage(''))
    assert.equal(answer.headers['content-length'], String(Buffer.byteLength(legacyPage(''))))
    assert.equal(upstream.seen.at(-1)?.['accept-encoding'], 'gzip')
  })

  it('not HTML: untouched, Content-Length kept', async () => {
    const answer = await request('GET', `${url}/public/json`, NAVIGATION)
    assert.equal(answer.body.toString(), '{}')
    assert.equal(answer.headers['content-length'], '2')
  })

  it('RFC 9110 §8.4: a compressed page (the upstream ignored identity) passes through untouched', async () => {
    const answer = await request('GET', `${url}/public/gzip`, NAVIGATION)
    assert.equal(answer.headers['content-encoding'], 'gzip')
    assert.deepEqual(answer.body, gzipSync(legacyPage('')))
  })

  it('size bound: no <head> within 64 KiB, the page passes through untouched', async () => {
    const answer = await request('GET', `${url}/public/big-head`, NAVIGATION)
    assert.equal(answer.body.toString(), BIG_HEAD)
  })

  it('RFC 9110 §9.3.2 HEAD: no body, and no Content-Length (the GET’s length changes); §15.4.5 304: no body', async () => {
    const head = await request('HEAD', `${url}/public/page`, NAVIGATION)
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)
    assert.equal(head.headers['content-length'], undefined)
    const cached = await request('GET', `${url}/public/cached`, { ...NAVIGATION, 'if-none-match': '"v1"' })
    assert.equal(cached.status, 304)
    assert.equal(cached.body.length, 0)
    assert.equal(cached.headers.etag, '"v1"')
  })

  it('streams: the head with the tags arrives while the upstream is still sending the rest', async () => {
    // Read until the upstream's first write is through; the upstream has not ended the page yet.
    const first = await new Promise<{ chunk: string; rest: Promise<string> }>((resolve, reject) => {
      http
        .get(`${url}/public/slow`, { headers: NAVIGATION }, (response) => {
          let text = ''
          let early: string | undefined
          const done = new Promise<string>((end) =>
            response.on('end', () => end(text.slice(early?.length ?? 0))),
          )
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString()
            if (early === undefined && text.includes('</title>')) {
              early = text
              resolve({ chunk: text, rest: done })
            }
          })
        })
        .on('error', reject)
    })
    assert.match(first.chunk, /^<html><head><meta name="authentication-url"[\s\S]*<title>Slow<\/title>$/)
    upstream.release()
    assert.equal(await first.rest, '</head><body>late</body></html>')
  })

  it('a sign-in in Chromium on an upstream page that renders no meta tags', {
    skip: skipWithoutBrowser,
  }, async () => {
    browser = await launchChromium()
    const context = await browser.newContext()
    context.setDefaultTimeout(STEP_MS)
    try {
      const page = await context.newPage()
      await page.goto(`${url}/public/page`)
      assert.equal(await page.textContent('#subject'), '')
      await page.click('#sign-in')
      await page.waitForURL((u) => u.pathname === '/dev-issuer/sign-in')
      await page.fill('#username', 'lin')
      await page.click('button[type="submit"]')
      // Back on the upstream's page, the browser script finds the injected tags, hands the token over
      // and reloads: the upstream now sees the session's X-Auth-Subject.
      await page.waitForSelector('#subject:text("lin")', { timeout: STEP_MS })
      assert.equal(await page.getAttribute('meta[name="has-session"]', 'content'), 'true')
    } finally {
      await context.close()
    }
  })
})

describe('INJECT_META_TAGS is opt-in', { timeout: 60_000 }, () => {
  it('without it, an upstream page load is passed on as it came', async () => {
    const upstream = await startHtmlUpstream()
    const test = await startTestApp({ UPSTREAM_URL: upstream.url, PUBLIC_PATHS: '/public/' })
    try {
      const answer = await request('GET', `${test.url}/public/page`, {
        ...NAVIGATION,
        'accept-encoding': 'gzip',
      })
      assert.equal(answer.body.toString('utf8'), legacyPage(''))
      assert.equal(upstream.seen.at(-1)?.['accept-encoding'], 'gzip')
    } finally {
      await test.close()
      await upstream.close()
    }
  })
})
