// Token sources. SuperTokens: a stand-in object with the SDK's method names (no SuperTokens package
// is installed; the interface is structural). Development provider: a real HTTP server on loopback.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { devIssuerSource } from '../../src/client/dev-issuer-source.ts'
import { functionSource } from '../../src/client/function-source.ts'
import { type SuperTokensSessionLike, superTokensSource } from '../../src/client/supertokens-source.ts'

const ACCESS_TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImQtMSJ9.eyJzdWIiOiJ1In0.YWNjZXNzLXNpZw'
const LEGACY_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZWdhY3kifQ.bGVnYWN5LXNpZw'

function session(overrides: Partial<SuperTokensSessionLike>) {
  const calls = { refresh: 0, signOut: 0 }
  const value: SuperTokensSessionLike = {
    doesSessionExist: async () => true,
    attemptRefreshingSession: async () => {
      calls.refresh++
      return true
    },
    signOut: async () => {
      calls.signOut++
    },
    ...overrides,
  }
  return { session: value, calls }
}

describe('superTokensSource', () => {
  it('gives nothing when there is no SuperTokens session, without reading a token', async () => {
    let read = false
    const { session: s } = session({
      doesSessionExist: async () => false,
      getAccessToken: async () => {
        read = true
        return ACCESS_TOKEN
      },
    })
    assert.equal(await superTokensSource(s).getToken(), undefined)
    assert.equal(read, false)
  })

  it('gives the access token (supertokens-node >= 14: itself a JWT)', async () => {
    const { session: s } = session({ getAccessToken: async () => ACCESS_TOKEN })
    assert.equal((await superTokensSource(s).getToken()) === ACCESS_TOKEN, true)
  })

  it('falls back to the legacy payload.jwt when getAccessToken gives nothing or is absent', async () => {
    const legacy = async () => ({ sub: 'legacy', jwt: LEGACY_JWT })
    const hidden = session({ getAccessToken: async () => undefined, getAccessTokenPayloadSecurely: legacy })
    assert.equal((await superTokensSource(hidden.session).getToken()) === LEGACY_JWT, true)
    const old = session({ getAccessTokenPayloadSecurely: legacy })
    assert.equal((await superTokensSource(old.session).getToken()) === LEGACY_JWT, true)
  })

  it('never hands over the unsigned payload, nor a jwt member that is not a compact JWT', async () => {
    for (const payload of [
      { sub: 'u', 'st-role': { v: ['admin'] } }, // the decoded front-token, no jwt member
      { sub: 'u', jwt: { sub: 'u' } }, // an object where the legacy JWT would be
      { sub: 'u', jwt: 'not-a-jwt' },
      { sub: 'u', jwt: 'a.b.' }, // unsecured
      null,
      'eyJzdWIiOiJ1In0', // a bare payload segment
    ]) {
      const { session: s } = session({
        getAccessToken: async () => undefined,
        getAccessTokenPayloadSecurely: async () => payload,
      })
      await assert.rejects(async () => superTokensSource(s).getToken(), {
        message: 'ERR_ACCESS_TOKEN_NOT_EXPOSED',
      })
    }
  })

  it('does not send a getAccessToken value that is not a compact JWT', async () => {
    const { session: s } = session({ getAccessToken: async () => 'opaque-token' })
    await assert.rejects(async () => superTokensSource(s).getToken(), {
      message: 'ERR_ACCESS_TOKEN_NOT_EXPOSED',
    })
  })

  it('refreshes with attemptRefreshingSession and signs out with signOut', async () => {
    const { session: s, calls } = session({ getAccessToken: async () => ACCESS_TOKEN })
    const source = superTokensSource(s)
    await source.refresh?.()
    await source.signOut?.()
    assert.deepEqual(calls, { refresh: 1, signOut: 1 })
  })
})

