// The browser script's decisions, without a browser: what a page asks for, what a reply means, and
// the single retry with a refreshed token.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  handOff,
  isRetryable,
  pageAction,
  type Reply,
  replyCode,
  sourceErrorCode,
} from '../../src/client/decide.ts'
import { looksLikeJwt, type TokenSource } from '../../src/client/token-source.ts'

// Shaped like compact JWS; never verified here, only compared by identity.
const TOKEN_A = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLWE'
const TOKEN_B = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiIn0.c2lnbmF0dXJlLWI'

/** A source whose tokens are taken in turn, counting calls. */
function scriptedSource(tokens: (string | undefined)[], withRefresh = true) {
  const calls = { getToken: 0, refresh: 0 }
  const source: TokenSource = {
    getToken: () => tokens[Math.min(calls.getToken++, tokens.length - 1)],
    ...(withRefresh ? { refresh: () => void calls.refresh++ } : {}),
  }
  return { source, calls }
}

/** A server that answers the scripted replies in turn and records which token each send carried. */
function scriptedServer(replies: Reply[]) {
  const sent: string[] = []
  const send = async (token: string): Promise<Reply> => {
    sent.push(token)
    return replies[Math.min(sent.length - 1, replies.length - 1)]!
  }
  return { send, sent }
}

describe('pageAction: what the meta tags ask for', () => {
  it('hands off only when has-session is exactly "false"', () => {
    assert.equal(pageAction('false', false), 'hand-off')
    assert.equal(pageAction('true', false), 'skip')
    assert.equal(pageAction(undefined, false), 'skip')
    assert.equal(pageAction(null, false), 'skip')
    assert.equal(pageAction('', false), 'skip')
    assert.equal(pageAction('FALSE', false), 'skip')
  })

  it('refuses to hand off again right after a handoff whose session did not stick (no reload loop)', () => {
    assert.equal(pageAction('false', true), 'ERR_SESSION_NOT_KEPT')
    assert.equal(pageAction('true', true), 'skip')
  })
})

describe('replyCode and isRetryable: what the server said', () => {
  it('any 2xx is success', () => {
    for (const status of [200, 201, 204]) assert.equal(replyCode({ status }), '')
  })

  it("passes the server's code on, else names the HTTP status, else the network", () => {
    assert.equal(replyCode({ status: 403, code: 'ERR_CSRF_TOKEN_INVALID' }), 'ERR_CSRF_TOKEN_INVALID')
    assert.equal(replyCode({ status: 403, code: 'ERR_CROSS_SITE_REQUEST' }), 'ERR_CROSS_SITE_REQUEST')
    assert.equal(replyCode({ status: 500 }), 'ERR_HTTP_500')
    assert.equal(replyCode({ status: 0 }), 'ERR_NETWORK')
  })

  it('does not echo a code that is not shaped like one', () => {
    assert.equal(replyCode({ status: 401, code: 'token eyJ... is bad' }), 'ERR_HTTP_401')
    assert.equal(replyCode({ status: 401, code: '' }), 'ERR_HTTP_401')
  })

  it('retries only 401 with ERR_JWT_TOO_OLD or ERR_TOKEN_REPLAYED', () => {
    assert.equal(isRetryable({ status: 401, code: 'ERR_JWT_TOO_OLD' }), true)
    assert.equal(isRetryable({ status: 401, code: 'ERR_TOKEN_REPLAYED' }), true)
    assert.equal(isRetryable({ status: 401, code: 'ERR_JWT_EXPIRED' }), false)
    assert.equal(isRetryable({ status: 401, code: 'ERR_SIGNATURE_INVALID' }), false)
    assert.equal(isRetryable({ status: 403, code: 'ERR_TOKEN_REPLAYED' }), false)
    assert.equal(isRetryable({ status: 401 }), false)
  })
})

describe('looksLikeJwt and sourceErrorCode', () => {
  it('accepts three base64url segments with a signature, nothing else', () => {
    assert.equal(looksLikeJwt(TOKEN_A), true)
    assert.equal(looksLikeJwt('a.b.'), false, 'unsecured JWT (empty signature)')
    assert.equal(looksLikeJwt('a.b'), false)
    assert.equal(looksLikeJwt('a.b.c.d.e'), false, 'JWE')
    assert.equal(looksLikeJwt('a.b.c\n'), false)
    assert.equal(looksLikeJwt('a+b.c.d'), false, 'base64, not base64url')
    assert.equal(looksLikeJwt({ sub: 'x' }), false, 'a payload object')
    assert.equal(looksLikeJwt(undefined), false)
  })

  it("keeps a source's own ERR_ code, hides any other message", () => {
    assert.equal(sourceErrorCode(new Error('ERR_ACCESS_TOKEN_NOT_EXPOSED')), 'ERR_ACCESS_TOKEN_NOT_EXPOSED')
    assert.equal(sourceErrorCode(new Error('network down for user@example.com')), 'ERR_TOKEN_SOURCE')
    assert.equal(sourceErrorCode('ERR_NOT_AN_ERROR_OBJECT'), 'ERR_TOKEN_SOURCE')
  })
})

