// The test sign-in route against the real bridge (createBridge with memory stores): the token it
// mints goes through the normal handoff, and the route exists only under NODE_ENV=test.
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { createBridge } from '../../src/bridge/bridge.ts'
import { supertokensProfile } from '../../src/bridge/profiles.ts'
import type { BridgeRequest } from '../../src/bridge/types.ts'
import { isJwksBridgeError } from '../../src/index.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { createTestIssuer, enableTestSignIn, type TestIssuer } from '../../src/testing/index.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'

const originalEnv = process.env.NODE_ENV
afterEach(() => {
  if (originalEnv === undefined) delete process.env.NODE_ENV
  else process.env.NODE_ENV = originalEnv
})

// One issuer for the file: RSA key generation is the slow part on a shared machine.
const IDP = createTestIssuer({ profile: 'supertokens' })

function setup(idp: TestIssuer = IDP) {
  const stores = createMemoryStores()
  const bridge = createBridge({
    verifier: idp.verifierOptions(),
    identities: stores.identities,
    sessions: stores.sessions,
    profile: idp.profile === 'supertokens' ? supertokensProfile() : undefined,
    // Off, explicitly (the default is on): these tests are about the test sign-in route, and call it
    // without rendering a page for a CSRF token first.
    csrf: false,
  })
  return { idp, stores, bridge }
}

const request = (body: unknown, headers: Record<string, string> = {}): BridgeRequest => ({
  method: 'POST',
  path: '/auth/test-sign-in',
  headers: { host: 'localhost:3000', 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  secure: false,
  // As an adapter reads a socket from this machine: plain http is allowed only then.
  loopback: true,
})

describe('enableTestSignIn: only under NODE_ENV=test', () => {
  it('throws under NODE_ENV=production: a server configured with it refuses to start', () => {
    process.env.NODE_ENV = 'production'
    const { idp, bridge } = setup()
    assert.throws(
      () => enableTestSignIn({ issuer: idp, bridge }),
      (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS') && /production/.test(e.message),
    )
  })

  it('does not exist in development or when NODE_ENV is unset', () => {
    const { idp, bridge } = setup()
    for (const env of ['development', 'staging', 'Test', undefined]) {
      if (env === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = env
      assert.equal(enableTestSignIn({ issuer: idp, bridge }), undefined)
    }
  })

  it('stops working if NODE_ENV leaves test after it was enabled', async () => {
    process.env.NODE_ENV = 'test'
    const { idp, bridge } = setup()
    const route = enableTestSignIn({ issuer: idp, bridge })
    assert.ok(route)
    process.env.NODE_ENV = 'production'
    await assert.rejects(route.signIn({ subject: 'u' }), (e: unknown) =>
      isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
    )
    await assert.rejects(route.handle(request({ subject: 'u' })), (e: unknown) =>
      isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
    )
  })
})

describe('enableTestSignIn: the real handoff', () => {
  it('POST {subject, claims} signs in through the bridge: 204, session cookie, identity with the claims', async () => {
    process.env.NODE_ENV = 'test'
    const { idp, stores, bridge } = setup()
    const route = enableTestSignIn({ issuer: idp, bridge })
    assert.ok(route)
    assert.equal(route.method, 'POST')
    assert.equal(route.path, '/auth/test-sign-in')
    const response = await route.handle(request({ subject: 'user-7', claims: { email: 'u7@example.com' } }))
    assert.equal(response.status, 204)
    assert.equal(response.cookies.length >= 1, true)
    const identity = await stores.identities.findBySubject(idp.issuer, 'user-7')
    assert.ok(identity)
    assert.equal(identity.claims.email, 'u7@example.com')
    // The cookie is a real session: the bridge authenticates the next request with it.
    const cookie = response.cookies.map((c) => c.split(';', 1)[0]).join('; ')
    const authenticated = await bridge.authenticate({
      method: 'GET',
      path: '/',
      headers: { host: 'localhost:3000', cookie },
      secure: false,
    })
    assert.equal(authenticated?.identity.id, identity.id)
    // SuperTokens profile: the provider session id is the minted token's sessionHandle.
    assert.match(authenticated?.session.providerSessionId ?? '', /^[0-9a-f-]{36}$/)
  })

  it('the bridge guards still apply: a cross-site request is refused with 403 and nothing is created', async () => {
    process.env.NODE_ENV = 'test'
    const { idp, stores, bridge } = setup()
    const route = enableTestSignIn({ issuer: idp, bridge })
    assert.ok(route)
    const response = await route.handle(request({ subject: 'victim' }, { origin: 'https://evil.example' }))
    assert.equal(response.status, 403)
    assert.equal(response.cookies.length, 0)
    assert.equal(await stores.identities.findBySubject(idp.issuer, 'victim'), undefined)
  })

  it('the bridge verifies the minted token: an issuer the bridge does not trust is refused with 401', async () => {
    process.env.NODE_ENV = 'test'
    const { bridge } = setup()
    const stranger = createTestIssuer({ profile: 'supertokens' })
    const route = enableTestSignIn({ issuer: stranger, bridge })
    assert.ok(route)
    const response = await route.signIn({ subject: 'u' })
    assert.equal(response.status, 401)
  })

  it('signIn() without HTTP, with the generic profile; mint() gives just the token', async () => {
    process.env.NODE_ENV = 'test'
    const { idp, stores, bridge } = setup(createTestIssuer())
    const route = enableTestSignIn({ issuer: idp, bridge, path: '/test/sign-in' })
    assert.ok(route)
    assert.equal(route.path, '/test/sign-in')
    const response = await route.signIn({ subject: 'plain-user', claims: { name: 'Plain' } })
    assert.equal(response.status, 204)
    assert.equal((await stores.identities.findBySubject(idp.issuer, 'plain-user'))?.claims.name, 'Plain')
    assert.equal(route.mint({ subject: 'x' }).split('.').length, 3)
  })

  it('bad bodies get 400/415 and change nothing', async () => {
    process.env.NODE_ENV = 'test'
    const { idp, stores, bridge } = setup()
    const route = enableTestSignIn({ issuer: idp, bridge })
    assert.ok(route)
    const cases: [BridgeRequest, number][] = [
      [request({}), 400],
      [request({ subject: '' }), 400],
      [request({ subject: 'x'.repeat(256) }), 400],
      [request({ subject: 'u', claims: [] }), 400],
      [request('not json'), 400],
      [request({ subject: 'u' }, { 'content-type': 'text/plain' }), 415],
      [{ ...request({ subject: 'u' }), method: 'GET' }, 405],
    ]
    for (const [req, status] of cases) {
      const response = await route.handle(req)
      assert.equal(response.status, status)
      assert.equal(response.cookies.length, 0)
    }
    assert.equal(await stores.identities.findBySubject(idp.issuer, 'u'), undefined)
  })

  it('refuses bad options', () => {
    process.env.NODE_ENV = 'test'
    const { idp, bridge } = setup()
    for (const options of [
      { issuer: idp },
      { bridge },
      { issuer: idp, bridge, path: 'no-slash' },
      { issuer: idp, bridge, path: '/auth' },
    ]) {
      assert.throws(
        () => enableTestSignIn(options as never),
        (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
      )
    }
  })
})

describe('enableTestSignIn: options', () => {
  it('issue #13: a misspelt option is refused, naming the nearest known one', () => {
    process.env.NODE_ENV = 'test'
    const { idp, bridge } = setup()
    refusesUnknownOption(
      () => enableTestSignIn({ issuer: idp, bridge, pth: '/test-login' } as never),
      'enableTestSignIn',
      'pth',
      'path',
    )
    bridge.close()
  })
})
