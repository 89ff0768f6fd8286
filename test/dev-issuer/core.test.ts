// The development provider's core, in-process: plain requests in, plain answers out.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { createDevIssuer, DEV_ISSUER_COOKIE } from '../../src/dev-issuer/index.ts'
import { DEV_ISSUER_EXPOSED_WARNING } from '../../src/dev-issuer/options.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createVerifier } from '../../src/verifier/verifier.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import {
  collectWarnings,
  cookieAttributes,
  decodePart,
  formRequest,
  manualClock,
  NOW_MS,
  signInCore,
  tokenCore,
} from './helpers.ts'

const MOUNTED = 'http://127.0.0.1:3000/dev-issuer'
const env = {}

const invalid = (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS')

describe('createDevIssuer: options', () => {
  it('refuses NODE_ENV=production, saying why', () => {
    assert.throws(
      () => createDevIssuer({ issuer: MOUNTED, env: { NODE_ENV: 'production' } }),
      (error: unknown) => invalid(error) && /NODE_ENV=production/.test((error as Error).message),
    )
  })

  it('refuses a bad issuer, an unknown alg or profile, and supertokens with another alg than RS256', () => {
    for (const issuer of [
      'not a url',
      'ftp://127.0.0.1/x',
      'http://u:p@127.0.0.1',
      'http://127.0.0.1/?a=1',
      'http://127.0.0.1/#f',
    ]) {
      assert.throws(() => createDevIssuer({ issuer, env }), invalid, issuer)
    }
    assert.throws(() => createDevIssuer({ issuer: MOUNTED, env, alg: 'HS256' as never }), invalid)
    assert.throws(() => createDevIssuer({ issuer: MOUNTED, env, profile: 'auth0' as never }), invalid)
    assert.throws(
      () => createDevIssuer({ issuer: MOUNTED, env, profile: 'supertokens', alg: 'ES256' }),
      invalid,
    )
    for (const tokenLifetimeSeconds of [0, -1, 1.5, 86_401, Number.NaN]) {
      assert.throws(() => createDevIssuer({ issuer: MOUNTED, env, tokenLifetimeSeconds }), invalid)
    }
    assert.throws(() => createDevIssuer({ issuer: MOUNTED, env, audience: '' }), invalid)
  })

  it('security issue #10: refuses an issuer whose host is not loopback (anyone who reaches it signs in as anyone)', async () => {
    const warnings = await collectWarnings(async () => {
      for (const issuer of [
        'https://app.example.com/dev-issuer',
        'http://192.168.1.10:3000/dev-issuer',
        'http://0.0.0.0:4000',
        'http://[::]:4000',
        'http://10.0.0.1',
        'http://127.0.0.1.nip.io:3000',
      ]) {
        assert.throws(
          () => createDevIssuer({ issuer, env }),
          (error: unknown) =>
            invalid(error) &&
            /is not loopback/.test((error as Error).message) &&
            /dangerouslyAllowNonLoopbackIssuer: true/.test((error as Error).message),
          issuer,
        )
      }
      for (const issuer of ['http://localhost:3000', 'http://[::1]:4000/dev-issuer', 'https://127.0.0.2']) {
        assert.equal(createDevIssuer({ issuer, env }).issuer, issuer)
      }
    })
    assert.deepEqual(warnings, [], 'no warning while the guard is on')
  })

  it('security issue #10: dangerouslyAllowNonLoopbackIssuer lets a public issuer through only when set to true, and warns', async () => {
    const issuer = 'https://app.example.com/dev-issuer'
    for (const value of ['true', 1, 'yes']) {
      assert.throws(
        () => createDevIssuer({ issuer, env, dangerouslyAllowNonLoopbackIssuer: value as never }),
        (error: unknown) => invalid(error) && /must be true or false/.test((error as Error).message),
      )
    }
    assert.throws(() => createDevIssuer({ issuer, env, dangerouslyAllowNonLoopbackIssuer: false }), invalid)
    const warnings = await collectWarnings(async () => {
      assert.equal(createDevIssuer({ issuer, env, dangerouslyAllowNonLoopbackIssuer: true }).issuer, issuer)
    })
    assert.equal(warnings.length, 1)
    assert.equal(warnings[0]?.code, DEV_ISSUER_EXPOSED_WARNING)
    assert.match(
      warnings[0]?.message ?? '',
      /https:\/\/app\.example\.com.*anyone who reaches it signs in as anyone/,
    )
    // Never in production, hatch or not.
    assert.throws(
      () =>
        createDevIssuer({ issuer, env: { NODE_ENV: 'production' }, dangerouslyAllowNonLoopbackIssuer: true }),
      (error: unknown) => invalid(error) && /NODE_ENV=production/.test((error as Error).message),
    )
  })

  it('issue #13: a misspelt option is refused, naming the nearest known one', () => {
    refusesUnknownOption(
      () => createDevIssuer({ issuer: MOUNTED, env, audiance: 'my-api' } as never),
      'createDevIssuer',
      'audiance',
      'audience',
    )
  })

  it('exposes its URLs under the issuer, the base path for routing', () => {
    const devIssuer = createDevIssuer({ issuer: MOUNTED, env, alg: 'ES256' })
    assert.equal(devIssuer.issuer, MOUNTED)
    assert.equal(devIssuer.basePath, '/dev-issuer')
    assert.equal(devIssuer.discoveryUrl, `${MOUNTED}/.well-known/openid-configuration`)
    assert.equal(devIssuer.jwksUrl, `${MOUNTED}/.well-known/jwks.json`)
    assert.equal(devIssuer.signInUrl, `${MOUNTED}/sign-in`)
    assert.equal(devIssuer.tokenUrl, `${MOUNTED}/token`)
    assert.equal(devIssuer.signInUrlFor('/'), `${MOUNTED}/sign-in?return_to=%2F`)
    assert.ok(devIssuer.matches('/dev-issuer/token'))
    assert.ok(devIssuer.matches('/dev-issuer'))
    assert.ok(!devIssuer.matches('/dev-issuers'))
    assert.ok(!devIssuer.matches('/me'))
  })
})

describe('discovery and key set', () => {
  const devIssuer = createDevIssuer({ issuer: MOUNTED, env, alg: 'EdDSA', audience: 'my-app' })

  it('serves the discovery document: issuer, jwks_uri, the sign-in page as authorization_endpoint', async () => {
    const answer = await devIssuer.handle({
      method: 'GET',
      path: '/dev-issuer/.well-known/openid-configuration',
    })
    assert.equal(answer.status, 200)
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/)
    assert.equal(answer.headers['cache-control'], 'public, max-age=60')
    const document = JSON.parse(answer.body)
    assert.equal(document.issuer, MOUNTED)
    assert.equal(document.jwks_uri, `${MOUNTED}/.well-known/jwks.json`)
    assert.equal(document.authorization_endpoint, `${MOUNTED}/sign-in`)
    assert.equal(document.token_endpoint, `${MOUNTED}/token`)
    assert.deepEqual(document.id_token_signing_alg_values_supported, ['EdDSA'])
  })

  it('serves the key set at /.well-known/jwks.json and /jwt/jwks.json as application/jwk-set+json, max-age=60', async () => {
    for (const path of ['/dev-issuer/.well-known/jwks.json', '/dev-issuer/jwt/jwks.json']) {
      const answer = await devIssuer.handle({ method: 'GET', path })
      assert.equal(answer.status, 200, path)
      assert.equal(answer.headers['content-type'], 'application/jwk-set+json')
      assert.equal(answer.headers['cache-control'], 'public, max-age=60')
      const { keys } = JSON.parse(answer.body)
      assert.equal(keys.length, 1)
      assert.equal(keys[0].kty, 'OKP')
      assert.equal(keys[0].crv, 'Ed25519')
      assert.equal(keys[0].alg, 'EdDSA')
      assert.equal(keys[0].use, 'sig')
      assert.equal(typeof keys[0].kid, 'string')
      // Public members only: no private key material is ever published.
      assert.equal(keys[0].d, undefined)
    }
  })

  it('answers 404 outside its routes and 405 with Allow for a wrong method', async () => {
    assert.equal((await devIssuer.handle({ method: 'GET', path: '/dev-issuer/nope' })).status, 404)
    assert.equal(
      (await devIssuer.handle({ method: 'GET', path: '/other/.well-known/jwks.json' })).status,
      404,
    )
    const wrong = await devIssuer.handle({ method: 'POST', path: '/dev-issuer/.well-known/jwks.json' })
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.allow, 'GET, HEAD')
    assert.equal((await devIssuer.handle({ method: 'POST', path: '/dev-issuer/token' })).status, 405)
    assert.equal((await devIssuer.handle({ method: 'GET', path: '/dev-issuer/sign-out' })).status, 405)
  })

  it('sends a browser at the base path on to the sign-in page', async () => {
    const answer = await devIssuer.handle({ method: 'GET', path: '/dev-issuer' })
    assert.equal(answer.status, 303)
    assert.equal(answer.headers.location, '/dev-issuer/sign-in')
  })
})

