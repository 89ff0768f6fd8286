// The development provider served on its own node:http server (127.0.0.1, a free port), driven with
// fetch as a browser and an app would: discovery, key set, the sign-in form, the token endpoint; the
// tokens verified by the real createVerifier and the bridge's token profiles.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { tokenProfile } from '../../src/bridge/profiles.ts'
import {
  createDevIssuer,
  type DevIssuer,
  type DevIssuerAlgorithm,
  type StartDevIssuerOptions,
  startDevIssuer,
} from '../../src/dev-issuer/index.ts'
import { DEV_ISSUER_EXPOSED_WARNING } from '../../src/dev-issuer/options.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createVerifier } from '../../src/verifier/verifier.ts'
import { collectWarnings, cookieAttributes, cookiePair, decodePart, manualClock } from './helpers.ts'

const env = {}

async function withProvider<T>(
  options: StartDevIssuerOptions,
  body: (running: Awaited<ReturnType<typeof startDevIssuer>>) => Promise<T>,
): Promise<T> {
  const running = await startDevIssuer({ port: 0, env, ...options })
  try {
    return await body(running)
  } finally {
    await running.close()
  }
}

/** The browser's sign-in: the form POST; returns the provider cookie pair and where it was sent. */
async function signIn(signInUrl: string, userName: string, returnTo?: string) {
  const fields: Record<string, string> = { username: userName }
  if (returnTo !== undefined) fields.return_to = returnTo
  const response = await fetch(signInUrl, {
    method: 'POST',
    body: new URLSearchParams(fields),
    redirect: 'manual',
  })
  const setCookie = response.headers.get('set-cookie')
  return {
    status: response.status,
    location: response.headers.get('location'),
    setCookie,
    cookie: setCookie === null ? undefined : cookiePair(setCookie),
  }
}

async function getToken(
  tokenUrl: string,
  cookie: string | undefined,
): Promise<{ status: number; jwt: string | undefined }> {
  const response = await fetch(tokenUrl, { headers: cookie === undefined ? {} : { cookie } })
  const body = (response.status === 204 ? {} : await response.json()) as { jwt?: unknown; error?: unknown }
  return { status: response.status, jwt: typeof body.jwt === 'string' ? body.jwt : undefined }
}

