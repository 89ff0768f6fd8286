// CORS on the authentication URL (issue #13, cross-origin SPAs): the preflight decision as pure data,
// then through the bridge: the preflight route, the CORS headers of actual answers, and the CSRF
// token rule for an allowed cross-origin page.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PREFLIGHT_MAX_AGE_SECONDS, preflight } from '../../src/bridge/cors.ts'
import type { BridgeRequest } from '../../src/bridge/types.ts'
import { errorCode, HOST, handoffRequest, makeBridge, ORIGIN, signInToken } from './support.ts'

const SPA = 'https://spa.example.com'
const allowed = new Set([SPA])

/** A CORS preflight from `origin` to the bridge on api.example.com, as Chromium sends it. */
function preflightRequest(origin: string | undefined, site = 'same-site'): BridgeRequest {
  return {
    method: 'OPTIONS',
    path: '/auth',
    secure: true,
    headers: {
      host: 'api.example.com',
      origin,
      'sec-fetch-site': site,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type,x-csrf-token',
    },
  }
}

describe('Fetch Standard CORS preflight for the authentication URL (pure decision)', () => {
  it('an origin in allowedOrigins: 204 naming exactly that origin, credentials, methods, headers, Max-Age, Vary: Origin', () => {
    const response = preflight(preflightRequest(SPA), true, allowed)
    assert.equal(response.status, 204)
    assert.equal(response.headers['access-control-allow-origin'], SPA)
    assert.equal(response.headers['access-control-allow-credentials'], 'true')
    assert.equal(response.headers['access-control-allow-methods'], 'PUT, POST, DELETE')
    assert.equal(response.headers['access-control-allow-headers'], 'Content-Type, X-CSRF-Token')
    assert.equal(response.headers['access-control-max-age'], String(PREFLIGHT_MAX_AGE_SECONDS))
    assert.match(response.headers.vary ?? '', /\bOrigin\b/)
    assert.deepEqual(response.cookies, [])
  })

  it('an origin not in allowedOrigins: 403 ERR_CROSS_SITE_REQUEST naming the origin and the option, no Access-Control-* header', () => {
    const response = preflight(preflightRequest('https://evil.example', 'cross-site'), true, allowed)
    assert.equal(response.status, 403)
    assert.equal(errorCode(response), 'ERR_CROSS_SITE_REQUEST')
    const message = (response.body as { error: { message: string } }).error.message
    assert.match(message, /https:\/\/evil\.example/)
    assert.match(message, /allowedOrigins/)
    assert.deepEqual(
      Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
      [],
    )
  })

  it('never a wildcard: with no allowedOrigins every foreign origin is refused, and `*` is not an origin', () => {
    for (const origin of ['https://spa.example.com', '*', 'null']) {
      const response = preflight(preflightRequest(origin), true, new Set())
      assert.equal(response.status, 403, origin)
      assert.equal(response.headers['access-control-allow-origin'], undefined, origin)
    }
  })

  it('SameSite=Lax: a listed origin on another site (Sec-Fetch-Site: cross-site) is refused, saying the cookie would not be kept', () => {
    const response = preflight(preflightRequest(SPA, 'cross-site'), true, allowed)
    assert.equal(response.status, 403)
    assert.match((response.body as { error: { message: string } }).error.message, /SameSite=Lax/)
    assert.equal(response.headers['access-control-allow-origin'], undefined)
  })

  it('RFC 9110 §9.3.7: OPTIONS without Origin (not a preflight) is 204 with Allow, no CORS headers', () => {
    const response = preflight(preflightRequest(undefined), true, allowed)
    assert.equal(response.status, 204)
    assert.equal(response.headers.allow, 'OPTIONS, PUT, POST, DELETE')
    assert.equal(response.headers['access-control-allow-origin'], undefined)
  })
})

describe('bridge: CORS on the authentication URL', () => {
  it('OPTIONS on authPath is a bridge route (adapters pass it through): the preflight answer', async () => {
    const { bridge } = makeBridge({ allowedOrigins: [SPA] })
    assert.equal(bridge.isRoute('OPTIONS', '/auth'), true)
    assert.equal(bridge.isRoute('OPTIONS', '/auth/check'), false)
    const response = await bridge.handle(preflightRequest(SPA))
    assert.equal(response?.status, 204)
    assert.equal(response?.headers['access-control-allow-origin'], SPA)
  })

  it('a sign-in from an allowed origin: the answer (and a refusal) carries Allow-Origin, Allow-Credentials, Vary: Origin', async () => {
    const { bridge, clock } = makeBridge({ allowedOrigins: [SPA] })
    const headers = { host: 'api.example.com', origin: SPA, 'sec-fetch-site': 'same-site' }
    const ok = await bridge.handle(handoffRequest(signInToken(clock), { headers }))
    assert.equal(ok?.status, 204)
    assert.equal(ok?.headers['access-control-allow-origin'], SPA)
    assert.equal(ok?.headers['access-control-allow-credentials'], 'true')
    assert.match(ok?.headers.vary ?? '', /\bOrigin\b/)
    const refused = await bridge.handle(handoffRequest('not-a-token', { headers }))
    assert.equal(refused?.status, 401)
    assert.equal(refused?.headers['access-control-allow-origin'], SPA, 'the script can read the code')
  })

  it('same-origin and foreign-origin answers carry no Access-Control-* header', async () => {
    const { bridge, clock } = makeBridge({ allowedOrigins: [SPA] })
    const own = await bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(own?.status, 204)
    assert.equal(own?.headers['access-control-allow-origin'], undefined)
    const foreign = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
    )
    assert.equal(foreign?.status, 403)
    assert.equal(foreign?.headers['access-control-allow-origin'], undefined)
  })

  it('login CSRF: with csrf on, an allowed cross-origin page signs in without the token (its Origin proves the page); every other request still needs it', async () => {
    const { bridge, clock } = makeBridge({ allowedOrigins: [SPA], csrf: true })
    const cross = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { host: 'api.example.com', origin: SPA, 'sec-fetch-site': 'same-site' },
      }),
    )
    assert.equal(cross?.status, 204)
    const own = await bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(errorCode(own), 'ERR_CSRF_TOKEN_INVALID')
    const noOrigin = await bridge.handle(
      handoffRequest(signInToken(clock), { headers: { origin: undefined, 'sec-fetch-site': undefined } }),
    )
    assert.equal(errorCode(noOrigin), 'ERR_CSRF_TOKEN_INVALID')
    // An allowed origin that is the request's own is a same-origin page: it has the token to send.
    const { bridge: selfListed, clock: c2 } = makeBridge({ allowedOrigins: [ORIGIN], csrf: true })
    const self = await selfListed.handle(handoffRequest(signInToken(c2), { headers: { host: HOST } }))
    assert.equal(errorCode(self), 'ERR_CSRF_TOKEN_INVALID')
  })
})