describe('the sign-in page', () => {
  const devIssuer = createDevIssuer({ issuer: MOUNTED, env, alg: 'ES256' })

  it('has one text field with a label, one submit button, no script or external resource', async () => {
    const answer = await devIssuer.handle({
      method: 'GET',
      path: '/dev-issuer/sign-in',
      query: { return_to: '/home' },
    })
    assert.equal(answer.status, 200)
    assert.match(answer.headers['content-type'] ?? '', /^text\/html; charset=utf-8/)
    assert.match(answer.headers['content-security-policy'] ?? '', /default-src 'none'/)
    const page = answer.body
    const inputs = [...page.matchAll(/<input\b[^>]*>/g)].map((match) => match[0])
    const visible = inputs.filter((input) => !/type="hidden"/.test(input))
    assert.equal(visible.length, 1)
    assert.match(visible[0] as string, /type="text"/)
    assert.match(visible[0] as string, /id="username"/)
    assert.match(page, /<label for="username">/)
    assert.equal([...page.matchAll(/<button\b/g)].length, 1)
    assert.match(page, /<button type="submit">/)
    assert.match(page, /<input type="hidden" name="return_to" value="\/home">/)
    assert.match(page, /development identity provider/)
    assert.doesNotMatch(page, /<script|<link|<img|src=|https?:\/\/(?!127)/)
    assert.match(page, /<html lang="en">/)
    assert.match(page, /action="\/dev-issuer\/sign-in"/)
  })

  it('says who is signed in on the provider', async () => {
    const cookie = await signInCore(devIssuer, 'carol')
    const answer = await devIssuer.handle({ method: 'GET', path: '/dev-issuer/sign-in', headers: { cookie } })
    assert.match(answer.body, /Signed in as <strong>carol<\/strong>/)
  })

  it('escapes what it writes back', async () => {
    const answer = await devIssuer.handle(
      formRequest('/dev-issuer/sign-in', { username: '', return_to: '/a"><script>x</script>' }),
    )
    assert.equal(answer.status, 400)
    assert.doesNotMatch(answer.body, /<script>x/)
    assert.match(answer.body, /&quot;&gt;&lt;script&gt;/)
  })
})

