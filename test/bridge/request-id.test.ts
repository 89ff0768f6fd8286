// The bridge's log records carry the request's id when the adapter passes one (BridgeRequest.requestId),
// as plain data: no AsyncLocalStorage, whose promise hooks tax every promise of the process.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { browserRequest, captureLogger, handoffRequest, makeBridge, signInToken } from './support.ts'

describe('request ids in the bridge log', () => {
  it('each record of a request carries its requestId: sign-in, refusal, sign-out', async () => {
    const logger = captureLogger()
    const { bridge, clock } = makeBridge({ logger })
    const signIn = { ...handoffRequest(signInToken(clock)), requestId: 'req-1' }
    const first = await bridge.handle(signIn)
    assert.equal(first?.status, 204)
    await bridge.handle({ ...handoffRequest('not.a.token'), requestId: 'req-2' })
    const cookie = (first?.cookies ?? []).map((c) => c.split(';', 1)[0]).join('; ')
    await bridge.handle({ ...browserRequest({ method: 'DELETE', headers: { cookie } }), requestId: 'req-3' })
    assert.deepEqual(
      logger.lines.map((line) => [line.fields.event, line.fields.requestId]),
      [
        ['bridge.sign-in', 'req-1'],
        ['bridge.sign-in.refused', 'req-2'],
        ['bridge.sign-out', 'req-3'],
      ],
    )
  })

  it('without one, records have no requestId field', async () => {
    const logger = captureLogger()
    const { bridge, clock } = makeBridge({ logger })
    await bridge.handle(handoffRequest(signInToken(clock)))
    assert.equal(logger.lines.length, 1)
    assert.equal(Object.hasOwn(logger.lines[0]?.fields ?? {}, 'requestId'), false)
  })
})
