// needs: build
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readConfig } from '../../src/app/config.ts'
import { serializeError, withoutSecrets } from '../../src/app/logging.ts'
import { startApp } from '../../src/app/server.ts'
import { JwksBridgeError } from '../../src/errors.ts'
import { createTestIssuer } from '../../src/testing/index.ts'
import { type Issuer, type OpsApp, serveIssuer, startOpsApp } from './fixture.ts'
import { CSRF_COOKIE, codeOf, cookieFrom, csrfFor, handoff, request, SESSION_COOKIE } from './http.ts'

type Line = Record<string, unknown>

function capture() {
  const lines: string[] = []
  return {
    stream: { write: (line: string) => void lines.push(line) },
    lines,
    parsed: (): Line[] =>
      lines
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Line),
  }
}

/** Every key of a parsed line, at any depth. */
function keysOf(value: unknown, out: string[] = []): string[] {
  if (typeof value !== 'object' || value === null) return out
  for (const [key, inner] of Object.entries(value)) {
    out.push(key.toLowerCase())
    keysOf(inner, out)
  }
  return out
}

describe('JSON logs (pino): a request id on every request line, never a token, cookie or secret', () => {
  let issuer: Issuer
  let app: OpsApp
  let proxied: OpsApp
  const log = capture()
  const proxiedLog = capture()

  before(async () => {
    issuer = await serveIssuer()
    app = await startOpsApp(issuer, {}, log.stream)
    proxied = await startOpsApp(issuer, { TRUST_PROXY: 'true' }, proxiedLog.stream)
  })
  after(async () => {
    await app?.close()
    await proxied?.close()
    await issuer?.served.close()
  })

  it('logs a full sign-in, failed handoffs, /me and sign-out without any secret', async () => {
    const secrets: Record<string, string> = {}
    const token = issuer.idp.sign({ sub: 'log-user', email: 'log-user@example.com' })
    const [, payload, signature] = token.split('.')
    secrets.token = token
    secrets['token payload'] = payload as string
    secrets['token signature'] = signature as string

    const csrf = await csrfFor(app.url)
    secrets['CSRF token'] = csrf.token
    const signedIn = await handoff(app.url, token, csrf)
    assert.equal(signedIn.status, 204)
    const session = cookieFrom(signedIn, SESSION_COOKIE) as string
    assert.ok(session !== undefined)
    secrets['session token'] = session.slice(SESSION_COOKIE.length + 1)

    // Failed handoffs: a forged token (another key), a replay, a body that is not JSON but holds a token.
    const forged = createTestIssuer({ issuer: issuer.served.issuer }).sign({ sub: 'log-user' })
    secrets['forged token'] = forged
    const refused = await handoff(app.url, forged, await csrfFor(app.url))
    assert.equal(codeOf(refused), 'ERR_KEY_NOT_FOUND')
    assert.equal(codeOf(await handoff(app.url, token, await csrfFor(app.url))), 'ERR_TOKEN_REPLAYED')
    const broken = await csrfFor(app.url)
    const notJson = await request(`${app.url}/auth`, {
      method: 'PUT',
      headers: {
        origin: app.url,
        'content-type': 'application/json',
        'x-csrf-token': broken.token,
        cookie: broken.cookie,
      },
      body: `{"jwt": ${forged}`,
    })
    assert.equal(notJson.status, 400)

    // A token in a query string and in an Authorization header: neither may reach a line.
    const bearer = createTestIssuer().sign({ sub: 'bearer-user' })
    secrets['bearer token'] = bearer
    const me = await request(`${app.url}/me?access_token=${bearer}`, {
      headers: { cookie: session, authorization: `Bearer ${bearer}` },
    })
    assert.equal(me.status, 200)

    const signOutCsrf = await csrfFor(app.url)
    const signOut = await request(`${app.url}/auth`, {
      method: 'DELETE',
      headers: {
        origin: app.url,
        'x-csrf-token': signOutCsrf.token,
        cookie: `${signOutCsrf.cookie}; ${session}`,
      },
    })
    assert.equal(signOut.status, 204)

    // Code that logs headers by hand is redacted too.
    app.app.fastify.log.info(
      { headers: { cookie: session, authorization: `Bearer ${bearer}`, 'x-csrf-token': csrf.token } },
      'headers logged by hand',
    )

    const text = log.lines.join('')
    assert.ok(log.lines.length > 10, 'the requests were logged')
    for (const [what, secret] of Object.entries(secrets)) {
      assert.ok(secret.length >= 20, `${what} is long enough to be searched for`)
      assert.equal(text.includes(secret), false, `the log contains the ${what}`)
    }
    const keys = new Set(log.parsed().flatMap((line) => keysOf(line)))
    for (const header of ['cookie', 'authorization', 'x-csrf-token', 'set-cookie', 'token', 'jwt']) {
      assert.equal(keys.has(header), false, `a line has a "${header}" field`)
    }
    assert.equal(text.includes(`${CSRF_COOKIE}=`), false, 'the log names the CSRF cookie with a value')
    assert.equal(text.includes(`${SESSION_COOKIE}=`), false, 'the log names the session cookie with a value')
  })

  it('puts the request id on every line a request causes, bridge events included, and echoes it', async () => {
    const answer = await handoff(app.url, 'not.a.token', await csrfFor(app.url))
    assert.equal(answer.status, 401)
    const id = answer.headers['x-request-id']
    assert.match(String(id), /^[0-9a-f-]{36}$/)

    const lines = log.parsed()
    const requestLines = lines.filter((line) => 'req' in line || 'res' in line || 'event' in line)
    const outside = requestLines.filter((line) => typeof line.reqId !== 'string' && line.event === undefined)
    assert.equal(outside.length, 0, 'request lines without a request id')
    // Bridge records logged during a request carry its id; only key set events may come from none.
    const bridgeLines = lines.filter((line) => String(line.event).startsWith('bridge.'))
    assert.ok(bridgeLines.length >= 5, 'sign-in, refusals and sign-out were logged by the bridge')
    assert.ok(bridgeLines.every((line) => typeof line.reqId === 'string'))

    const mine = lines.filter((line) => line.reqId === id)
    assert.deepEqual(
      mine.map((line) => line.msg),
      ['bridge request refused', 'request completed'],
    )
    const refusal = mine[0] as Line
    assert.equal(refusal.event, 'bridge.sign-in.refused')
    assert.equal(refusal.code, 'ERR_BASE64URL_INVALID')
    assert.equal(refusal.level, 40)
    assert.deepEqual((mine[1] as Line).req, { method: 'PUT', path: '/auth', remoteAddress: '127.0.0.1' })
    assert.deepEqual((mine[1] as Line).res, { statusCode: 401 })
  })

  it('writes one access line per request, with the request id, method, path, address, status and time only', async () => {
    const me = await request(`${app.url}/me?x=1`, {
      headers: { cookie: `${SESSION_COOKIE}=${'a'.repeat(43)}` },
    })
    assert.equal(me.status, 401)
    const id = me.headers['x-request-id']
    const mine = log.parsed().filter((line) => line.reqId === id)
    assert.equal(mine.length, 1, 'one line for the request (not "incoming request" and "request completed")')
    const line = mine[0] as Line
    assert.deepEqual(Object.keys(line).sort(), [
      'hostname',
      'level',
      'msg',
      'pid',
      'req',
      'reqId',
      'res',
      'responseTime',
      'time',
    ])
    assert.equal(line.level, 30)
    assert.equal(line.msg, 'request completed')
    assert.deepEqual(line.req, { method: 'GET', path: '/me', remoteAddress: '127.0.0.1' })
    assert.deepEqual(line.res, { statusCode: 401 })
    assert.equal(typeof line.responseTime, 'number')
  })

  it('RFC 9700 §4.3: a request for an unknown route logs its path, never its query string (tokens travel there)', async () => {
    const bearer = createTestIssuer().sign({ sub: 'lost-user' })
    const lost = await request(`${app.url}/no-such-page?access_token=${bearer}`)
    assert.equal(lost.status, 404)
    const id = lost.headers['x-request-id']
    assert.equal(log.lines.join('').includes(bearer.slice(-40)), false, 'the log contains the token')
    const mine = log.parsed().filter((line) => line.reqId === id)
    assert.deepEqual(
      mine.map((line) => [
        line.msg,
        (line.req as Line | undefined)?.path,
        (line.res as Line | undefined)?.statusCode,
      ]),
      [['request completed', '/no-such-page', 404]],
    )
  })

  it('drops the scrub-listed fields at any depth from a record logged by hand, and leaves other fields', () => {
    const record = {
      event: 'custom',
      nested: { deeper: { token: 'x', jwt: 'y', kept: 1 }, Authorization: 'Bearer z' },
      headers: { cookie: 'a=b', 'set-cookie': ['c=d'], accept: 'text/html' },
      password: 'p',
    }
    const copy = structuredClone(record)
    assert.deepEqual(withoutSecrets(record), {
      event: 'custom',
      nested: { deeper: { kept: 1 } },
      headers: { accept: 'text/html' },
    })
    assert.deepEqual(record, copy, "the caller's object is left as it was")
    const clean = { reqId: 'r', req: {}, res: {}, responseTime: 1 }
    assert.equal(withoutSecrets(clean), clean, 'a record without secrets is passed on as it is (no copy)')
  })

  it('keeps an incoming X-Request-Id only behind a trusted proxy, and only when it looks like an id', async () => {
    const direct = await request(`${app.url}/healthz`, { headers: { 'x-request-id': 'from-client-1' } })
    assert.notEqual(direct.headers['x-request-id'], 'from-client-1')

    const viaProxy = await request(`${proxied.url}/me`, { headers: { 'x-request-id': 'lb-4711.abc' } })
    assert.equal(viaProxy.headers['x-request-id'], 'lb-4711.abc')
    assert.ok(proxiedLog.parsed().some((line) => line.reqId === 'lb-4711.abc'))

    const odd = await request(`${proxied.url}/me`, { headers: { 'x-request-id': 'x"}, "admin": true' } })
    assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  })

  it('the app logger writes an error through serializeError: no token from its message, stack, cause or properties', () => {
    // What a driver or HTTP client error can carry: the token quoted in its message (JSON.parse quotes
    // the text it choked on), in a wrapped cause, and in properties such as an axios-style request
    // config or a response body. Property names are not in the redaction list on purpose: only
    // serializeError stands between them and the line.
    const token = createTestIssuer().sign({ sub: 'error-user' })
    const secret = 'dbpass-6f1c0d8e2a9b4c7d'
    const cause = new SyntaxError(`Unexpected token in JSON at position 9: {"jwt": ${token}`)
    const error = Object.assign(new Error(`sign-in failed for ${token}`, { cause }), {
      code: 'E_UPSTREAM',
      statusCode: 502,
      config: { headers: { Authorization: `Bearer ${token}` }, url: `postgres://app:${secret}@db/app` },
      body: `{"jwt":"${token}"}`,
    })
    const before = log.lines.length
    app.app.fastify.log.error({ err: error }, 'upstream failed')
    const written = log.lines.slice(before).join('')
    assert.ok(written.length > 0, 'the line was written')
    for (const [what, value] of Object.entries({
      token,
      'token payload': token.split('.')[1] as string,
      'token signature': token.split('.')[2] as string,
      'password in a URL': secret,
    })) {
      assert.equal(written.includes(value), false, `the line contains the ${what}`)
    }
    const line = JSON.parse(written.trim()) as Line
    assert.equal(line.msg, 'upstream failed')
    const err = line.err as Record<string, unknown>
    assert.equal(err.type, 'Error')
    assert.equal(err.code, 'E_UPSTREAM')
    assert.equal(err.statusCode, 502)
    assert.match(String(err.stack), /^\s+at /, 'the frames are kept, the first line (the message) is not')
    assert.deepEqual(Object.keys(err).sort(), ['code', 'stack', 'statusCode', 'type'])
  })

  it('serializes errors by class, code and frames, never by message', () => {
    const token = createTestIssuer().sign()
    const parse = new SyntaxError(`Unexpected token in JSON: "${token}"`)
    const fields = serializeError(parse)
    assert.equal(fields.type, 'SyntaxError')
    assert.equal(JSON.stringify(fields).includes(token.slice(0, 30)), false, 'the message was logged')
    assert.match(String(fields.stack), /^\s+at /)
    const refusal = new JwksBridgeError('ERR_JWT_EXPIRED', 'the token has expired', { claim: 'exp' })
    assert.deepEqual(serializeError(refusal), { type: 'JwksBridgeError', code: 'ERR_JWT_EXPIRED' })
    assert.deepEqual(serializeError('text'), { type: 'string' })
  })
})

describe('request logging at LOG_LEVEL=warn: nothing per request', () => {
  it('writes no line for a request that succeeds', async () => {
    const issuer = await serveIssuer()
    const lines: string[] = []
    const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-log-'))
    const config = readConfig({ PORT: '0', SQLITE_PATH: join(dir, 'app.sqlite'), ...issuer.env })
    const started = await startApp(config, {
      logger: { level: 'warn' },
      logStream: { write: (line: string) => void lines.push(line) },
    })
    try {
      const answer = await request(`${started.url}/me`)
      assert.equal(answer.status, 401)
      assert.equal((await request(`${started.url}/healthz`)).status, 200)
      assert.deepEqual(lines, [])
    } finally {
      await started.close()
      await issuer.served.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