describe('signing in', () => {
  const devIssuer = createDevIssuer({ issuer: MOUNTED, env })

  it('sets an HttpOnly, SameSite=Lax session cookie scoped to the issuer path and redirects 303 to return_to', async () => {
    const answer = await devIssuer.handle(
      formRequest('/dev-issuer/sign-in', { username: 'alice', return_to: '/home?x=1' }),
    )
    assert.equal(answer.status, 303)
    assert.equal(answer.headers.location, '/home?x=1')
    const setCookie = answer.headers['set-cookie'] as string
    assert.ok(setCookie.startsWith(`${DEV_ISSUER_COOKIE}=`))
    const value = setCookie.slice(DEV_ISSUER_COOKIE.length + 1).split(';', 1)[0] as string
    assert.ok(value.length >= 43, 'a 256-bit random session id')
    const attributes = cookieAttributes(setCookie)
    assert.equal(attributes.get('path'), '/dev-issuer')
    assert.ok(attributes.has('httponly'))
    assert.equal(attributes.get('samesite'), 'Lax')
    assert.ok(!attributes.has('secure'), 'http issuer: no Secure (the browser would drop the cookie)')
  })

  it('marks the cookie Secure when the issuer is https', async () => {
    const secure = createDevIssuer({ issuer: 'https://localhost', env, alg: 'ES256' })
    const answer = await secure.handle(formRequest('/sign-in', { username: 'alice' }))
    const attributes = cookieAttributes(answer.headers['set-cookie'] as string)
    assert.ok(attributes.has('secure'))
    assert.equal(attributes.get('path'), '/')
    assert.equal(answer.headers.location, '/sign-in', 'without return_to: back to the sign-in page')
  })

  it('accepts a URL on its own origin as return_to', async () => {
    const answer = await devIssuer.handle(
      formRequest('/dev-issuer/sign-in', { username: 'alice', return_to: 'http://127.0.0.1:3000/app?a=b' }),
    )
    assert.equal(answer.status, 303)
    assert.equal(answer.headers.location, 'http://127.0.0.1:3000/app?a=b')
  })

  it('trims the user name and uses it as sub; refuses empty, too long and control characters with the page again', async () => {
    const cookie = await signInCore(devIssuer, '  bob  ')
    const { jwt } = await tokenCore(devIssuer, cookie)
    assert.equal(decodePart(jwt as string, 1).sub, 'bob')
    const longest = 'é'.repeat(64)
    const { jwt: long } = await tokenCore(devIssuer, await signInCore(devIssuer, longest))
    assert.equal(decodePart(long as string, 1).sub, longest)

    for (const username of ['', '   ', 'x'.repeat(65), 'a\nb', 'a\u0000b']) {
      const answer = await devIssuer.handle(
        formRequest('/dev-issuer/sign-in', { username, return_to: '/home' }),
      )
      assert.equal(answer.status, 400, JSON.stringify(username))
      assert.equal(answer.headers['set-cookie'], undefined)
      assert.match(answer.body, /role="alert"/)
      assert.match(answer.body, /<form method="post"/)
      assert.match(answer.body, /name="return_to" value="\/home"/, 'return_to is kept for the next try')
    }
    const missing = await devIssuer.handle(formRequest('/dev-issuer/sign-in', {}))
    assert.equal(missing.status, 400)
  })

  it('refuses open redirects in return_to: no cookie, no Location, the page with an error', async () => {
    const refused = [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      '\\\\evil.example',
      '/\t/evil.example',
      'http://127.0.0.1:3001/',
      'https://127.0.0.1:3000/',
      'javascript:alert(1)',
      'data:text/html,x',
      'http://127.0.0.1:3000@evil.example/',
      ' https://evil.example/',
    ]
    for (const returnTo of refused) {
      const post = await devIssuer.handle(
        formRequest('/dev-issuer/sign-in', { username: 'alice', return_to: returnTo }),
      )
      assert.equal(post.status, 400, returnTo)
      assert.equal(post.headers.location, undefined, returnTo)
      assert.equal(post.headers['set-cookie'], undefined, returnTo)
      assert.match(post.body, /return address was refused/)
      const page = await devIssuer.handle({
        method: 'GET',
        path: '/dev-issuer/sign-in',
        query: { return_to: returnTo },
      })
      assert.equal(page.status, 400, returnTo)
      assert.doesNotMatch(page.body, /name="return_to"/, returnTo)
    }
    // Two return_to values: which one wins would depend on the parser; refused.
    const twice = await devIssuer.handle({
      method: 'POST',
      path: '/dev-issuer/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&return_to=%2Fa&return_to=%2Fb',
    })
    assert.equal(twice.status, 400)
  })

  it('refuses a sign-in form sent from another site (login CSRF)', async () => {
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ] as Record<string, string>[]) {
      const answer = await devIssuer.handle(
        formRequest('/dev-issuer/sign-in', { username: 'mallory' }, headers),
      )
      assert.equal(answer.status, 403, JSON.stringify(headers))
      assert.equal(answer.headers['set-cookie'], undefined)
    }
    const same = await devIssuer.handle(
      formRequest(
        '/dev-issuer/sign-in',
        { username: 'alice' },
        { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:3000' },
      ),
    )
    assert.equal(same.status, 303)
  })

  it('takes a form body already parsed by a framework, and refuses other media types and huge bodies', async () => {
    const parsed = await devIssuer.handle({
      method: 'POST',
      path: '/dev-issuer/sign-in',
      body: { username: 'dora' },
    })
    assert.equal(parsed.status, 303)
    const jsonBody = await devIssuer.handle({
      method: 'POST',
      path: '/dev-issuer/sign-in',
      headers: { 'content-type': 'application/json' },
      body: '{"username":"dora"}',
    })
    assert.equal(jsonBody.status, 415)
    const huge = await devIssuer.handle(
      formRequest('/dev-issuer/sign-in', { username: 'a', pad: 'x'.repeat(20_000) }),
    )
    assert.equal(huge.status, 413)
  })

  it('starts a new provider session on each sign-in and ends the one the browser had (no fixation)', async () => {
    const first = await signInCore(devIssuer, 'alice')
    const again = await devIssuer.handle(
      formRequest('/dev-issuer/sign-in', { username: 'alice' }, { cookie: first }),
    )
    const second = (again.headers['set-cookie'] as string).split(';', 1)[0] as string
    assert.notEqual(second, first)
    assert.equal((await tokenCore(devIssuer, first)).answer.status, 204)
    assert.equal((await tokenCore(devIssuer, second)).answer.status, 200)
  })
})