describe('served provider: discovery → key set → sign-in → token → createVerifier', () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const satisfies readonly DevIssuerAlgorithm[]) {
    it(`generic ${alg}: the token verifies through discovery and passes the generic profile`, async () => {
      await withProvider({ alg, audience: 'my-app' }, async (running) => {
        assert.match(running.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.equal(running.host, '127.0.0.1')

        const discovery = await fetch(running.discoveryUrl)
        assert.equal(discovery.status, 200)
        const document = (await discovery.json()) as Record<string, unknown>
        assert.equal(document.issuer, running.issuer)
        assert.equal(document.jwks_uri, running.jwksUrl)
        const jwks = await fetch(running.jwksUrl)
        assert.equal(jwks.headers.get('content-type'), 'application/jwk-set+json')
        assert.equal(jwks.headers.get('cache-control'), 'public, max-age=60')

        const page = await fetch(`${running.signInUrl}?return_to=${encodeURIComponent('/after')}`)
        assert.equal(page.status, 200)
        assert.match(await page.text(), /<label for="username">/)

        const signedIn = await signIn(running.signInUrl, 'alice', '/after')
        assert.equal(signedIn.status, 303)
        assert.equal(signedIn.location, '/after')
        assert.ok(cookieAttributes(signedIn.setCookie as string).has('httponly'))

        const { status, jwt } = await getToken(`${running.issuer}/token`, signedIn.cookie)
        assert.equal(status, 200)
        const profile = tokenProfile('generic', { audience: 'my-app' })
        const verifier = createVerifier({
          issuer: running.issuer,
          algorithms: [alg],
          ...profile.verifierOptions,
        })
        const verified = await verifier.verify(jwt as string)
        assert.equal(verified.header.alg, alg)
        assert.equal(verified.payload.sub, 'alice')
        assert.equal(verified.payload.aud, 'my-app')
        const { subject, providerSessionId } = profile.check(verified)
        assert.equal(subject, 'alice')
        assert.equal(providerSessionId, verified.payload.sid)
      })
    })
  }

  it('supertokens, mounted under /auth in another server: verifies from /jwt/jwks.json and discovery, passes the supertokens profile', async () => {
    // As the reference app mounts it: its own server routes the issuer's path prefix to the core.
    let devIssuer: DevIssuer | undefined
    const server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', async () => {
        const path = request.url ?? '/'
        if (devIssuer === undefined || !devIssuer.matches(path.split('?', 1)[0] as string)) {
          response.writeHead(200, { 'content-type': 'text/plain' }).end('the app')
          return
        }
        const answer = await devIssuer.handle({
          method: request.method ?? 'GET',
          path,
          headers: request.headers,
          body: Buffer.concat(chunks),
        })
        response.writeHead(answer.status, answer.headers).end(answer.body)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      devIssuer = createDevIssuer({ issuer: `${origin}/auth`, profile: 'supertokens', env })
      assert.equal(devIssuer.jwksUrl, `${origin}/auth/jwt/jwks.json`)
      assert.equal(await (await fetch(`${origin}/`)).text(), 'the app')

      const signedIn = await signIn(devIssuer.signInUrl, 'alice', '/')
      assert.equal(signedIn.location, '/')
      assert.equal(cookieAttributes(signedIn.setCookie as string).get('path'), '/auth')
      const { jwt } = await getToken(devIssuer.tokenUrl, signedIn.cookie)
      const profile = tokenProfile('supertokens')
      for (const source of [
        { jwksUri: devIssuer.jwksUrl },
        { jwksUri: `${origin}/auth/.well-known/jwks.json` },
        {},
      ]) {
        const verifier = createVerifier({ issuer: devIssuer.issuer, ...source, ...profile.verifierOptions })
        const verified = await verifier.verify(jwt as string)
        const { subject, providerSessionId } = profile.check(verified)
        assert.equal(subject, 'alice')
        assert.equal(providerSessionId, verified.payload.sessionHandle)
        assert.match(verified.header.kid as string, /^d-\d{13}$/)
        assert.equal(verified.header.version, '5')
      }
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('the token endpoint: 204 without a session, a fresh token per call, 204 again after sign-out', async () => {
    await withProvider({ alg: 'ES256' }, async (running) => {
      const tokenUrl = `${running.issuer}/token`
      assert.equal((await getToken(tokenUrl, undefined)).status, 204)
      const { cookie } = await signIn(running.signInUrl, 'bob')
      const first = await getToken(tokenUrl, cookie)
      const second = await getToken(tokenUrl, cookie)
      assert.equal(first.status, 200)
      assert.notEqual(first.jwt, second.jwt)
      const out = await fetch(`${running.issuer}/sign-out`, {
        method: 'POST',
        headers: { cookie: cookie as string },
      })
      assert.equal(out.status, 204)
      assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/)
      assert.equal((await getToken(tokenUrl, cookie)).status, 204)
    })
  })

  it('refuses an open redirect in return_to over HTTP too', async () => {
    await withProvider({ alg: 'ES256' }, async (running) => {
      for (const returnTo of ['https://evil.example/', '//evil.example', '/\\evil.example']) {
        const result = await signIn(running.signInUrl, 'alice', returnTo)
        assert.equal(result.status, 400, returnTo)
        assert.equal(result.location, null)
        assert.equal(result.setCookie, null)
      }
    })
  })
})

