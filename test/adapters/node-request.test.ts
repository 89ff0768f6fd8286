import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import { bridgeHeaders, isLoopbackAddress, toBridgeRequest } from '../../src/adapters/node-request.ts'
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

  it('loopback is the socket’s peer address, never the Host header', () => {
    const raw = (remoteAddress: string | undefined, host: string) =>
      ({ method: 'PUT', headers: { host }, socket: { remoteAddress } }) as unknown as IncomingMessage
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      assert.equal(toBridgeRequest(raw(address, 'app.example.com'), '/auth').loopback, true, address)
    }
    for (const address of ['10.0.0.5', '192.168.1.2', '::ffff:10.0.0.5', 'fe80::1', '128.0.0.1', undefined]) {
      assert.equal(toBridgeRequest(raw(address, 'localhost'), '/auth').loopback, false, String(address))
    }
    assert.equal(isLoopbackAddress('127.0.0.1.evil'), false)
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