describe('functionSource', () => {
  it('wraps the functions it is given', async () => {
    let refreshed = 0
    const source = functionSource(
      () => ACCESS_TOKEN,
      () => refreshed++,
    )
    assert.equal((await source.getToken()) === ACCESS_TOKEN, true)
    await source.refresh?.()
    assert.equal(refreshed, 1)
    assert.equal(source.signOut, undefined)
    assert.equal(functionSource(() => undefined).refresh, undefined, 'no refresh: no retry')
  })
})

describe('devIssuerSource against a loopback HTTP server', () => {
  let server: Server
  let base = ''
  let signedIn = true
  let tokenStatus = 200
  let tokenBody = ''
  const seen: { method: string; url: string }[] = []

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '' })
      if (req.url === '/issuer/token' && req.method === 'GET') {
        if (signedIn) res.writeHead(tokenStatus, { 'content-type': 'application/json' }).end(tokenBody)
        else res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"not signed in"}')
      } else if (req.url === '/issuer/sign-out' && req.method === 'POST') {
        signedIn = false
        res.writeHead(204).end()
      } else {
        res.writeHead(404).end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/issuer/`
    // The page's address, as the browser's `location` gives it: a page on the issuer's origin.
    pageAt(new URL('/app', base))
  })
  after(() => {
    pageAt(undefined)
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })

  /** Sets (or removes) the global `location` the source resolves the issuer URL against. */
  const pageAt = (url: URL | undefined) =>
    Object.defineProperty(globalThis, 'location', { value: url, configurable: true, writable: true })

  it('gets { jwt } from <issuer>/token (trailing slash of the issuer URL ignored)', async () => {
    signedIn = true
    tokenStatus = 200
    tokenBody = JSON.stringify({ jwt: ACCESS_TOKEN })
    assert.equal((await devIssuerSource(base).getToken()) === ACCESS_TOKEN, true)
    assert.deepEqual(seen.at(-1), { method: 'GET', url: '/issuer/token' })
  })

  it('gives nothing on 401 or 204 (no one signed in with the provider)', async () => {
    signedIn = false
    assert.equal(await devIssuerSource(base).getToken(), undefined)
    signedIn = true
    tokenStatus = 204
    tokenBody = ''
    assert.equal(await devIssuerSource(base).getToken(), undefined)
  })

  it('fails with ERR_TOKEN_SOURCE on another status or a body without a JWT', async () => {
    signedIn = true
    for (const [status, body] of [
      [500, '{}'],
      [200, '{"jwt":{"sub":"u"}}'],
      [200, 'null'],
      [403, '{"error":"tokens are handed only to pages of this origin"}'],
    ] as const) {
      tokenStatus = status
      tokenBody = body
      await assert.rejects(async () => devIssuerSource(base).getToken(), { message: 'ERR_TOKEN_SOURCE' })
    }
  })

  it('resolves the issuer URL against the page address, and refuses one on another origin (ERR_TOKEN_SOURCE) without a request', async () => {
    signedIn = true
    tokenStatus = 200
    tokenBody = JSON.stringify({ jwt: ACCESS_TOKEN })
    assert.equal((await devIssuerSource('/issuer').getToken()) === ACCESS_TOKEN, true)
    assert.deepEqual(seen.at(-1), { method: 'GET', url: '/issuer/token' })
    const requests = seen.length
    const other = base.replace('127.0.0.1', 'localhost')
    await assert.rejects(async () => devIssuerSource(other).getToken(), { message: 'ERR_TOKEN_SOURCE' })
    await assert.rejects(async () => devIssuerSource(other).signOut?.(), { message: 'ERR_TOKEN_SOURCE' })
    assert.equal(seen.length, requests, 'no request to the other origin')
  })

  it('signs out with POST <issuer>/sign-out', async () => {
    signedIn = true
    await devIssuerSource(base).signOut?.()
    assert.deepEqual(seen.at(-1), { method: 'POST', url: '/issuer/sign-out' })
    assert.equal(signedIn, false)
  })
})
