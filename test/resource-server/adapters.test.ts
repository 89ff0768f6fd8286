// The resource server behind every adapter that has its glue (Express, Fastify, jwks-bridge/fetch,
// Hono) over real loopback HTTP: the same requests, the same answers. Each adapter gets its own server
// on a free port of 127.0.0.1 (servers.ts).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { requireAccessToken as expressRequire } from '../../src/adapters/express.ts'
import { requireAccessToken as fastifyRequire } from '../../src/adapters/fastify.ts'
import { requireAccessToken as fetchRequire } from '../../src/adapters/fetch.ts'
import { requireAccessToken as honoRequire } from '../../src/adapters/hono.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import { rawGet } from './http.ts'
import { RESOURCE_APPS, type Served } from './servers.ts'
import { clientKey, dpopProof, makeApi, NOW_SECONDS, accessToken as signAccessToken } from './support.ts'

const codeIn = async (response: Response): Promise<string> =>
  ((await response.json()) as { error: { code: string } }).error.code

for (const { name, serve, normalizesTarget } of RESOURCE_APPS) {
  describe(`requireAccessToken behind ${name} (real HTTP on 127.0.0.1)`, () => {
    let served: Served
    before(async () => {
      served = await serve()
    })
    after(async () => {
      await served.close()
    })
    const url = (path = '/api/me') => `${served.base}${path}`
    // RFC 8707: tokens issued for this server's resource identifier.
    const accessToken = (
      claims: Record<string, unknown> = {},
      header: Record<string, unknown> = {},
      key?: ReturnType<typeof clientKey>,
    ) => signAccessToken({ aud: served.api.resource, ...claims }, header, key)

    it('RFC 6750 §2.1: a Bearer access token reaches the route with payload and scopes on the request', async () => {
      const response = await fetch(url(), { headers: { authorization: `Bearer ${accessToken()}` } })
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { sub: 'user-1', scopes: ['read', 'write'], scheme: 'Bearer' })
    })

    it('RFC 9110 §11.1: the scheme matches case-insensitively', async () => {
      const response = await fetch(url(), { headers: { authorization: `bEARER ${accessToken()}` } })
      assert.equal(response.status, 200)
    })

    it('RFC 6750 §3.1: no token → 401 with the challenges and resource_metadata, and a JSON error', async () => {
      const response = await fetch(url())
      assert.equal(response.status, 401)
      const meta = `${served.base}/.well-known/oauth-protected-resource`
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer resource_metadata="${meta}", DPoP algs="${served.api.metadata().dpop_signing_alg_values_supported?.join(' ')}", resource_metadata="${meta}"`,
      )
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'ERR_TOKEN_MISSING')
    })

    it('RFC 9449 §7.1: a DPoP-bound token with its proof passes; the same proof again is refused (§11.1)', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      const proof = dpopProof(key, token, { url: url() })
      const headers = { authorization: `DPoP ${token}`, dpop: proof }
      const first = await fetch(url(), { headers })
      assert.equal(first.status, 200)
      assert.equal(((await first.json()) as { scheme: string }).scheme, 'DPoP')
      const again = await fetch(url(), { headers })
      assert.equal(again.status, 401)
      assert.match(again.headers.get('www-authenticate') ?? '', /DPoP error="invalid_dpop_proof"/)
    })

    it('RFC 9449 §4.3 check 9: a proof made for another path of this API is refused', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      const proof = dpopProof(key, token, { url: url('/api/admin') })
      const response = await fetch(url(), { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      assert.equal(response.status, 401)
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'ERR_DPOP_PROOF_INVALID',
      )
    })

    it('RFC 9449 §4.3 check 8: a proof made for another method (htm) is refused', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      const proof = dpopProof(key, token, { method: 'POST', url: url() })
      const response = await fetch(url(), { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      assert.equal(response.status, 401)
      assert.match(response.headers.get('www-authenticate') ?? '', /DPoP error="invalid_dpop_proof"/)
      assert.equal(await codeIn(response), 'ERR_DPOP_PROOF_INVALID')
    })

    it('RFC 9449 §4.3 check 9: htu is compared with the API’s own origin, not a forged Host header', async () => {
      const key = clientKey()
      const token = accessToken({}, {}, key)
      // A proof made for another server, replayed here with that server's name in Host.
      const forged = dpopProof(key, token, { url: 'http://other.example:8080/api/me' })
      const refused = await rawGet(
        served.port,
        '/api/me',
        [`Authorization: DPoP ${token}`, `DPoP: ${forged}`],
        'other.example:8080',
      )
      assert.equal(refused.status, 401)
      assert.match(refused.body, /ERR_DPOP_PROOF_INVALID/)
      // A proof for this API passes whatever Host says.
      const proof = dpopProof(key, token, { url: url() })
      const passed = await rawGet(
        served.port,
        '/api/me',
        [`Authorization: DPoP ${token}`, `DPoP: ${proof}`],
        'other.example:8080',
      )
      assert.equal(passed.status, 200)
    })

    it('RFC 9449 §4.3 check 9: a path with dot segments cannot carry a proof for the path it normalizes to', async () => {
      // A Node router dispatches on the raw path (/x/../api/me could reach an /x/:y/api/me route) while
      // the proof is compared in normalized form: refused there. A Web Request's URL is parsed before
      // routing, so router and check see the same /api/me.
      for (const path of ['/x/../api/me', '/x/%2e%2e/api/me', '/x/.%2E/api/me']) {
        const key = clientKey()
        const token = accessToken({}, {}, key)
        const proof = dpopProof(key, token, { url: url() })
        const answer = await rawGet(served.port, path, [`Authorization: DPoP ${token}`, `DPoP: ${proof}`])
        if (normalizesTarget) {
          assert.equal(answer.status, 200, path)
        } else {
          assert.equal(answer.status, 400, path)
          assert.match(answer.body, /ERR_REQUEST_INVALID/, path)
        }
      }
    })

    it('RFC 9449 §7.2: a DPoP-bound token sent as Bearer → 401 invalid_token', async () => {
      const response = await fetch(url(), {
        headers: { authorization: `Bearer ${accessToken({}, {}, clientKey())}` },
      })
      assert.equal(response.status, 401)
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/)
    })

    it('RFC 6750 §3.1: a route’s missing scope → 403 insufficient_scope naming every scope needed', async () => {
      const response = await fetch(url('/api/admin'), {
        headers: { authorization: `Bearer ${accessToken()}` },
      })
      assert.equal(response.status, 403)
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /error="insufficient_scope".*scope="read admin"/,
      )
    })

    it('RFC 6750 §3.1 invalid_request: two Authorization headers → 400', async () => {
      const token = accessToken()
      const response = await rawGet(served.port, '/api/me', [
        `Authorization: Bearer ${token}`,
        `Authorization: Bearer ${token}`,
      ])
      assert.equal(response.status, 400)
      assert.match(response.headers['www-authenticate'] ?? '', /^Bearer error="invalid_request"/)
      assert.ok(!response.body.includes(token.slice(0, 30)), 'the token is never echoed')
    })

    it('RFC 6750 §3.1 invalid_request: a list of credentials, or two DPoP headers → 400', async () => {
      const token = accessToken()
      const list = await rawGet(served.port, '/api/me', [`Authorization: Bearer ${token}, Bearer ${token}`])
      assert.equal(list.status, 400)
      const dpops = await rawGet(served.port, '/api/me', [
        `Authorization: DPoP ${token}`,
        'DPoP: a.b.c',
        'DPoP: d.e.f',
      ])
      assert.equal(dpops.status, 400)
      assert.match(dpops.headers['www-authenticate'] ?? '', /^Bearer error="invalid_request"/)
    })

    // The same request gets the same answer, word for word, from every adapter: Express and Fastify see
    // the two field lines apart; a Web Request (fetch, Hono) has them joined with ", " (RFC 9110 §5.3).
    const meta = () => `${served.base}/.well-known/oauth-protected-resource`
    const invalidRequestAnswer = (message: string) => ({
      status: 400,
      challenge:
        `Bearer error="invalid_request", error_description="${message}", resource_metadata="${meta()}", ` +
        `DPoP algs="${served.api.metadata().dpop_signing_alg_values_supported?.join(' ')}", resource_metadata="${meta()}"`,
      cacheControl: 'no-store',
      body: { error: { code: 'ERR_REQUEST_INVALID', message } },
    })
    const answerOf = (response: Awaited<ReturnType<typeof rawGet>>) => ({
      status: response.status,
      challenge: response.headers['www-authenticate'],
      cacheControl: response.headers['cache-control'],
      body: JSON.parse(response.body) as unknown,
    })

    it('RFC 6750 §3.1 / RFC 9449 §7.1: Basic and Bearer on two Authorization lines → the same 400 invalid_request from every adapter', async () => {
      const token = accessToken()
      const expected = invalidRequestAnswer(
        'the request has more than one Authorization header, or a list of credentials in one; send exactly one access token',
      )
      for (const lines of [
        ['Authorization: Basic dXNlcjpwYXNz', `Authorization: Bearer ${token}`],
        [`Authorization: Bearer ${token}`, 'Authorization: Basic dXNlcjpwYXNz'],
        ['Authorization: Digest username="a", realm="b"', `Authorization: DPoP ${token}`],
      ]) {
        const response = await rawGet(served.port, '/api/me', lines)
        assert.deepEqual(answerOf(response), expected, lines[0])
      }
    })

    it('RFC 9449 §4.3 check 1: two DPoP lines → the same 400 invalid_request from every adapter', async () => {
      const token = accessToken()
      const response = await rawGet(served.port, '/api/me', [
        `Authorization: DPoP ${token}`,
        'DPoP: a.b.c',
        'DPoP: d.e.f',
      ])
      assert.deepEqual(
        answerOf(response),
        invalidRequestAnswer(
          'the request has more than one DPoP header, or a list of proofs in one; send exactly one proof',
        ),
      )
    })

    it('a huge Authorization header → 400 without the value in the answer', async () => {
      const huge = 'a'.repeat(12_000)
      const response = await rawGet(served.port, '/api/me', [`Authorization: Bearer ${huge}`])
      assert.equal(response.status, 400)
      assert.ok(response.body.length < 300)
    })

    it('RFC 6750 §2: a token in both the header and the form body → 400; in the query → 400', async () => {
      const token = accessToken()
      const both = await fetch(url(), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      })
      assert.equal(both.status, 400)
      assert.equal(((await both.json()) as { error: { code: string } }).error.code, 'ERR_REQUEST_INVALID')
      const query = await fetch(`${url()}?access_token=${token}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      assert.equal(query.status, 400)
    })

    it('RFC 6750 §2: the route still reads the form body the guard looked into', async () => {
      const response = await fetch(url(), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken()}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'note=hello',
      })
      assert.equal(response.status, 200)
      assert.equal(((await response.json()) as { note?: string }).note, 'hello')
    })

    it('a form body past the 16 KiB scan cap reaches the route whole, with a Content-Length or chunked', async () => {
      const note = 'x'.repeat(40_000)
      const headers = {
        authorization: `Bearer ${accessToken()}`,
        'content-type': 'application/x-www-form-urlencoded',
      }
      const sized = await fetch(url(), { method: 'POST', headers, body: `note=${note}` })
      assert.equal(sized.status, 200)
      assert.equal(((await sized.json()) as { note?: string }).note, note)
      // No Content-Length: the fetch adapters' scan stops reading its clone at the cap.
      const bytes = new TextEncoder().encode(`note=${note}`)
      const chunks = [bytes.subarray(0, 10_000), bytes.subarray(10_000, 30_000), bytes.subarray(30_000)]
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks.shift()
          if (chunk === undefined) controller.close()
          else controller.enqueue(chunk)
        },
      })
      const chunked = await fetch(url(), {
        method: 'POST',
        headers,
        body: stream,
        duplex: 'half',
      } as RequestInit)
      assert.equal(chunked.status, 200)
      assert.equal(((await chunked.json()) as { note?: string }).note, note)
    })

    it('RFC 9728 §3: the metadata document is served at /.well-known/oauth-protected-resource', async () => {
      const response = await fetch(url('/.well-known/oauth-protected-resource'))
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), served.api.metadata())
      assert.equal(response.headers.get('access-control-allow-origin'), '*')
      assert.equal(response.headers.get('cache-control'), 'public, max-age=300')
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
      const head = await fetch(url('/.well-known/oauth-protected-resource'), { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.headers.get('access-control-allow-origin'), '*')
      assert.equal(await head.text(), '')
      // Only its exact path, and only to read.
      const other = await fetch(url('/.well-known/oauth-protected-resource/x'))
      assert.equal(other.status, 404)
      const post = await fetch(url('/.well-known/oauth-protected-resource'), { method: 'POST' })
      assert.equal(post.status, 404)
    })
  })
}

