import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { CONFIGURATION_WARNING } from '../../src/bridge/config-warning.ts'
import * as httpStatus from '../../src/bridge/http-status.js'
import type { ErrorCode } from '../../src/errors.js'
import { TestServer } from '../helpers/jwks-server.ts'
import { captureLogger, handoffRequest, makeBridge, signInToken } from './support.ts'

// Every code of the ErrorCode union, read from its declaration: a code added there and forgotten in
// http-status.ts fails here at run time (and the type check fails first, by construction).
function declaredCodes(): ErrorCode[] {
  const source = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8')
  const union = /export type ErrorCode =([\s\S]*?)\n\n/.exec(source)?.[1] ?? ''
  return [...union.matchAll(/\|\s*'(ERR_[A-Z0-9_]+)'/g)].map((match) => match[1] as ErrorCode)
}

describe('http-status: one exhaustive map from error codes to HTTP statuses', () => {
  it('reads the codes from src/errors.ts (the parse is sound)', () => {
    const codes = declaredCodes()
    assert.ok(codes.length > 40, `found ${codes.length} codes`)
    assert.ok(codes.includes('ERR_INVALID_OPTIONS'))
    assert.ok(codes.includes('ERR_UNAUTHENTICATED'))
  })

  it('every ErrorCode has a status of its own: a new code cannot silently become 500', () => {
    // Read through the namespace so that, without the export, this fails as an assertion.
    const listed = (httpStatus as { STATUS_BY_CODE?: Readonly<Record<string, number>> }).STATUS_BY_CODE
    assert.ok(listed !== undefined, 'http-status.ts exports STATUS_BY_CODE')
    for (const code of declaredCodes()) {
      assert.ok(Object.hasOwn(listed, code), `${code} has no status in http-status.ts`)
      const status = httpStatus.statusForCode(code)
      assert.equal(status, listed[code])
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`)
    }
    // Nothing listed that is not a code.
    assert.deepEqual(Object.keys(listed).sort(), declaredCodes().sort())
  })

  it('planned refusals are client errors, outages 503, our own mistakes 500', () => {
    assert.equal(httpStatus.statusForCode('ERR_CROSS_SITE_REQUEST'), 403)
    assert.equal(httpStatus.statusForCode('ERR_JWT_EXPIRED'), 401)
    assert.equal(httpStatus.statusForCode('ERR_BODY_TOO_LARGE'), 413)
    assert.equal(httpStatus.statusForCode('ERR_STORE_UNAVAILABLE'), 503)
    assert.equal(httpStatus.statusForCode('ERR_INVALID_OPTIONS'), 500)
    assert.equal(httpStatus.statusForCode('ERR_NOT_A_CODE'), 500)
    assert.equal(httpStatus.statusForCode('toString'), 500)
  })

  it('OIDC Back-Channel Logout 1.0 §2.8: refusals are 400, outages 503, from the same map', () => {
    for (const code of declaredCodes()) {
      assert.equal(
        httpStatus.logoutStatusForCode(code),
        httpStatus.statusForCode(code) === 503 ? 503 : 400,
        code,
      )
    }
    assert.equal(httpStatus.logoutStatusForCode('ERR_SIGNATURE_INVALID'), 400)
    assert.equal(httpStatus.logoutStatusForCode('ERR_JWKS_UNAVAILABLE'), 503)
  })
})

describe('issue #13: a 503 caused by the configuration is said once on stderr when the bridge has no logger', () => {
  const server = new TestServer()
  before(() => server.start())
  after(() => server.stop())

  async function refusalsWarned(withLogger: boolean): Promise<{ statuses: number[]; warnings: Error[] }> {
    const realm = `/realm-${withLogger ? 'logged' : 'bare'}`
    const issuer = server.url(realm)
    server.routes.set(`${realm}/.well-known/openid-configuration`, {
      body: { issuer, jwks_uri: server.url(`${realm}/certs`) },
    })
    const warnings: Error[] = []
    const listener = (warning: Error) => {
      if ((warning as Error & { code?: string }).code === CONFIGURATION_WARNING) warnings.push(warning)
    }
    process.on('warning', listener)
    try {
      // The wrong issuer: a trailing slash the provider does not have.
      const { bridge, clock } = makeBridge({
        verifier: { issuer: `${issuer}/` },
        ...(withLogger ? { logger: captureLogger() } : {}),
      })
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) {
        const token = signInToken(clock, { iss: `${issuer}/`, sub: 'user-1' })
        statuses.push((await bridge.handle(handoffRequest(token)))?.status ?? 0)
      }
      await new Promise((resolve) => setImmediate(resolve))
      return { statuses, warnings }
    } finally {
      process.off('warning', listener)
    }
  }

  it('no logger: three refused sign-ins (503 ERR_DISCOVERY_FAILED), one warning naming both issuers', async () => {
    const { statuses, warnings } = await refusalsWarned(false)
    assert.deepEqual(statuses, [503, 503, 503])
    assert.equal(warnings.length, 1)
    const message = warnings[0]?.message ?? ''
    assert.match(message, /ERR_DISCOVERY_FAILED/)
    assert.ok(
      message.includes(`the configured issuer is ${JSON.stringify(`${server.url('/realm-bare')}/`)}`),
      message,
    )
    assert.match(message, /set issuer to exactly/)
    assert.match(message, /Pass a logger/)
  })

  it('with a logger: no warning (the logger has it)', async () => {
    const { statuses, warnings } = await refusalsWarned(true)
    assert.deepEqual(statuses, [503, 503, 503])
    assert.equal(warnings.length, 0)
  })
})
