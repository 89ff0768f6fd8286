import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import { bridgeHeaders, toBridgeRequest } from '../../src/adapters/node-request.ts'
import { cookieHeader, handoffRequest, makeBridge, signInToken } from '../bridge/support.ts'

describe('node-request: Node requests as BridgeRequests', () => {
  it('joins repeated headers and takes the HTTP/2 :authority as the host', () => {
    const headers = bridgeHeaders({
      ':authority': 'app.example.com',
      'x-forwarded-proto': ['https', 'http'],
      cookie: 'a=1; b=2',
    })
    assert.equal(headers.host, 'app.example.com')
    assert.equal(headers['x-forwarded-proto'], 'https, http')
    assert.equal(headers.cookie, 'a=1; b=2')
    assert.equal(bridgeHeaders({ host: 'h', ':authority': 'other' }).host, 'h')
  })

  it('secure is the socket’s own TLS only', () => {
    const raw = (encrypted: boolean | undefined) =>
      ({
        method: 'GET',
        headers: { 'x-forwarded-proto': 'https' },
        socket: { encrypted },
      }) as unknown as IncomingMessage
    assert.equal(toBridgeRequest(raw(true), '/').secure, true)
    assert.equal(toBridgeRequest(raw(undefined), '/').secure, false)
  })

  it('bridge methods work when taken off the object (adapters destructure them)', async () => {
    const { bridge, clock } = makeBridge()
    const cookie = cookieHeader(await bridge.handle(handoffRequest(signInToken(clock))))
    const { authenticate, hasSession } = bridge
    const req = { method: 'GET', path: '/', secure: true, headers: { host: 'app.example.com', cookie } }
    assert.equal((await authenticate(req))?.identity.subject, 'user-1')
    assert.equal(await hasSession(req), true)
  })
})
