// The request guard: login CSRF (identity-providers.md §4.1), transport, CSRF token.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createBridge } from '../../src/bridge/bridge.ts'
import { checkSameOrigin, isSecureRequest, normalizeOrigin } from '../../src/bridge/request-guard.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import {
  browserRequest,
  Clock,
  cookieHeader,
  errorCode,
  HOST,
  handoffRequest,
  ISSUER,
  makeBridge,
  ORIGIN,
  setCookieNamed,
  signInToken,
  testKey,
} from './support.ts'

/** The refusal's message (4xx responses carry one). */
function messageOf(response: { body?: unknown } | undefined): string {
  const body = response?.body as { error?: { message?: string } } | undefined
  return body?.error?.message ?? ''
}

describe('request guard: Sec-Fetch-Site and Origin', () => {
  for (const site of ['cross-site', 'same-site', 'bogus']) {
    it(`refuses Sec-Fetch-Site: ${site} with 403 ERR_CROSS_SITE_REQUEST, writing nothing`, async () => {
      const { bridge, clock, identities } = makeBridge()
      const token = signInToken(clock)
      const response = await bridge.handle(handoffRequest(token, { headers: { 'sec-fetch-site': site } }))
      assert.equal(response?.status, 403)
      assert.equal(errorCode(response), 'ERR_CROSS_SITE_REQUEST')
      assert.deepEqual(response?.cookies, [])
      assert.equal(await identities.findBySubject(ISSUER, 'user-1'), undefined)
      // The token was not used up by the refused request.
      assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204)
    })
  }

  it('refuses a cross-site form POST (the login CSRF attack) even with a valid token', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock, { sub: 'attacker' }), {
        method: 'POST',
        form: true,
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
    )
    assert.equal(response?.status, 403)
    assert.equal(errorCode(response), 'ERR_CROSS_SITE_REQUEST')
    assert.equal(response?.headers.vary, 'Origin, Sec-Fetch-Site')
  })

  it('refuses a foreign Origin even without Sec-Fetch-Site (older browsers)', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { origin: 'https://evil.example', 'sec-fetch-site': undefined },
      }),
    )
    assert.equal(errorCode(response), 'ERR_CROSS_SITE_REQUEST')
  })

  it('refuses Origin: null, an http origin for an https request, and a sibling subdomain', async () => {
    const { bridge, clock } = makeBridge()
    for (const origin of ['null', `http://${HOST}`, 'https://other.example.com', `${ORIGIN}/path`]) {
      const response = await bridge.handle(handoffRequest(signInToken(clock), { headers: { origin } }))
      assert.equal(errorCode(response), 'ERR_CROSS_SITE_REQUEST', origin)
    }
  })

  it('accepts Sec-Fetch-Site: none (user-initiated) and a same-origin Origin', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), { headers: { 'sec-fetch-site': 'none' } }),
    )
    assert.equal(response?.status, 204)
  })

  it('accepts a request with neither header (a non-browser client) when csrf is off', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), { headers: { origin: undefined, 'sec-fetch-site': undefined } }),
    )
    assert.equal(response?.status, 204)
  })

  it('accepts an origin listed in allowedOrigins, even when the browser says same-site or cross-site', async () => {
    const { bridge, clock } = makeBridge({ allowedOrigins: ['https://www.example.com'] })
    for (const site of ['same-site', 'cross-site']) {
      const response = await bridge.handle(
        handoffRequest(signInToken(clock, { sub: `u-${site}` }), {
          headers: { origin: 'https://www.example.com', 'sec-fetch-site': site },
        }),
      )
      assert.equal(response?.status, 204, site)
    }
    const other = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
    )
    assert.equal(errorCode(other), 'ERR_CROSS_SITE_REQUEST')
  })

  it('guards sign-out (DELETE) the same way', async () => {
    const { bridge, clock } = makeBridge()
    const signedIn = await bridge.handle(handoffRequest(signInToken(clock)))
    const cookie = cookieHeader(signedIn)
    const refused = await bridge.handle(
      browserRequest({
        method: 'DELETE',
        headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
    )
    assert.equal(refused?.status, 403)
    assert.ok(
      await bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })),
      'still signed in',
    )
  })

  it('issue #13: the ERR_CROSS_SITE_REQUEST message names the Origin seen, the expected origin, allowedOrigins and the fix (a dev proxy rewriting Host)', async () => {
    const { bridge, clock } = makeBridge({ allowedOrigins: ['https://admin.example.com'] })
    const token = signInToken(clock)
    // A dev proxy (page on localhost:5173) that rewrote Host to the app's.
    const response = await bridge.handle(
      handoffRequest(token, {
        headers: { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-origin' },
      }),
    )
    assert.equal(errorCode(response), 'ERR_CROSS_SITE_REQUEST')
    const message = messageOf(response)
    assert.match(message, /Origin is http:\/\/localhost:5173/)
    assert.match(message, new RegExp(`this site's origin is ${ORIGIN}`))
    assert.match(message, /allowedOrigins is https:\/\/admin\.example\.com/)
    assert.match(message, /add its origin to allowedOrigins/)
    assert.match(message, /keep the browser's Host header/)
    assert.equal(message.includes(token), false, 'no token in the message')

    const site = await bridge.handle(handoffRequest(token, { headers: { 'sec-fetch-site': 'cross-site' } }))
    const siteMessage = messageOf(site)
    assert.match(siteMessage, /Sec-Fetch-Site is "cross-site"/)
    assert.match(siteMessage, /add its origin to allowedOrigins/)
  })

  it('unit: checkSameOrigin and normalizeOrigin', () => {
    const req = browserRequest()
    assert.doesNotThrow(() => checkSameOrigin(req, true, new Set()))
    assert.throws(
      () =>
        checkSameOrigin({ ...req, headers: { ...req.headers, host: 'other.example.com' } }, true, new Set()),
      (error: unknown) => isJwksBridgeError(error, 'ERR_CROSS_SITE_REQUEST'),
    )
    assert.equal(normalizeOrigin('https://A.example.com:443'), 'https://a.example.com')
    assert.equal(normalizeOrigin('https://a.example.com/x'), undefined)
    assert.equal(normalizeOrigin('https://user@a.example.com'), undefined)
    assert.equal(normalizeOrigin('ftp://a.example.com'), undefined)
    assert.equal(normalizeOrigin('null'), undefined)
  })
})

