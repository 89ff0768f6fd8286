// jwks-bridge/fetch on plain Request objects (no server: the adapter is a pure translation), for what
// the conformance suite over HTTP does not reach: transport decisions, options, misuse.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  authenticateRequest,
  createFetchAdapter,
  errorToResponse,
  handleRequest,
  toBridgeRequest,
} from '../../src/adapters/fetch.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { Clock, failingStore, makeBridge, signInToken } from '../bridge/support.ts'

function signInRequest(url: string, token: string, headers: Record<string, string> = {}): Request {
  return new Request(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jwt: token }),
  })
}

const isInvalidOptions = (error: unknown) => (error as { code?: string }).code === 'ERR_INVALID_OPTIONS'

describe('jwks-bridge/fetch: transport security', () => {
  it('an https request URL is a secure transport: the __Host- cookie, Secure', async () => {
    const { bridge, clock } = makeBridge()
    const response = await handleRequest(
      bridge,
      signInRequest('https://app.example.com/auth', signInToken(clock), {
        origin: 'https://app.example.com',
      }),
    )
    assert.equal(response?.status, 204)
    const cookie = response?.headers.getSetCookie()[0] ?? ''
    assert.match(cookie, /^__Host-jwks-bridge-session=/)
    assert.match(cookie, /; Secure/)
  })

  it('RFC 6265bis §4.1.2.5: plain http off loopback is refused (403), whatever X-Forwarded-Proto says without trustProxy', async () => {
    const { bridge, clock } = makeBridge()
    const response = await handleRequest(
      bridge,
      signInRequest('http://app.example.com/auth', signInToken(clock), {
        origin: 'http://app.example.com',
        'x-forwarded-proto': 'https',
      }),
    )
    assert.equal(response?.status, 403)
    assert.equal(
      ((await response?.json()) as { error?: { code: string } } | undefined)?.error?.code,
      'ERR_INSECURE_TRANSPORT',
    )
    assert.equal(response?.headers.getSetCookie().length, 0)
  })

  it('with trustProxy, a proxy’s X-Forwarded-Proto: https counts', async () => {
    const { bridge, clock } = makeBridge({ trustProxy: true })
    const response = await handleRequest(
      bridge,
      signInRequest('http://app.example.com/auth', signInToken(clock), {
        origin: 'https://app.example.com',
        'x-forwarded-proto': 'https',
      }),
    )
    assert.equal(response?.status, 204)
    assert.match(response?.headers.getSetCookie()[0] ?? '', /^__Host-/)
  })

  it('publicUrl decides the transport and pins the app’s own origin, whatever Host the client sends', async () => {
    const { bridge, clock } = makeBridge()
    const options = { publicUrl: 'https://app.example.com' }
    const fromTls = await handleRequest(
      bridge,
      signInRequest('http://10.0.0.5:8080/auth', signInToken(clock), { origin: 'https://app.example.com' }),
      options,
    )
    assert.equal(fromTls?.status, 204)
    assert.match(fromTls?.headers.getSetCookie()[0] ?? '', /^__Host-jwks-bridge-session=.*; Secure/)
    // A page of another origin that names itself in Host still is another origin.
    const spoofed = await handleRequest(
      bridge,
      signInRequest('http://evil.example/auth', signInToken(clock), {
        origin: 'https://evil.example',
        host: 'evil.example',
      }),
      options,
    )
    assert.equal(spoofed?.status, 403)
    assert.equal(toBridgeRequest(new Request('http://10.0.0.5/x'), options).headers.host, 'app.example.com')
  })

  it('plain http from a loopback peer address (remoteAddress) is allowed for development (no __Host- prefix, no Secure)', async () => {
    const { bridge, clock } = makeBridge()
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const request = signInRequest('http://127.0.0.1:3000/auth', signInToken(clock), {
        origin: 'http://127.0.0.1:3000',
      })
      const response = await handleRequest(bridge, request, { remoteAddress })
      assert.equal(response?.status, 204, remoteAddress)
      assert.doesNotMatch(response?.headers.getSetCookie()[0] ?? '', /__Host-|Secure/)
    }
    const adapter = createFetchAdapter(bridge)
    const viaAdapter = await adapter.handleRequest(
      signInRequest('http://127.0.0.1:3000/auth', signInToken(clock), { origin: 'http://127.0.0.1:3000' }),
      { remoteAddress: '127.0.0.1' },
    )
    assert.equal(viaAdapter?.status, 204)
  })

  it('RFC 6265bis §4.1.2.5: Host: 127.0.0.1 never grants the plain-http exemption; only the peer address does', async () => {
    const { bridge, clock } = makeBridge()
    // The Host header (here the URL's authority) is the client's to write: loopback in it proves nothing.
    for (const remoteAddress of [undefined, '10.0.0.5', '::ffff:10.0.0.5', '128.0.0.1']) {
      const request = signInRequest('http://127.0.0.1:3000/auth', signInToken(clock), {
        origin: 'http://127.0.0.1:3000',
      })
      const response = await handleRequest(
        bridge,
        request,
        remoteAddress === undefined ? {} : { remoteAddress },
      )
      assert.equal(response?.status, 403, String(remoteAddress))
      assert.equal(
        ((await response?.json()) as { error?: { code?: string } } | undefined)?.error?.code,
        'ERR_INSECURE_TRANSPORT',
      )
      assert.equal(response?.headers.getSetCookie().length, 0)
    }
  })

  it('developmentLoopback: a runtime without a peer address (Next.js) counts requests as local, refused with NODE_ENV=production', async () => {
    const { bridge, clock } = makeBridge()
    const request = () =>
      signInRequest('http://127.0.0.1:3000/auth', signInToken(clock), { origin: 'http://127.0.0.1:3000' })
    const adapter = createFetchAdapter(bridge, { developmentLoopback: true })
    assert.equal((await adapter.handleRequest(request()))?.status, 204)
    const saved = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      assert.throws(() => createFetchAdapter(bridge, { developmentLoopback: true }), isInvalidOptions)
      await assert.rejects(handleRequest(bridge, request(), { developmentLoopback: true }), isInvalidOptions)
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = saved
    }
    assert.throws(() => createFetchAdapter(bridge, { developmentLoopback: 'yes' } as never), isInvalidOptions)
    // The address is per request: on the adapter it goes with each call, not into its options.
    assert.throws(() => createFetchAdapter(bridge, { remoteAddress: '127.0.0.1' }), isInvalidOptions)
  })
})

