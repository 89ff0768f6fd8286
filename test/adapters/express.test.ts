import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import { bridgeMiddleware, MOUNT_ORDER_WARNING } from '../../src/adapters/express.ts'
import type { BridgeOptions } from '../../src/bridge/options.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { Clock, captureLogger, failingStore, ISSUER, makeBridge, signInToken } from '../bridge/support.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'

interface Running {
  base: string
  origin: string
  clock: Clock
  close: () => Promise<void>
}

async function serve(
  overrides: Partial<BridgeOptions> = {},
  stores?: Parameters<typeof makeBridge>[1],
  clock?: Clock,
  middleware: Parameters<typeof bridgeMiddleware>[1] = {},
): Promise<Running> {
  const harness = makeBridge(overrides, stores, clock)
  const app = express()
  app.use(bridgeMiddleware(harness.bridge, middleware))
  // The app's own JSON parser, after the bridge: the bridge reads its routes' bodies itself.
  app.use(express.json())
  app.get('/me', (req, res) => {
    if (!req.identity) {
      res.status(401).json({ error: 'signed out' })
      return
    }
    res.json({
      subject: req.identity.subject,
      issuer: req.identity.issuer,
      sid: req.bridgeSession?.providerSessionId,
    })
  })
  app.post('/echo', (req, res) => {
    res.json({ got: req.body })
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    base: origin,
    origin,
    clock: harness.clock,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

function cookieOf(response: Response): string {
  return (response.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
}

describe('Express middleware (a real server on 127.0.0.1)', () => {
  let running: Running
  before(async () => {
    running = await serve()
  })
  after(async () => {
    await running.close()
  })

  const same = () => ({ origin: running.origin, 'sec-fetch-site': 'same-origin' })

  it('full flow: sign in → cookie → identity on a protected route → sign out → gone', async () => {
    const signIn = await fetch(`${running.base}/auth`, {
      method: 'PUT',
      headers: { ...same(), 'content-type': 'application/json' },
      body: JSON.stringify({ jwt: signInToken(running.clock, { sub: 'express-user', sid: 'op-1' }) }),
    })
    assert.equal(signIn.status, 204)
    assert.equal(signIn.headers.get('cache-control'), 'no-store')
    const cookie = cookieOf(signIn)
    assert.match(cookie, /^jwks-bridge-session=/)

    const me = await fetch(`${running.base}/me`, { headers: { cookie } })
    assert.equal(me.status, 200)
    assert.deepEqual(await me.json(), { subject: 'express-user', issuer: ISSUER, sid: 'op-1' })

    const signOut = await fetch(`${running.base}/auth`, { method: 'DELETE', headers: { ...same(), cookie } })
    assert.equal(signOut.status, 204)
    assert.match(signOut.headers.getSetCookie()[0] ?? '', /Max-Age=0/)
    const gone = await fetch(`${running.base}/me`, { headers: { cookie } })
    assert.equal(gone.status, 401)
  })

  it('accepts a form body and answers JSON when asked', async () => {
    const response = await fetch(`${running.base}/auth`, {
      method: 'POST',
      headers: { ...same(), accept: 'application/json' },
      body: new URLSearchParams({ jwt: signInToken(running.clock, { sub: 'form-user' }) }),
    })
    assert.equal(response.status, 200)
    assert.equal(((await response.json()) as { subject: string }).subject, 'form-user')
  })

  it('refusals: cross-site 403, wrong type 415, too large 413, broken JSON 400, bad token 401', async () => {
    const put = (headers: Record<string, string>, body: string) =>
      fetch(`${running.base}/auth`, { method: 'PUT', headers: { ...same(), ...headers }, body })
    const good = JSON.stringify({ jwt: signInToken(running.clock) })
    const checks: [Promise<Response>, number, string][] = [
      [
        put(
          {
            'content-type': 'application/json',
            origin: 'https://evil.example',
            'sec-fetch-site': 'cross-site',
          },
          good,
        ),
        403,
        'ERR_CROSS_SITE_REQUEST',
      ],
      [put({ 'content-type': 'text/plain' }, good), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
      [
        put({ 'content-type': 'application/json' }, JSON.stringify({ jwt: 'x'.repeat(20000) })),
        413,
        'ERR_BODY_TOO_LARGE',
      ],
      [put({ 'content-type': 'application/json' }, '{"jwt":'), 400, 'ERR_BODY_INVALID'],
      [
        put({ 'content-type': 'application/json' }, JSON.stringify({ jwt: 'not-a-token' })),
        401,
        'ERR_TOKEN_MALFORMED',
      ],
    ]
    for (const [pending, status, code] of checks) {
      const response = await pending
      assert.equal(response.status, status, code)
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code)
    }
  })

  it('refuses an oversized chunked body (no Content-Length) while reading it', async () => {
    const big = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(1024).fill(0x61))
        controller.close()
      },
    })
    const response = await fetch(`${running.base}/auth`, {
      method: 'PUT',
      headers: { ...same(), 'content-type': 'application/json' },
      body: big,
      duplex: 'half',
    } as RequestInit)
    assert.equal(response.status, 413)
  })

  it('leaves other routes and the app’s body parser alone', async () => {
    const echo = await fetch(`${running.base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    })
    assert.deepEqual(await echo.json(), { got: { a: 1 } })
    assert.equal((await fetch(`${running.base}/me`)).status, 401)
    assert.equal((await fetch(`${running.base}/auth`)).status, 404)
  })
})

describe('Express middleware: failures', () => {
  it('a session store that is down gives 503 on protected routes', async () => {
    const clock = new Clock()
    const memory = createMemoryStores({ nowMs: clock.read })
    const running = await serve(
      {},
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
      clock,
    )
    try {
      const cookie = `jwks-bridge-session=${'a'.repeat(22)}.${'b'.repeat(43)}`
      const response = await fetch(`${running.base}/me`, { headers: { cookie } })
      assert.equal(response.status, 503)
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'ERR_STORE_UNAVAILABLE',
      )
    } finally {
      await running.close()
    }
  })

  it('issue #13: express.json() mounted before bridgeMiddleware is answered ERR_MIDDLEWARE_ORDER saying what to move, and warned once', async () => {
    const harness = makeBridge()
    const app = express()
    app.use(express.json())
    app.use(bridgeMiddleware(harness.bridge))
    const warnings: Error[] = []
    const listener = (warning: Error) => {
      if ((warning as Error & { code?: string }).code === MOUNT_ORDER_WARNING) warnings.push(warning)
    }
    process.on('warning', listener)
    const server = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    try {
      for (let i = 0; i < 2; i++) {
        const token = signInToken(harness.clock)
        const response = await fetch(`http://127.0.0.1:${port}/auth`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jwt: token }),
        })
        assert.equal(response.status, 500)
        const text = await response.text()
        const body = JSON.parse(text) as { error: { code: string; message: string } }
        assert.equal(body.error.code, 'ERR_MIDDLEWARE_ORDER')
        assert.match(
          body.error.message,
          /express\.json\(\) \(or another body parser\) ran before bridgeMiddleware/,
        )
        assert.match(body.error.message, /mount bridgeMiddleware first/)
        assert.equal(text.includes(token), false, 'the token is not echoed')
      }
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(warnings.length, 1, 'warned once, not per request')
      assert.match(warnings[0]?.message ?? '', /mount bridgeMiddleware first/)
    } finally {
      process.off('warning', listener)
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('requestId: the id the app names reaches the bridge log records', async () => {
    const logger = captureLogger()
    const server = await serve({ logger }, undefined, undefined, {
      requestId: (req) => req.get('x-request-id'),
    })
    try {
      const response = await fetch(`${server.base}/auth`, {
        method: 'PUT',
        headers: {
          origin: server.origin,
          'content-type': 'application/json',
          'x-request-id': 'express-42',
        },
        body: JSON.stringify({ jwt: signInToken(server.clock) }),
      })
      assert.equal(response.status, 204)
      assert.deepEqual(
        logger.lines.map((line) => [line.fields.event, line.fields.requestId]),
        [['bridge.sign-in', 'express-42']],
      )
    } finally {
      await server.close()
    }
    assert.throws(
      () => bridgeMiddleware(makeBridge().bridge, { requestId: 'x-request-id' as never }),
      (error: unknown) => (error as { code?: string }).code === 'ERR_INVALID_OPTIONS',
    )
  })
})

describe('Express middleware: options', () => {
  it('issue #13: a misspelt option is refused, naming the nearest known one', () => {
    const { bridge } = makeBridge()
    refusesUnknownOption(
      () => bridgeMiddleware(bridge, { testSignin: undefined } as never),
      'bridgeMiddleware',
      'testSignin',
      'testSignIn',
    )
    bridge.close()
  })
})
