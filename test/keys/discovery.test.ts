// Issue 3, behaviour 6 (OpenID discovery), against a real HTTP server on 127.0.0.1: with an issuer
// alone, GET <issuer>/.well-known/openid-configuration, then its jwks_uri; the document's issuer
// must equal ours exactly, its jwks_uri must obey the URL rules, and it is cached.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createVerifier, type VerifierOptions } from '../../src/index.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { Clock, EventLog, JWKS_TYPE, jwks, longToken, outcome, rejection } from './support.ts'

const key = makeKey('ES256', 'disc-key')
const CONFIG = '/.well-known/openid-configuration'

describe('behaviour 6: discovery', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  let n = 0
  const setup = (
    document: (issuer: string) => Record<string, unknown>,
    extra: Partial<VerifierOptions> = {},
  ) => {
    const realm = `/realm-${++n}`
    const issuer = server.url(realm)
    server.routes.set(`${realm}${CONFIG}`, { body: document(issuer) })
    server.routes.set(`${realm}/certs`, { body: jwks(key), headers: JWKS_TYPE })
    const clock = new Clock()
    const log = new EventLog()
    const fetched: string[] = []
    const verifier = createVerifier({
      issuer,
      algorithms: ['ES256'],
      nowMs: clock.nowMs,
      onEvent: log.onEvent,
      // Every URL the verifier asks for, to show which hosts it never contacts.
      fetch: (url: string, init: RequestInit) => {
        fetched.push(url)
        return globalThis.fetch(url, init)
      },
      ...extra,
    } as VerifierOptions)
    const token = (claims: Record<string, unknown> = {}) => longToken(key, { iss: issuer, ...claims })
    return {
      realm,
      issuer,
      clock,
      log,
      verifier,
      token,
      fetched,
      configCount: () => server.count(`${realm}${CONFIG}`),
      certsCount: () => server.count(`${realm}/certs`),
    }
  }

  it('with an issuer alone, fetches <issuer>/.well-known/openid-configuration, then its jwks_uri', async () => {
    const s = setup((issuer) => ({
      issuer,
      jwks_uri: `${issuer}/certs`,
      id_token_signing_alg_values_supported: ['ES256'],
    }))
    assert.equal(await outcome(s.verifier.verify(s.token())), 'ok')
    assert.deepEqual(s.fetched, [`${s.issuer}${CONFIG}`, `${s.issuer}/certs`])
    const discovery = server.requests.find((r) => r.path === `${s.realm}${CONFIG}`)
    assert.match(String(discovery?.headers.accept), /application\/json/)
    const discovered = s.log.of('discovered')
    assert.equal(discovered.length, 1)
    assert.equal(discovered[0]?.jwksUri, `${s.issuer}/certs`)
    assert.equal(s.verifier.keySetStats()[0]?.url, `${s.issuer}/certs`)
  })

  it('an issuer with a trailing slash discovers at <issuer without slash>/.well-known/openid-configuration', async () => {
    const realm = `/realm-${++n}`
    const issuer = `${server.url(realm)}/`
    server.routes.set(`${realm}${CONFIG}`, { body: { issuer, jwks_uri: server.url(`${realm}/certs`) } })
    server.routes.set(`${realm}/certs`, { body: jwks(key), headers: JWKS_TYPE })
    const verifier = createVerifier({ issuer, algorithms: ['ES256'], nowMs: new Clock().nowMs })
    assert.equal(await outcome(verifier.verify(longToken(key, { iss: issuer }))), 'ok')
    assert.equal(server.count(`${realm}${CONFIG}`), 1)
  })

  it('refuses a document whose issuer is not exactly ours (ERR_DISCOVERY_FAILED, the real code)', async () => {
    for (const other of [
      (i: string) => `${i}/`,
      (i: string) => i.replace('127.0.0.1', 'localhost'),
      () => 'https://evil.example.com/realm',
    ]) {
      const s = setup((issuer) => ({ issuer: other(issuer), jwks_uri: `${issuer}/certs` }))
      const error = await rejection(s.verifier.verify(s.token()))
      assert.equal(error.code, 'ERR_DISCOVERY_FAILED')
      assert.match(String(error.reason), /issuer/)
      assert.equal(s.certsCount(), 0, 'the jwks_uri of a mismatched document was fetched')
    }
  })

  it('issue #13: a wrong issuer (trailing slash) is ERR_DISCOVERY_FAILED from ready() and verify() alike, naming both issuers and the URL fetched', async () => {
    const s = setup((issuer) => ({ issuer, jwks_uri: `${issuer}/certs` }))
    const configured = `${s.issuer}/`
    const verifier = createVerifier({ issuer: configured, algorithms: ['ES256'], nowMs: s.clock.nowMs })
    const token = longToken(key, { iss: configured })
    const atStart = await rejection(verifier.ready())
    const atVerify = await rejection(verifier.verify(token))
    // And once more during the backoff that follows: still the same code and words.
    const duringBackoff = await rejection(verifier.verify(token))
    for (const error of [atStart, atVerify, duringBackoff]) {
      assert.equal(error.code, 'ERR_DISCOVERY_FAILED')
      assert.ok(
        error.message.includes(`the configured issuer is ${JSON.stringify(configured)}`),
        error.message,
      )
      assert.ok(error.message.includes(`it names the issuer ${JSON.stringify(s.issuer)}`), error.message)
      assert.ok(error.message.includes(`failed at ${s.issuer}${CONFIG}`), error.message)
      assert.match(error.message, /set issuer to exactly/)
      assert.equal(error.message.includes(token.split('.')[2] as string), false, 'no token in the message')
    }
  })

  it('issue #13: an unreachable issuer (wrong port) is ERR_DISCOVERY_FAILED naming the issuer and the URL, with what to check', async () => {
    const issuer = 'http://127.0.0.1:9/realm'
    const verifier = createVerifier({ issuer, algorithms: ['ES256'], nowMs: new Clock().nowMs })
    const error = await rejection(verifier.verify(longToken(key, { iss: issuer })))
    assert.equal(error.code, 'ERR_DISCOVERY_FAILED')
    assert.ok(error.message.includes(JSON.stringify(issuer)), error.message)
    assert.ok(error.message.includes(`${issuer}${CONFIG}`), error.message)
    assert.match(error.message, /check that issuer is exactly the provider's .*or give jwksUri/)
  })

  it('refuses a jwks_uri with plain http to a non-loopback host, and never contacts it', async () => {
    const s = setup((issuer) => ({ issuer, jwks_uri: 'http://10.0.0.1/certs' }))
    const error = await rejection(s.verifier.verify(s.token()))
    assert.equal(error.code, 'ERR_DISCOVERY_FAILED')
    assert.deepEqual(s.fetched, [`${s.issuer}${CONFIG}`])
  })

  it('refuses a discovery document without jwks_uri, answered with a redirect, or not JSON', async () => {
    const missing = setup((issuer) => ({ issuer }))
    const error = await rejection(missing.verifier.verify(missing.token()))
    assert.equal(error.code, 'ERR_DISCOVERY_FAILED')

    const redirected = setup((issuer) => ({ issuer, jwks_uri: `${issuer}/certs` }))
    server.routes.set(`${redirected.realm}${CONFIG}`, {
      status: 302,
      headers: { location: server.url(`${redirected.realm}/certs`) },
    })
    const refused = await rejection(redirected.verifier.verify(redirected.token()))
    assert.equal(refused.code, 'ERR_DISCOVERY_FAILED')
    assert.match(String(refused.reason), /redirect/)
    assert.equal(redirected.certsCount(), 0)

    const html = setup((issuer) => ({ issuer, jwks_uri: `${issuer}/certs` }))
    server.routes.set(`${html.realm}${CONFIG}`, {
      body: '<html></html>',
      headers: { 'content-type': 'text/html' },
    })
    const notJson = await rejection(html.verifier.verify(html.token()))
    assert.equal(notJson.code, 'ERR_DISCOVERY_FAILED')
    assert.match(String(notJson.reason), /content type/)
  })

  it('caches the discovery document: not refetched per verification nor per key set refresh', async () => {
    const s = setup((issuer) => ({ issuer, jwks_uri: `${issuer}/certs` }), {
      cacheMaxAgeSeconds: 600,
      tokenCache: false,
    })
    await s.verifier.ready()
    for (let i = 0; i < 20; i++)
      assert.equal(await outcome(s.verifier.verify(s.token({ sub: `u${i}` }))), 'ok')
    assert.equal(s.configCount(), 1)
    // A key set refresh (past 75 % of 600 s) reuses the discovered jwks_uri.
    s.clock.advance(451_000)
    const refreshed = s.log.next('fetched')
    assert.equal(await outcome(s.verifier.verify(s.token({ sub: 'refresh' }))), 'ok')
    await refreshed
    assert.equal(s.certsCount(), 2)
    assert.equal(s.configCount(), 1, 'the discovery document was refetched while fresh')
    assert.equal(s.log.of('discovered').length, 1)
  })

  it('a discovery document that cannot be refreshed later does not stop the key set', async () => {
    const s = setup((issuer) => ({ issuer, jwks_uri: `${issuer}/certs` }), {
      cacheMaxAgeSeconds: 60,
      tokenCache: false,
    })
    await s.verifier.ready()
    server.routes.set(`${s.realm}${CONFIG}`, { status: 500, body: 'down' })
    s.clock.advance(61_000)
    const refreshed = s.log.next('fetched')
    assert.equal(await outcome(s.verifier.verify(s.token())), 'ok')
    await refreshed
    assert.equal(s.configCount(), 2, 'the expired discovery document was asked for again')
    assert.equal(s.certsCount(), 2, 'the key set was refreshed from the last known jwks_uri')
  })
})