describe('handOff: sending the token, with one retry', () => {
  it('sends the token once and reports ok on 204', async () => {
    const { source, calls } = scriptedSource([TOKEN_A])
    const server = scriptedServer([{ status: 204 }])
    assert.equal(await handOff(source, server.send), 'ok')
    assert.equal(server.sent.length, 1)
    assert.equal(server.sent[0] === TOKEN_A, true)
    assert.equal(calls.refresh, 0)
  })

  it('sends nothing when the source has no token', async () => {
    for (const empty of [undefined, null, '']) {
      const server = scriptedServer([{ status: 204 }])
      const source: TokenSource = { getToken: () => empty }
      assert.equal(await handOff(source, server.send), 'none')
      assert.equal(server.sent.length, 0)
    }
  })

  for (const code of ['ERR_JWT_TOO_OLD', 'ERR_TOKEN_REPLAYED']) {
    it(`after 401 ${code}: refreshes the source and sends the fresh token once`, async () => {
      const { source, calls } = scriptedSource([TOKEN_A, TOKEN_B])
      const server = scriptedServer([{ status: 401, code }, { status: 204 }])
      assert.equal(await handOff(source, server.send), 'ok')
      assert.equal(calls.refresh, 1)
      assert.equal(server.sent.length, 2)
      assert.equal(server.sent[1] === TOKEN_B, true, 'the second send carries the refreshed token')
    })
  }

  it('never loops: a second refusal is reported, not retried', async () => {
    const { source, calls } = scriptedSource([TOKEN_A, TOKEN_B, TOKEN_A, TOKEN_B])
    const server = scriptedServer([{ status: 401, code: 'ERR_TOKEN_REPLAYED' }])
    assert.equal(await handOff(source, server.send), 'ERR_TOKEN_REPLAYED')
    assert.equal(server.sent.length, 2)
    assert.equal(calls.refresh, 1)
  })

  it('does not resend the same token when the refresh brought no new one', async () => {
    const { source, calls } = scriptedSource([TOKEN_A, TOKEN_A])
    const server = scriptedServer([{ status: 401, code: 'ERR_JWT_TOO_OLD' }])
    assert.equal(await handOff(source, server.send), 'ERR_JWT_TOO_OLD')
    assert.equal(server.sent.length, 1)
    assert.equal(calls.refresh, 1)
  })

  it('reports the refusal when the refresh leaves no token or throws', async () => {
    const gone = scriptedSource([TOKEN_A, undefined])
    const server = scriptedServer([{ status: 401, code: 'ERR_TOKEN_REPLAYED' }])
    assert.equal(await handOff(gone.source, server.send), 'ERR_TOKEN_REPLAYED')
    assert.equal(server.sent.length, 1)

    const throwing: TokenSource = {
      getToken: () => TOKEN_A,
      refresh: () => Promise.reject(new Error('refresh failed')),
    }
    const again = scriptedServer([{ status: 401, code: 'ERR_JWT_TOO_OLD' }])
    assert.equal(await handOff(throwing, again.send), 'ERR_JWT_TOO_OLD')
    assert.equal(again.sent.length, 1)
  })

  it('without a refresh hook, a refused token is reported and not retried', async () => {
    const { source } = scriptedSource([TOKEN_A, TOKEN_B], false)
    const server = scriptedServer([{ status: 401, code: 'ERR_TOKEN_REPLAYED' }])
    assert.equal(await handOff(source, server.send), 'ERR_TOKEN_REPLAYED')
    assert.equal(server.sent.length, 1)
  })

  it('does not retry other refusals', async () => {
    for (const reply of [
      { status: 401, code: 'ERR_SIGNATURE_INVALID' },
      { status: 403, code: 'ERR_CSRF_TOKEN_INVALID' },
      { status: 403, code: 'ERR_CROSS_SITE_REQUEST' },
      { status: 500 },
      { status: 0 },
    ]) {
      const { source, calls } = scriptedSource([TOKEN_A, TOKEN_B])
      const server = scriptedServer([reply])
      assert.equal(await handOff(source, server.send), replyCode(reply))
      assert.equal(server.sent.length, 1)
      assert.equal(calls.refresh, 0)
    }
  })

  it('reports a throwing source by its code and sends nothing', async () => {
    const server = scriptedServer([{ status: 204 }])
    const hidden: TokenSource = { getToken: () => Promise.reject(new Error('ERR_ACCESS_TOKEN_NOT_EXPOSED')) }
    assert.equal(await handOff(hidden, server.send), 'ERR_ACCESS_TOKEN_NOT_EXPOSED')
    const broken: TokenSource = {
      getToken: () => {
        throw new TypeError('x is undefined')
      },
    }
    assert.equal(await handOff(broken, server.send), 'ERR_TOKEN_SOURCE')
    assert.equal(server.sent.length, 0)
  })
})