describe('transport: cookies only over https, plain http only on localhost', () => {
  it('refuses plain http on a public host with 403 ERR_INSECURE_TRANSPORT, before the token is used', async () => {
    const { bridge, clock } = makeBridge()
    const token = signInToken(clock)
    const response = await bridge.handle(
      handoffRequest(token, { secure: false, headers: { origin: `http://${HOST}` } }),
    )
    assert.equal(response?.status, 403)
    assert.equal(errorCode(response), 'ERR_INSECURE_TRANSPORT')
    assert.deepEqual(response?.cookies, [])
    assert.equal((await bridge.handle(handoffRequest(token)))?.status, 204, 'the token is still unused')
  })

  for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000']) {
    it(`allows plain http from this machine (socket on loopback, Host ${host}), with an unprefixed cookie without Secure`, async () => {
      const { bridge, clock } = makeBridge()
      const response = await bridge.handle(
        handoffRequest(signInToken(clock), {
          secure: false,
          loopback: true,
          headers: { host, origin: `http://${host}` },
        }),
      )
      assert.equal(response?.status, 204)
      const cookie = setCookieNamed(response, 'jwks-bridge-session')
      assert.ok(cookie)
      assert.doesNotMatch(cookie, /Secure/)
      assert.match(cookie, /HttpOnly; SameSite=Lax$/)
      const auth = await bridge.authenticate(
        browserRequest({ method: 'GET', secure: false, headers: { host, cookie: cookieHeader(response) } }),
      )
      assert.ok(auth)
    })
  }

  for (const host of ['localhost', 'localhost:3000', '127.0.0.1', '[::1]:3000']) {
    it(`RFC 6265bis §8.3 (cookies over plain http): a spoofed Host: ${host} from another machine gets no session over http: 403 ERR_INSECURE_TRANSPORT`, async () => {
      const { bridge, clock } = makeBridge()
      const token = signInToken(clock)
      // The client writes Host; the socket's peer (not loopback) is the adapter's, and decides.
      const response = await bridge.handle(
        handoffRequest(token, {
          secure: false,
          loopback: false,
          headers: { host, origin: `http://${host}` },
        }),
      )
      assert.equal(response?.status, 403)
      assert.equal(errorCode(response), 'ERR_INSECURE_TRANSPORT')
      assert.deepEqual(response?.cookies, [])
      // An adapter that says nothing about the socket gets no exemption either.
      const unknown = await bridge.handle(
        handoffRequest(signInToken(clock), { secure: false, headers: { host, origin: `http://${host}` } }),
      )
      assert.equal(errorCode(unknown), 'ERR_INSECURE_TRANSPORT')
    })
  }

  it('with trustProxy, a loopback socket that carries X-Forwarded-Proto is the proxy: the proxy saying http is refused', async () => {
    const { bridge, clock } = makeBridge({ trustProxy: true })
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), {
        secure: false,
        loopback: true,
        headers: { host: 'localhost:3000', origin: 'http://localhost:3000', 'x-forwarded-proto': 'http' },
      }),
    )
    assert.equal(errorCode(response), 'ERR_INSECURE_TRANSPORT')
  })

  it('X-Forwarded-Proto counts only with trustProxy', async () => {
    const headers = { 'x-forwarded-proto': 'https', origin: ORIGIN }
    const untrusted = makeBridge()
    const refused = await untrusted.bridge.handle(
      handoffRequest(signInToken(untrusted.clock), { secure: false, headers }),
    )
    assert.equal(errorCode(refused), 'ERR_INSECURE_TRANSPORT')

    const trusted = makeBridge({ trustProxy: true })
    const response = await trusted.bridge.handle(
      handoffRequest(signInToken(trusted.clock), { secure: false, headers }),
    )
    assert.equal(response?.status, 204)
    assert.ok(setCookieNamed(response, '__Host-jwks-bridge-session'))
  })

  it("RFC 7239 §5.4 / X-Forwarded-Proto: the last value (our proxy's) counts, not the first (the client's)", () => {
    // A client that writes `X-Forwarded-Proto: https` over plain http: our proxy appends `http`.
    const spoofed = browserRequest({ secure: false, headers: { 'x-forwarded-proto': 'https, http' } })
    assert.equal(isSecureRequest(spoofed, true), false)
    const req = browserRequest({ secure: false, headers: { 'x-forwarded-proto': 'http, https' } })
    assert.equal(isSecureRequest(req, true), true)
    assert.equal(isSecureRequest({ ...req, headers: { 'x-forwarded-proto': 'HTTPS' } }, true), true)
    assert.equal(isSecureRequest({ ...req, headers: { 'x-forwarded-proto': 'https' } }, false), false)
  })

  it('a secure request does not read the unprefixed cookie (one set over http could be planted)', async () => {
    const { bridge, clock } = makeBridge()
    const response = await bridge.handle(handoffRequest(signInToken(clock)))
    const value = cookieHeader(response).split('=')[1]
    const auth = await bridge.authenticate(
      browserRequest({ method: 'GET', headers: { cookie: `jwks-bridge-session=${value}` } }),
    )
    assert.equal(auth, null)
  })
})

