// jwks-bridge/fetch's resource server guard on plain Request objects (no server: a pure translation),
// for what adapters.test.ts over HTTP does not reach: which bodies are read, and how.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { protectedResourceMetadata, requireAccessToken } from '../../src/adapters/fetch.ts'
import { API_URL, accessToken, makeApi } from './support.ts'

const api = makeApi()
const guard = requireAccessToken(api)

function post(contentType: string, body: string): Request {
  return new Request(API_URL, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken()}`, 'content-type': contentType },
    body,
  })
}

async function codeOf(request: Request): Promise<string> {
  const outcome = await guard(request)
  if (outcome.ok) return 'passed'
  return ((await outcome.response.json()) as { error: { code: string } }).error.code
}

describe('jwks-bridge/fetch requireAccessToken: the body', () => {
  it('RFC 6750 §2.2, RFC 9110 §8.3.1: the form media type matches in any case and with parameters', async () => {
    const token = accessToken()
    const spelled = post('Application/X-WWW-Form-URLEncoded ; charset=UTF-8', `access_token=${token}`)
    assert.equal(await codeOf(spelled), 'ERR_REQUEST_INVALID')
  })

  it('RFC 6750 §2.2 defines the form body alone: JSON and text bodies are not scanned', async () => {
    const token = accessToken()
    for (const type of ['application/json', 'text/plain']) {
      // The same parameter in another media type is not the form body method (and not parsed as one).
      const body =
        type === 'application/json' ? JSON.stringify({ access_token: token }) : `access_token=${token}`
      const request = post(type, body)
      assert.equal(await codeOf(request), 'passed')
      assert.equal(request.bodyUsed, false, `${type}: the body is still the route's`)
    }
  })

  it('a form body is read from a clone: the route reads it after the guard', async () => {
    const request = post('application/x-www-form-urlencoded', 'note=hello')
    const outcome = await guard(request)
    assert.equal(outcome.ok, true)
    assert.equal(request.bodyUsed, false)
    assert.equal((await request.formData()).get('note'), 'hello')
  })

  it('a body the app has already read is not scanned, and the guard does not throw', async () => {
    const request = post('application/x-www-form-urlencoded', `access_token=${accessToken()}`)
    await request.text()
    assert.equal(await codeOf(request), 'passed')
  })
})

describe('jwks-bridge/fetch requireAccessToken: the answer', () => {
  it('a Bearer token passes with no headers to add; a refusal is a Response with its challenge', async () => {
    const passed = await guard(
      new Request(API_URL, { headers: { authorization: `Bearer ${accessToken()}` } }),
    )
    assert.ok(passed.ok)
    assert.deepEqual(passed.headers, {})
    assert.equal(passed.auth.scheme, 'Bearer')
    const refused = await guard(new Request(API_URL))
    assert.ok(!refused.ok)
    assert.equal(refused.response.status, 401)
    assert.match(refused.response.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata=/)
    assert.match(refused.response.headers.get('content-type') ?? '', /^application\/json/)
  })

  it('RFC 9728 §3: the metadata answers at its path whatever the query or fragment, and nothing else', () => {
    const metadata = protectedResourceMetadata(api)
    const at = `${api.resource}${api.metadataPath}`
    assert.equal(metadata(new Request(`${at}#x`))?.status, 200)
    assert.equal(metadata(new Request(`${at}?x=1`))?.status, 200)
    assert.equal(metadata(new Request(`${api.resource}/other`)), null)
    assert.equal(metadata(new Request(at, { method: 'DELETE' })), null)
  })
})