for (const { name, serve } of RESOURCE_APPS) {
  describe(`server DPoP nonces behind ${name}`, () => {
    let served: Served
    before(async () => {
      served = await serve({ dpopNonce: { secret: 'n'.repeat(32), lifetimeSeconds: 60 } })
    })
    after(async () => {
      await served.close()
    })

    /** A DPoP-bound token, and the 401 its proof without a nonce gets. */
    async function withoutNonce() {
      const key = clientKey()
      const token = signAccessToken({ aud: served.api.resource }, {}, key)
      const url = `${served.base}/api/me`
      const refused = await fetch(url, {
        headers: { authorization: `DPoP ${token}`, dpop: dpopProof(key, token, { url }) },
      })
      const send = (proof: string) => fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      return { key, token, url, refused, send }
    }

    it('RFC 9449 §9: a proof without the nonce → 401 use_dpop_nonce with DPoP-Nonce; with it → 200', async () => {
      const { key, token, url, refused, send } = await withoutNonce()
      assert.equal(refused.status, 401)
      assert.match(refused.headers.get('www-authenticate') ?? '', /DPoP error="use_dpop_nonce"/)
      const nonce = refused.headers.get('dpop-nonce') as string
      assert.ok(nonce.length > 0)
      const second = await send(dpopProof(key, token, { url, claims: { nonce } }))
      assert.equal(second.status, 200)
      // The nonce is the current one: nothing fresher to send.
      assert.equal(second.headers.get('dpop-nonce'), null)
    })

    it('RFC 9449 §8.2: a request with last slot’s nonce passes, and its answer carries the fresh one', async () => {
      const { key, token, url, refused, send } = await withoutNonce()
      const old = refused.headers.get('dpop-nonce') as string
      served.advanceSeconds(60)
      try {
        const response = await send(
          dpopProof(key, token, { url, claims: { nonce: old, iat: NOW_SECONDS + 60 } }),
        )
        assert.equal(response.status, 200)
        const fresh = response.headers.get('dpop-nonce')
        assert.ok(fresh !== null && fresh !== old, 'the answer carries the new slot’s nonce')
      } finally {
        served.advanceSeconds(-60)
      }
    })
  })
}

describe('requireAccessToken: options are checked when the middleware is made', () => {
  const api = makeApi()
  const factories = [
    ['jwks-bridge/express', expressRequire],
    ['jwks-bridge/fastify', fastifyRequire],
    ['jwks-bridge/fetch', fetchRequire],
    ['jwks-bridge/hono', honoRequire],
  ] as const
  const invalid = (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS')
  for (const [where, make] of factories) {
    it(`${where}: a misspelt option, scopes that are not strings and an origin with a path are refused`, () => {
      refusesUnknownOption(
        () => make(api, { scope: ['read'] } as never),
        `${where} requireAccessToken`,
        'scope',
        'scopes',
      )
      assert.throws(() => make(api, { scopes: 'read' } as never), invalid)
      assert.throws(() => make(api, { scopes: [''] }), invalid)
      assert.throws(() => make(api, { origin: 'https://api.example.com/v1' }), invalid)
      assert.throws(() => make(api, { origin: 'api.example.com' }), invalid)
      assert.doesNotThrow(() => make(api, { scopes: ['read'], origin: 'https://api.example.com/' }))
    })
  }
})
