import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { credentialHeaders, originForm } from '../../src/adapters/resource-request.ts'
import { rawGet } from '../resource-server/http.ts'

describe('resource-request: the credential headers of a Node request', () => {
  const seen: IncomingMessage[] = []
  const server = createServer((req, res) => {
    seen.push(req)
    res.end('ok')
  })
  let port = 0
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('RFC 6750 §3.1: every Authorization and DPoP line, in any case, exactly as headersDistinct has them (Node’s headers keep one Authorization)', async () => {
    const requests: string[][] = [
      ['Authorization: Bearer a'],
      ['AUTHORIZATION: Bearer a', 'authorization: Bearer b'],
      ['Authorization: DPoP t', 'DPoP: p1', 'dpop: p2', 'DPOP: p3'],
      ['X-Authorization: no', 'Authorizations: no', 'Dpo: no', 'DPoPs: no', 'X-Other: z'],
      [],
      ['Authorization:', 'DPoP:   spaced   '],
    ]
    for (const lines of requests) {
      await rawGet(port, '/api/me', lines)
      const req = seen.at(-1) as IncomingMessage
      const expected = { authorization: req.headersDistinct.authorization, dpop: req.headersDistinct.dpop }
      assert.deepEqual(credentialHeaders(req.rawHeaders), expected, lines.join(' | '))
    }
    // The point of keeping lines apart: Node's own headers object drops the second Authorization.
    const twice = seen[1] as IncomingMessage
    assert.equal(twice.headers.authorization, 'Bearer a')
    assert.deepEqual(credentialHeaders(twice.rawHeaders).authorization, ['Bearer a', 'Bearer b'])
  })
})

describe('resource-request: the request target as the router sees it', () => {
  it('RFC 9112 §3.2.2: an absolute-form target keeps its path and query, cut from the text (dot segments stay for the htu check)', () => {
    const cases: [string, string][] = [
      ['/api/me?x=1', '/api/me?x=1'],
      ['http://api.example.com/api/me', '/api/me'],
      ['http://api.example.com/api/me?x=1', '/api/me?x=1'],
      ['http://api.example.com', '/'],
      ['http://api.example.com?x=1', '/?x=1'],
      ['http://api.example.com/admin/../things/42', '/admin/../things/42'],
      ['*', '*'],
    ]
    for (const [target, expected] of cases) assert.equal(originForm(target), expected, target)
  })
})