describe('the token endpoint', () => {
  it('204 (no token) without a session, or with an unknown cookie', async () => {
    const devIssuer = createDevIssuer({ issuer: MOUNTED, env, alg: 'ES256' })
    for (const cookie of [undefined, `${DEV_ISSUER_COOKIE}=made-up`, 'other=1']) {
      const { answer, jwt } = await tokenCore(devIssuer, cookie)
      assert.equal(answer.status, 204)
      assert.equal(answer.body, '')
      assert.equal(answer.headers['cache-control'], 'no-store')
      assert.equal(jwt, undefined)
    }
  })

  it('docs/dev-issuer.md documents the same answers as the code: 200 { jwt } signed in, 204 nobody signed in', async () => {
    const page = readFileSync(new URL('../../docs/dev-issuer.md', import.meta.url), 'utf8')
    const paragraph = page.split('\n\n').find((part) => part.includes('GET /dev-issuer/token'))
    assert.ok(paragraph, 'docs/dev-issuer.md describes GET /dev-issuer/token')
    const flat = paragraph.replace(/\s+/g, ' ')
    assert.match(flat, /`204 No Content` \(no body\) when no one is signed in/)
    assert.doesNotMatch(flat, /\b401\b/)
    assert.match(flat, /`200 \{"jwt": "\.\.\."\}` for the signed-in browser/)
    const devIssuer = createDevIssuer({ issuer: MOUNTED, env })
    assert.equal((await tokenCore(devIssuer, undefined)).answer.status, 204)
    const signedIn = await tokenCore(devIssuer, await signInCore(devIssuer, 'alice'))
    assert.equal(signedIn.answer.status, 200)
    assert.equal(typeof signedIn.jwt, 'string')
  })

  it('generic: { iss, sub, iat, exp, sid } with aud when configured, a fresh token on each call, signed with the published key', async () => {
    const clock = manualClock()
    const devIssuer = createDevIssuer({
      issuer: MOUNTED,
      env,
      alg: 'ES256',
      audience: 'my-app',
      nowMs: clock.nowMs,
      tokenLifetimeSeconds: 600,
    })
    const cookie = await signInCore(devIssuer, 'alice')
    const first = await tokenCore(devIssuer, cookie)
    assert.equal(first.answer.status, 200)
    assert.equal(first.answer.headers['cache-control'], 'no-store')
    const header = decodePart(first.jwt as string, 0)
    const payload = decodePart(first.jwt as string, 1)
    assert.deepEqual(Object.keys(header), ['alg', 'typ', 'kid'])
    assert.equal(header.alg, 'ES256')
    assert.equal(header.typ, 'JWT')
    assert.equal(header.kid, devIssuer.jwks().keys[0]?.kid)
    assert.deepEqual(payload, {
      iss: MOUNTED,
      sub: 'alice',
      iat: NOW_MS / 1000,
      exp: NOW_MS / 1000 + 600,
      aud: 'my-app',
      jti: payload.jti,
      sid: payload.sid,
    })
    assert.match(payload.jti as string, /^[0-9a-f-]{36}$/)
    assert.match(payload.sid as string, /^[0-9a-f-]{36}$/)
    assert.ok(!cookie.includes(payload.sid as string), 'sid is a handle, never the cookie secret')

    // Same second, same session: still another token (the bridge refuses a token it has seen).
    const again = await tokenCore(devIssuer, cookie)
    assert.notEqual(again.jwt, first.jwt)
    assert.notEqual(decodePart(again.jwt as string, 1).jti, payload.jti)

    clock.advanceSeconds(5)
    const second = await tokenCore(devIssuer, cookie)
    const payload2 = decodePart(second.jwt as string, 1)
    assert.equal(payload2.iat, NOW_MS / 1000 + 5)
    assert.equal(payload2.sid, payload.sid, 'same provider session, same sid')
    assert.notEqual(second.jwt, first.jwt)

    const verifier = createVerifier({
      issuer: MOUNTED,
      jwks: devIssuer.jwks(),
      algorithms: ['ES256'],
      audience: 'my-app',
      nowMs: clock.nowMs,
    })
    const verified = await verifier.verify(second.jwt as string)
    assert.equal(verified.payload.sub, 'alice')
  })

  it('supertokens: the V5 header and claims, kid d-<createdAtMillis>, sessionHandle = the provider session', async () => {
    const clock = manualClock()
    const devIssuer = createDevIssuer({ issuer: MOUNTED, env, profile: 'supertokens', nowMs: clock.nowMs })
    assert.equal(devIssuer.jwksUrl, `${MOUNTED}/jwt/jwks.json`)
    const cookie = await signInCore(devIssuer, 'alice')
    const { jwt } = await tokenCore(devIssuer, cookie)
    const header = decodePart(jwt as string, 0)
    const payload = decodePart(jwt as string, 1)
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: `d-${NOW_MS}`, version: '5' })
    assert.deepEqual(Object.keys(payload).sort(), [
      'antiCsrfToken',
      'exp',
      'iat',
      'iss',
      'parentRefreshTokenHash1',
      'refreshTokenHash1',
      'rsub',
      'sessionHandle',
      'sub',
      'tId',
    ])
    assert.equal(payload.sub, 'alice')
    assert.equal(payload.rsub, 'alice')
    assert.equal(payload.tId, 'public')
    assert.equal(payload.iss, MOUNTED)
    assert.equal(payload.iat, NOW_MS / 1000)
    assert.equal(payload.exp, NOW_MS / 1000 + 3600)
    assert.equal(payload.parentRefreshTokenHash1, null)
    assert.equal(payload.antiCsrfToken, null)
    assert.match(payload.sessionHandle as string, /^[0-9a-f-]{36}$/)
    assert.match(payload.refreshTokenHash1 as string, /^[0-9a-f]{64}$/)
    assert.equal(payload.aud, undefined, 'SuperTokens puts no aud')
    const again = await tokenCore(devIssuer, cookie)
    const payload2 = decodePart(again.jwt as string, 1)
    assert.equal(payload2.sessionHandle, payload.sessionHandle, 'one provider session, one handle')
    assert.notEqual(
      payload2.refreshTokenHash1,
      payload.refreshTokenHash1,
      'as after a refresh: tokens differ',
    )
    const discovery = JSON.parse(
      (await devIssuer.handle({ method: 'GET', path: '/dev-issuer/.well-known/openid-configuration' })).body,
    )
    assert.equal(discovery.jwks_uri, `${MOUNTED}/jwt/jwks.json`)
  })

  it('refuses to hand a token to another site', async () => {
    const devIssuer = createDevIssuer({ issuer: MOUNTED, env, alg: 'ES256' })
    const cookie = await signInCore(devIssuer, 'alice')
    const answer = await devIssuer.handle({
      method: 'GET',
      path: '/dev-issuer/token',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    })
    assert.equal(answer.status, 403)
    assert.doesNotMatch(answer.body, /jwt/)
  })
})

