// Issue 3, behaviour 1 (fetching), against a real HTTP server on 127.0.0.1: Accept header, status
// and media type, redirects refused, timeoutMs over headers and body, response size cap, key count
// cap, custom fetch, and first-load failures reported as ERR_JWKS_UNAVAILABLE without token text.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createVerifier, type VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { ISSUER, makeKey } from '../helpers/tokens.ts'
import {
  assertNoTokenText,
  Clock,
  errorChainText,
  JWKS_TYPE,
  jwks,
  longToken,
  outcome,
  rejection,
} from './support.ts'

const key = makeKey('ES256', 'fetch-key')

describe('behaviour 1: fetching', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  const verifierFor = (path: string, extra: Partial<VerifierOptions> = {}) =>
    createVerifier({
      issuer: ISSUER,
      jwksUri: server.url(path),
      algorithms: ['ES256'],
      nowMs: new Clock().nowMs,
      ...extra,
    } as VerifierOptions)

  it('sends Accept: application/jwk-set+json, application/json, and no cookie or credentials', async () => {
    server.routes.set('/accept', { body: jwks(key), headers: JWKS_TYPE })
    await verifierFor('/accept').verify(longToken(key))
    const request = server.requests.find((r) => r.path === '/accept')
    assert.ok(request)
    assert.equal(request.method, 'GET')
    assert.equal(request.headers.accept, 'application/jwk-set+json, application/json')
    assert.equal(request.headers.cookie, undefined)
    assert.equal(request.headers.authorization, undefined)
  })

  it('accepts status 200 with either media type, parameters and case aside', async () => {
    for (const type of [
      'application/jwk-set+json',
      'application/json',
      'application/json; charset=utf-8',
      'Application/JWK-Set+JSON; charset=UTF-8',
    ]) {
      server.routes.set('/types', { body: jwks(key), headers: { 'content-type': type } })
      assert.equal(await outcome(verifierFor('/types').verify(longToken(key))), 'ok', type)
    }
  })

  it('refuses a wrong or missing media type', async () => {
    for (const type of ['text/html', 'text/plain', 'application/jose+json', 'application/jsonx', '']) {
      server.routes.set('/wrong-type', { body: jwks(key), headers: { 'content-type': type } })
      const error = await rejection(verifierFor('/wrong-type').verify(longToken(key)))
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE', type)
      assert.match(String(error.reason), /content type/, type)
    }
  })

  it('accepts only status 200', async () => {
    for (const status of [201, 203, 204, 206, 304, 400, 401, 403, 404, 410, 429]) {
      server.routes.set('/status', { status, body: status === 204 || status === 304 ? undefined : jwks(key) })
      const error = await rejection(verifierFor('/status').verify(longToken(key)))
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE', `status ${status}`)
      assert.match(String(error.reason), new RegExp(`status ${status}`))
    }
  })

  it('refuses redirects (301, 302, 307, 308) and never requests their target', async () => {
    server.routes.set('/target', { body: jwks(key), headers: JWKS_TYPE })
    for (const status of [301, 302, 303, 307, 308]) {
      server.routes.set('/moved', { status, headers: { location: server.url('/target') }, body: jwks(key) })
      const error = await rejection(verifierFor('/moved').verify(longToken(key)))
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE', `status ${status}`)
      assert.match(String(error.reason), /redirect/, `status ${status}`)
    }
    assert.equal(server.count('/moved'), 5)
    assert.equal(server.count('/target'), 0, 'the redirect target was requested')
  })

  it('timeoutMs bounds the wait for response headers', async () => {
    // The server takes the request and never answers; the socket goes when the server stops.
    server.routes.set('/no-headers', { handle: () => {} })
    const started = performance.now()
    const error = await rejection(verifierFor('/no-headers', { timeoutMs: 200 }).verify(longToken(key)))
    const elapsed = performance.now() - started
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.equal(error.reason, 'timeout')
    assert.ok(elapsed >= 150 && elapsed < 1500, `took ${Math.round(elapsed)} ms`)
  })

  it('timeoutMs bounds the body too: headers sent, then a stalled body', async () => {
    server.routes.set('/stalled-body', {
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.write('{"keys":[')
      },
    })
    const started = performance.now()
    const error = await rejection(verifierFor('/stalled-body', { timeoutMs: 200 }).verify(longToken(key)))
    const elapsed = performance.now() - started
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.equal(error.reason, 'timeout')
    assert.ok(elapsed >= 150 && elapsed < 1500, `took ${Math.round(elapsed)} ms`)
  })

  it('refuses a body over maxResponseBytes announced by Content-Length', async () => {
    const body = JSON.stringify({ keys: [key.jwk], padding: 'x'.repeat(5000) })
    server.routes.set('/big-declared', {
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) })
        response.end(body)
      },
    })
    const error = await rejection(
      verifierFor('/big-declared', { maxResponseBytes: 4096 }).verify(longToken(key)),
    )
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.match(String(error.reason), /over 4096/)
    // The same document under a limit that fits is accepted: the size alone was the reason.
    assert.equal(
      await outcome(verifierFor('/big-declared', { maxResponseBytes: 8192 }).verify(longToken(key))),
      'ok',
    )
  })

  it('refuses a body over maxResponseBytes sent without Content-Length (chunked)', async () => {
    const body = JSON.stringify({ keys: [key.jwk], padding: 'x'.repeat(5000) })
    server.routes.set('/big-chunked', {
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        for (let i = 0; i < body.length; i += 1000) response.write(body.slice(i, i + 1000))
        response.end()
      },
    })
    const error = await rejection(
      verifierFor('/big-chunked', { maxResponseBytes: 4096 }).verify(longToken(key)),
    )
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.match(String(error.reason), /over 4096/)
    assert.equal(
      await outcome(verifierFor('/big-chunked', { maxResponseBytes: 8192 }).verify(longToken(key))),
      'ok',
    )
  })

  it('cuts off an endless body as soon as it passes maxResponseBytes, without waiting for the timeout', async () => {
    let sent = 0
    server.routes.set('/endless', {
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.write('{"keys":[],"x":"')
        const timer = setInterval(() => {
          sent += 1024
          response.write('y'.repeat(1024))
        }, 5)
        response.on('close', () => clearInterval(timer))
      },
    })
    const started = performance.now()
    const error = await rejection(
      verifierFor('/endless', { maxResponseBytes: 8192, timeoutMs: 3000 }).verify(longToken(key)),
    )
    const elapsed = performance.now() - started
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.match(String(error.reason), /over 8192/)
    assert.ok(elapsed < 2000, `took ${Math.round(elapsed)} ms`)
    assert.ok(sent < 1024 * 1024, 'the server was read far past the limit')
  })

  it('caps the number of keys (maxKeys): a larger set is refused whole', async () => {
    const others = [1, 2, 3].map((i) => ({ ...key.jwk, kid: `other-${i}` }))
    server.routes.set('/many', { body: { keys: [key.jwk, ...others] }, headers: JWKS_TYPE })
    const error = await rejection(verifierFor('/many', { maxKeys: 3 }).verify(longToken(key)))
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.equal(error.cause?.code, 'ERR_KEYSET_INVALID')
    assert.equal(await outcome(verifierFor('/many', { maxKeys: 4 }).verify(longToken(key))), 'ok')
  })

  it('uses a custom fetch when given, with the same rules', async () => {
    server.routes.set('/custom', { body: jwks(key), headers: JWKS_TYPE })
    const calls: { url: string; init: RequestInit }[] = []
    const fetch = (url: string, init: RequestInit) => {
      calls.push({ url, init })
      return globalThis.fetch(url, init)
    }
    const verifier = verifierFor('/custom', { fetch })
    assert.equal(await outcome(verifier.verify(longToken(key))), 'ok')
    assert.equal(calls.length, 1)
    assert.equal(calls[0]?.url, server.url('/custom'))
    assert.equal(calls[0]?.init.redirect, 'manual')
    assert.equal(calls[0]?.init.method, 'GET')
    assert.ok(calls[0]?.init.signal instanceof AbortSignal, 'the timeout signal is passed on')
    assert.equal(server.count('/custom'), 1)

    // A custom fetch that answers a redirect itself is refused just the same.
    const redirecting = async () =>
      new Response(null, { status: 302, headers: { location: server.url('/custom') } })
    const error = await rejection(verifierFor('/custom', { fetch: redirecting }).verify(longToken(key)))
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE')
    assert.equal(server.count('/custom'), 1)
  })

  it('first-load failures (5xx, bad JSON, wrong type, duplicate members) are ERR_JWKS_UNAVAILABLE with a reason, and no token text', async () => {
    const cases: {
      name: string
      route: Parameters<typeof server.routes.set>[1]
      reason: RegExp
      inner?: string
    }[] = [
      { name: '500', route: { status: 500, body: 'boom' }, reason: /status 500/ },
      { name: '502', route: { status: 502, body: '' }, reason: /status 502/ },
      { name: '503', route: { status: 503, body: jwks(key) }, reason: /status 503/ },
      {
        name: 'bad JSON',
        route: { body: '{"keys": [', headers: JWKS_TYPE },
        reason: /JSON/,
        inner: 'ERR_JSON_INVALID',
      },
      {
        name: 'not an object',
        route: { body: '[1,2]', headers: JWKS_TYPE },
        reason: /JSON/,
        inner: 'ERR_JSON_INVALID',
      },
      {
        name: 'invalid UTF-8',
        route: { body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), headers: JWKS_TYPE },
        reason: /JSON/,
        inner: 'ERR_UTF8_INVALID',
      },
      {
        name: 'wrong content type',
        route: { body: jwks(key), headers: { 'content-type': 'text/html' } },
        reason: /content type/,
      },
      {
        name: 'duplicate members',
        route: { body: `{"keys":[${JSON.stringify(key.jwk)}],"keys":[]}`, headers: JWKS_TYPE },
        reason: /JSON/,
        inner: 'ERR_JSON_DUPLICATE_MEMBER',
      },
      {
        name: 'duplicate members inside a key',
        route: {
          body: `{"keys":[${JSON.stringify(key.jwk).replace('{', '{"kid":"x",')}]}`,
          headers: JWKS_TYPE,
        },
        reason: /JSON/,
        inner: 'ERR_JSON_DUPLICATE_MEMBER',
      },
    ]
    for (const { name, route, reason, inner } of cases) {
      server.routes.set('/broken', route)
      const token = longToken(key, { email: 'someone@example.com' })
      const error = await rejection(verifierFor('/broken').verify(token))
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE', name)
      assert.match(String(error.reason), reason, name)
      assert.equal(error.cause?.code, 'ERR_JWKS_FETCH_FAILED', name)
      if (inner !== undefined) assert.equal(error.cause?.cause?.code, inner, name)
      assertNoTokenText(errorChainText(error), token)
      assert.equal(errorChainText(error).includes('someone@example.com'), false, name)
    }
  })
})
