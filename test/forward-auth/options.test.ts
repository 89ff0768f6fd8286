// createBridge({ forwardAuth }): names checked at start, unknown keys refused (src/lib/options.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resolveForwardAuth } from '../../src/bridge/forward-auth-options.ts'
import { makeBridge } from '../bridge/support.ts'

const SNAPSHOT = ['email', 'name', 'email_verified']

function refused(value: unknown, message: RegExp, snapshot = SNAPSHOT): void {
  assert.throws(
    () => resolveForwardAuth(value, snapshot),
    (error: { code?: string; message?: string }) =>
      error.code === 'ERR_INVALID_OPTIONS' && message.test(error.message ?? ''),
  )
}

describe('forwardAuth options', () => {
  it('defaults: X-Auth-Subject, X-Auth-Issuer, X-Auth-Identity-Id; email and name when in the snapshot', () => {
    const config = resolveForwardAuth(undefined, SNAPSHOT)
    assert.deepEqual(config.allHeaders, [
      'x-auth-subject',
      'x-auth-issuer',
      'x-auth-identity-id',
      'x-auth-email',
      'x-auth-name',
    ])
    assert.deepEqual(resolveForwardAuth({}, ['groups']).claimHeaders, [])
    assert.equal(makeBridge().bridge.routes.checkPath, '/auth/check')
    assert.equal(makeBridge({ authPath: '/session/' }).bridge.routes.checkPath, '/session/check')
  })

  it('unknown names are refused with the nearest known one (a misspelt header name would go unused)', () => {
    refused(
      { subjectHeadr: 'X-User' },
      /unknown option "forwardAuth\.subjectHeadr" \(did you mean "forwardAuth\.subjectHeader"\?\)/,
    )
  })

  it('a header name must be a token, not one a proxy gives its own meaning, and used once', () => {
    refused({ subjectHeader: 'X User' }, /forwardAuth\.subjectHeader must be a header name/)
    refused({ subjectHeader: 'X-Auth\r\nHost' }, /must be a header name/)
    for (const name of [
      'Host',
      'Cookie',
      'Authorization',
      'X-Forwarded-For',
      'Content-Length',
      'X-Original-URI',
    ]) {
      refused({ subjectHeader: name }, /proxies give that header its own meaning/)
    }
    refused({ issuerHeader: 'x-auth-subject' }, /names the header "x-auth-subject" twice/)
  })

  it('a claim header must name a claim of the sign-in snapshot (no other claim is stored)', () => {
    refused({ claimHeaders: { groups: 'X-Groups' } }, /"groups", which is not in claimsSnapshot/)
    refused({ claimHeaders: ['email'] }, /claimHeaders must be an object/)
  })

  it('CWE-601: signInPath is a path on this origin', () => {
    for (const bad of ['https://evil.example/', '//evil.example', '/\\evil', 'sign-in', '/a b']) {
      refused({ signInPath: bad }, /signInPath must be a path on this origin/)
    }
    assert.equal(resolveForwardAuth({ signInPath: '/auth/sign-in' }, SNAPSHOT).signInPath, '/auth/sign-in')
  })

  it('createBridge refuses a back-channel logout path on the check', () => {
    assert.throws(
      () =>
        makeBridge({
          backChannelLogout: true,
          backChannelLogoutPath: '/auth/check',
          verifier: { issuer: 'https://issuer.example', jwks: { keys: [] }, audience: 'c' },
        }),
      /backChannelLogoutPath must differ from \/auth\/check/,
    )
  })
})