describe('login CSRF by default (OWASP CSRF Prevention Cheat Sheet, "Login CSRF")', () => {
  // The bridge as an app creates it without naming `csrf`: the default must be the safe setting.
  function defaultBridge() {
    const clock = new Clock()
    const stores = createMemoryStores({ nowMs: clock.read })
    const bridge = createBridge({
      verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] } },
      identities: stores.identities,
      sessions: stores.sessions,
      nowMs: clock.read,
    })
    return { bridge, clock, identities: stores.identities }
  }

  it('a cross-site form POST with neither Origin nor Sec-Fetch-Site and no CSRF token is refused: 403, nothing written', async () => {
    const { bridge, clock, identities } = defaultBridge()
    // What an old browser (or one whose extension strips the headers) sends for an attacker's
    // auto-submitting form: a form body carrying the attacker's own token, no Origin, no Fetch Metadata.
    const response = await bridge.handle(
      handoffRequest(signInToken(clock, { sub: 'attacker' }), {
        method: 'POST',
        form: true,
        headers: { origin: undefined, 'sec-fetch-site': undefined },
      }),
    )
    assert.equal(response?.status, 403)
    assert.equal(errorCode(response), 'ERR_CSRF_TOKEN_INVALID')
    assert.deepEqual(response?.cookies, [])
    assert.equal(await identities.findBySubject(ISSUER, 'attacker'), undefined)
  })

  it('the page-rendered token (meta csrf-token → X-CSRF-Token) signs in with the default', async () => {
    const { bridge, clock } = defaultBridge()
    const csrf = bridge.csrfTokenFor(browserRequest({ method: 'GET', path: '/' }))
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': csrf.token },
      }),
    )
    assert.equal(response?.status, 204)
  })
})