describe('served provider: key rotation', () => {
  it('old tokens keep verifying until they expire, then the old key leaves the key set', async () => {
    const clock = manualClock()
    await withProvider({ alg: 'ES256', nowMs: clock.nowMs, tokenLifetimeSeconds: 600 }, async (running) => {
      const tokenUrl = `${running.issuer}/token`
      const kids = async () =>
        ((await (await fetch(running.jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map(
          (key) => key.kid,
        )
      const verify = (jwt: string) =>
        createVerifier({
          issuer: running.issuer,
          jwksUri: running.jwksUrl,
          algorithms: ['ES256'],
          nowMs: clock.nowMs,
        }).verify(jwt)

      const { cookie } = await signIn(running.signInUrl, 'alice')
      const [oldKid] = await kids()
      // A verifier that fetched the set before the rotation: it must pick up the new key by itself.
      const early = createVerifier({
        issuer: running.issuer,
        jwksUri: running.jwksUrl,
        algorithms: ['ES256'],
        nowMs: clock.nowMs,
      })
      const a = (await getToken(tokenUrl, cookie)).jwt as string // exp now + 600
      await early.verify(a)
      clock.advanceSeconds(100)
      const a2 = (await getToken(tokenUrl, cookie)).jwt as string // exp now + 700: the old key's last
      assert.equal(decodePart(a2, 0).kid, oldKid)

      const rotated = await fetch(`${running.issuer}/rotate`, { method: 'POST' })
      assert.equal(rotated.status, 200)
      const { kid: newKid } = (await rotated.json()) as { kid: string }
      assert.notEqual(newKid, oldKid)
      assert.deepEqual(await kids(), [newKid, oldKid])

      const b = (await getToken(tokenUrl, cookie)).jwt as string
      assert.equal(decodePart(b, 0).kid, newKid)
      assert.equal((await early.verify(b)).payload.sub, 'alice')
      for (const jwt of [a, a2, b]) assert.equal((await verify(jwt)).payload.sub, 'alice')

      // At the first old token's exp (t0 + 600), the second (exp t0 + 700) still needs the old key.
      clock.advanceSeconds(500)
      await assert.rejects(verify(a), (error: unknown) => isJwksBridgeError(error, 'ERR_JWT_EXPIRED'))
      assert.deepEqual(await kids(), [newKid, oldKid])
      assert.equal((await verify(a2)).payload.sub, 'alice')

      // At the exp of the last token the old key signed: gone on the next read.
      clock.advanceSeconds(100)
      assert.deepEqual(await kids(), [newKid])
    })
  })

  it('a key that never signed is dropped at once; rotation is refused past 10 published keys', async () => {
    await withProvider({ alg: 'EdDSA' }, async (running) => {
      const first = await running.devIssuer.rotateKeys()
      const second = await running.devIssuer.rotateKeys()
      assert.deepEqual(second.kids, [second.kid], 'unused keys need no overlap')
      assert.notEqual(first.kid, second.kid)
      const { cookie } = await signIn(running.signInUrl, 'alice')
      for (let i = 0; i < 9; i++) {
        await getToken(`${running.issuer}/token`, cookie)
        const rotated = await fetch(`${running.issuer}/rotate`, { method: 'POST' })
        assert.equal(rotated.status, 200)
      }
      assert.equal(running.devIssuer.jwks().keys.length, 10)
      const refused = await fetch(`${running.issuer}/rotate`, { method: 'POST' })
      assert.equal(refused.status, 409)
      const cross = await fetch(`${running.issuer}/rotate`, {
        method: 'POST',
        headers: { origin: 'https://evil.example' },
      })
      assert.equal(cross.status, 403)
    })
  })
})

describe('served provider: safety', () => {
  const refused = (pattern: RegExp) => (error: unknown) =>
    isJwksBridgeError(error, 'ERR_INVALID_OPTIONS') && pattern.test((error as Error).message)

  it('refuses to start with NODE_ENV=production (given env, and process.env by default)', async () => {
    await assert.rejects(
      startDevIssuer({ port: 0, env: { NODE_ENV: 'production' } }),
      refused(/NODE_ENV=production/),
    )
    const saved = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      await assert.rejects(startDevIssuer({ port: 0 }), refused(/NODE_ENV=production/))
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = saved
    }
  })

  it('refuses a non-loopback host unless allowNonLoopback is true', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'example.com']) {
      await assert.rejects(startDevIssuer({ port: 0, env, host }), refused(/not a loopback address/), host)
    }
    // Explicitly allowed: the refusal is gone (listening on 0.0.0.0 is not tried here: this machine's
    // servers stay on 127.0.0.1). 192.0.2.10 (TEST-NET-1) is not this machine's, so listen fails instead.
    await assert.rejects(
      startDevIssuer({ port: 0, env, host: '192.0.2.10', allowNonLoopback: true }),
      (error: unknown) => (error as { code?: unknown }).code === 'EADDRNOTAVAIL',
    )
  })

  it('security issue #10: on a loopback host behind a proxy, a public --issuer is refused unless allowNonLoopback, which warns', async () => {
    const issuer = 'https://dev.example.com/dev-issuer'
    await assert.rejects(
      startDevIssuer({ port: 0, env, issuer }),
      refused(/is not loopback.*allowNonLoopback/s),
    )
    const warnings = await collectWarnings(async () => {
      await withProvider({ issuer, allowNonLoopback: true }, async (running) => {
        assert.equal(running.issuer, issuer)
        assert.equal(running.host, '127.0.0.1')
      })
    })
    assert.deepEqual(
      warnings.map((warning) => warning.code),
      [DEV_ISSUER_EXPOSED_WARNING],
    )
  })

  it('binds to 127.0.0.1 by default; other loopback names pass the host check', async () => {
    await withProvider({ alg: 'ES256' }, async (running) => {
      assert.equal(running.host, '127.0.0.1')
      assert.equal((running.server.address() as AddressInfo).address, '127.0.0.1')
    })
    // Not listened on (tests keep to 127.0.0.1): a bad port shows the host was accepted.
    for (const host of ['localhost', '::1', '[::1]', '127.0.0.2']) {
      await assert.rejects(startDevIssuer({ port: 70_000, env, host }), refused(/^port/), host)
    }
  })

  it('refuses bad options before listening', async () => {
    await assert.rejects(startDevIssuer({ port: 70_000, env }), refused(/port/))
    await assert.rejects(
      startDevIssuer({ port: 0, env, profile: 'supertokens', alg: 'EdDSA' }),
      refused(/RS256/),
    )
  })

  it('a body over 16 KiB is refused with 413', async () => {
    await withProvider({ alg: 'ES256' }, async (running) => {
      const response = await fetch(running.signInUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `username=a&pad=${'x'.repeat(40_000)}`,
      }).catch(() => undefined)
      // The server answers 413 and closes; fetch may see the answer or the closed socket.
      if (response !== undefined) assert.equal(response.status, 413)
    })
  })
})