describe('signing out', () => {
  it('ends the provider session: 204, the cookie cleared on the same path, then no token from /token', async () => {
    const devIssuer = createDevIssuer({ issuer: MOUNTED, env, alg: 'ES256' })
    const cookie = await signInCore(devIssuer, 'alice')
    const answer = await devIssuer.handle({
      method: 'POST',
      path: '/dev-issuer/sign-out',
      headers: { cookie },
    })
    assert.equal(answer.status, 204)
    assert.equal(answer.body, '')
    const setCookie = answer.headers['set-cookie'] as string
    assert.ok(setCookie.startsWith(`${DEV_ISSUER_COOKIE}=;`))
    const attributes = cookieAttributes(setCookie)
    assert.equal(attributes.get('max-age'), '0')
    assert.equal(attributes.get('path'), '/dev-issuer')
    assert.equal((await tokenCore(devIssuer, cookie)).answer.status, 204)
    // Idempotent, and refused from another site.
    assert.equal((await devIssuer.handle({ method: 'POST', path: '/dev-issuer/sign-out' })).status, 204)
    const cross = await devIssuer.handle({
      method: 'POST',
      path: '/dev-issuer/sign-out',
      headers: { cookie, origin: 'https://evil.example' },
    })
    assert.equal(cross.status, 403)
  })
})