describe('CSRF token (csrf: true)', () => {
  async function page(bridge: ReturnType<typeof makeBridge>['bridge'], cookie = '') {
    return bridge.csrfTokenFor(browserRequest({ method: 'GET', path: '/', headers: { cookie } }))
  }

  it('issues a token with a __Host- pre-session cookie, and reuses it while the cookie lives', async () => {
    const { bridge } = makeBridge({ csrf: true })
    const first = await page(bridge)
    assert.match(first.token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(first.cookies.length, 1)
    assert.match(
      first.cookies[0] as string,
      /^__Host-jwks-bridge-session-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    const again = await page(bridge, cookieHeader(first.cookies))
    assert.equal(again.token === first.token, true)
    assert.deepEqual(again.cookies, [])
  })

  it('signs in with the matching X-CSRF-Token, and ends the pre-session (cookie cleared)', async () => {
    const { bridge, clock } = makeBridge({ csrf: true })
    const csrf = await page(bridge)
    const response = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': csrf.token },
      }),
    )
    assert.equal(response?.status, 204)
    const cleared = setCookieNamed(response, '__Host-jwks-bridge-session-csrf')
    assert.ok(cleared)
    assert.match(cleared, /Max-Age=0/)
  })

  it('refuses a missing or wrong token with 403 ERR_CSRF_TOKEN_INVALID, same-origin or not', async () => {
    const { bridge, clock, identities } = makeBridge({ csrf: true })
    const csrf = await page(bridge)
    const other = await page(bridge)
    const cases: Record<string, string | undefined>[] = [
      { cookie: cookieHeader(csrf.cookies) },
      { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': other.token },
      { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': `${csrf.token}x` },
      { 'x-csrf-token': csrf.token },
      { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': '' },
    ]
    for (const headers of cases) {
      const response = await bridge.handle(handoffRequest(signInToken(clock), { headers }))
      assert.equal(response?.status, 403)
      assert.equal(errorCode(response), 'ERR_CSRF_TOKEN_INVALID')
    }
    // A non-browser client (no Origin, no Sec-Fetch-Site) needs the token too when csrf is on.
    const bare = await bridge.handle(
      handoffRequest(signInToken(clock), { headers: { origin: undefined, 'sec-fetch-site': undefined } }),
    )
    assert.equal(errorCode(bare), 'ERR_CSRF_TOKEN_INVALID')
    assert.equal(await identities.findBySubject(ISSUER, 'user-1'), undefined)
  })

  it('issue #13: a missing X-CSRF-Token and a missing CSRF cookie (a script without a cookie jar) get two messages that say what to send', async () => {
    const { bridge, clock } = makeBridge({ csrf: true })
    const csrf = await page(bridge)
    const noHeader = await bridge.handle(
      handoffRequest(signInToken(clock), { headers: { cookie: cookieHeader(csrf.cookies) } }),
    )
    assert.equal(errorCode(noHeader), 'ERR_CSRF_TOKEN_INVALID')
    assert.match(messageOf(noHeader), /no X-CSRF-Token header/)
    assert.match(messageOf(noHeader), /csrf-token/)
    const noCookie = await bridge.handle(
      handoffRequest(signInToken(clock), { headers: { 'x-csrf-token': csrf.token } }),
    )
    assert.equal(errorCode(noCookie), 'ERR_CSRF_TOKEN_INVALID')
    assert.match(messageOf(noCookie), /CSRF cookie is missing/)
    assert.match(messageOf(noCookie), /__Host-jwks-bridge-session-csrf cookie/)
    assert.match(messageOf(noCookie), /cookie jar/)
    assert.equal(messageOf(noCookie).includes(csrf.token), false, 'the token is never echoed')
  })

  it('sign-out needs the token too', async () => {
    const { bridge, clock } = makeBridge({ csrf: true })
    const csrf = await page(bridge)
    const signedIn = await bridge.handle(
      handoffRequest(signInToken(clock), {
        headers: { cookie: cookieHeader(csrf.cookies), 'x-csrf-token': csrf.token },
      }),
    )
    const next = await page(bridge, cookieHeader(csrf.cookies, signedIn))
    const cookie = cookieHeader(csrf.cookies, signedIn, next.cookies)
    const refused = await bridge.handle(browserRequest({ method: 'DELETE', headers: { cookie } }))
    assert.equal(errorCode(refused), 'ERR_CSRF_TOKEN_INVALID')
    const done = await bridge.handle(
      browserRequest({ method: 'DELETE', headers: { cookie, 'x-csrf-token': next.token } }),
    )
    assert.equal(done?.status, 204)
    assert.equal(await bridge.authenticate(browserRequest({ method: 'GET', headers: { cookie } })), null)
  })

  it('csrfTokenFor needs csrf on, and refuses plain http on a public host', async () => {
    const off = makeBridge({ csrf: false })
    assert.throws(
      () => off.bridge.csrfTokenFor(browserRequest()),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )
    const on = makeBridge({ csrf: true })
    assert.throws(
      () => on.bridge.csrfTokenFor(browserRequest({ secure: false })),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INSECURE_TRANSPORT'),
    )
  })
})
