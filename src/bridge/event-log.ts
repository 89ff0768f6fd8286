/**
 * The `logger` option as an event subscriber: each bridge event that is worth a line becomes one
 * structured record (`event`, codes, ids, counts; the request's `requestId` when the adapter gave one).
 * Session validations are not logged: they happen on every request, and the access line has them.
 */
import type { BridgeEvent, BridgeRoute } from './events.js'
import type { BridgeLogger } from './types.js'

const NAMES: Readonly<Record<BridgeRoute, string>> = {
  handoff: 'bridge.sign-in',
  'sign-out': 'bridge.sign-out',
  'back-channel-logout': 'bridge.backchannel-logout',
}

function withRequestId(fields: Record<string, unknown>, requestId: string | undefined) {
  if (requestId !== undefined) fields.requestId = requestId
  return fields
}

function logRefusal(logger: BridgeLogger, event: Extract<BridgeEvent, { type: 'refusal' }>): void {
  const name = NAMES[event.route]
  if (event.code === 'error') {
    // Not a refusal we planned: only the class name, a message from elsewhere may quote a secret.
    logger.error(
      withRequestId({ event: `${name}.failed`, error: event.error ?? 'unknown' }, event.requestId),
      'bridge route failed',
    )
    return
  }
  const fields: Record<string, unknown> = { event: `${name}.refused`, code: event.code, status: event.status }
  if (event.claim !== undefined) fields.claim = event.claim
  if (event.reason !== undefined) fields.reason = event.reason
  withRequestId(fields, event.requestId)
  if (event.status >= 500) logger.error(fields, 'bridge route failed')
  else logger.warn(fields, 'bridge request refused')
}

/** The subscriber that writes `logger`'s records. */
export function eventLogger(logger: BridgeLogger): (event: BridgeEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'sign-in': {
        const { identityId, issuer, created, replaced } = event
        logger.info(
          withRequestId({ event: 'bridge.sign-in', identityId, issuer, created, replaced }, event.requestId),
          'signed in',
        )
        return
      }
      case 'refusal':
        logRefusal(logger, event)
        return
      case 'sign-out':
        logger.info(
          withRequestId({ event: 'bridge.sign-out', identityId: event.identityId }, event.requestId),
          'signed out',
        )
        return
      case 'logout':
        logger.info(
          withRequestId(
            {
              event: 'bridge.backchannel-logout',
              issuer: event.issuer,
              by: event.by,
              ended: event.sessionsEnded,
            },
            event.requestId,
          ),
          'back-channel logout',
        )
        return
      case 'sessions-ended':
        if (event.reason === 'sign-out-everywhere') {
          logger.info(
            { event: 'bridge.sign-out-everywhere', identityId: event.identityId, ended: event.count },
            'signed out everywhere',
          )
        } else if (event.reason === 'cleanup') {
          logger.info({ event: 'bridge.cleanup', removed: event.count }, 'expired sessions removed')
        }
        return
      default:
        return
    }
  }
}