describe('jwks-bridge/fetch: the entry points', () => {
  it('handleRequest resolves null for requests that are not the bridge’s, and leaves their body unread', async () => {
    const { bridge } = makeBridge()
    const other = new Request('https://app.example.com/api', { method: 'POST', body: '{"a":1}' })
    assert.equal(await handleRequest(bridge, other), null)
    assert.equal(other.bodyUsed, false)
    assert.equal(await handleRequest(bridge, new Request('https://app.example.com/auth')), null, 'GET /auth')
  })

  it('authenticateRequest: the identity behind the cookie, null without one; a store down rejects, errorToResponse → 503', async () => {
    const { bridge, clock } = makeBridge()
    const signIn = await handleRequest(
      bridge,
      signInRequest('https://app.example.com/auth', signInToken(clock, { sub: 'fetch-user' }), {
        origin: 'https://app.example.com',
      }),
    )
    const cookie = (signIn?.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
    const auth = await authenticateRequest(
      bridge,
      new Request('https://app.example.com/me', { headers: { cookie } }),
    )
    assert.equal(auth?.identity.subject, 'fetch-user')
    assert.equal(await authenticateRequest(bridge, new Request('https://app.example.com/me')), null)

    const clockDown = new Clock()
    const memory = createMemoryStores({ nowMs: clockDown.read })
    const down = makeBridge(
      {},
      { identities: memory.identities, sessions: failingStore(memory.sessions, 'all') },
    )
    const error = await authenticateRequest(
      down.bridge,
      new Request('https://app.example.com/me', { headers: { cookie } }),
    ).catch((e: unknown) => e)
    const response = errorToResponse(error)
    assert.equal(response?.status, 503)
    assert.equal(errorToResponse(new Error('not the bridge’s')), null)
  })

  it('a body read before the bridge is a programming error, said so', async () => {
    const { bridge, clock } = makeBridge()
    const request = signInRequest('https://app.example.com/auth', signInToken(clock))
    await request.text()
    await assert.rejects(handleRequest(bridge, request), /read before the bridge/)
  })

  it('options are checked: unknown keys, a requestId that is not a function, a publicUrl that is not an origin', async () => {
    const { bridge } = makeBridge()
    assert.throws(() => createFetchAdapter(bridge, { trustProxy: true } as never), isInvalidOptions)
    assert.throws(() => createFetchAdapter(bridge, { requestId: 'x-request-id' } as never), isInvalidOptions)
    for (const publicUrl of [
      'app.example.com',
      'ftp://app.example.com',
      'https://app.example.com/base',
      'https://u:p@app.example.com',
    ]) {
      assert.throws(() => createFetchAdapter(bridge, { publicUrl }), isInvalidOptions, publicUrl)
    }
    await assert.rejects(
      handleRequest(bridge, new Request('https://app.example.com/auth', { method: 'PUT' }), {
        nope: 1,
      } as never),
      isInvalidOptions,
    )
  })
})
