/**
 * Reads the one token field of a bridge request body: `jwt` for the handoff, `logout_token` for
 * back-channel logout. The body arrives raw from the adapter so that its type and size are checked
 * here, once, whatever the framework.
 */
import { JwksBridgeError } from '../errors.js'
import { parseJsonObject } from '../jose/json.js'
import type { BridgeRequest } from './types.js'

export const JSON_TYPE = 'application/json'
export const FORM_TYPE = 'application/x-www-form-urlencoded'

export interface TokenFieldRule {
  field: string
  /** Accepted media types (lower case, no parameters). */
  types: readonly string[]
  maxBodyBytes: number
}

function invalid(message: string, reason: string): JwksBridgeError {
  return new JwksBridgeError('ERR_BODY_INVALID', message, { reason })
}

/** The media type of a Content-Type header, lower case, after checking its charset. */
function mediaType(header: string | undefined, accepted: readonly string[]): string {
  const [type = '', ...params] = (header ?? '').split(';')
  const media = type.trim().toLowerCase()
  if (!accepted.includes(media)) {
    throw new JwksBridgeError('ERR_UNSUPPORTED_MEDIA_TYPE', `the body must be ${accepted.join(' or ')}`, {
      reason: 'content-type',
    })
  }
  for (const param of params) {
    const [name = '', value = ''] = param.split('=')
    const charset = value
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase()
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw new JwksBridgeError('ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be UTF-8', { reason: 'charset' })
    }
  }
  return media
}

function bodyBytes(body: BridgeRequest['body']): Uint8Array {
  if (body === undefined) return new Uint8Array(0)
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body
}

/**
 * Returns the token field's value, or throws: ERR_UNSUPPORTED_MEDIA_TYPE (415), ERR_BODY_TOO_LARGE
 * (413), ERR_BODY_INVALID (400). Error messages never quote the body.
 */
export function readTokenField(req: BridgeRequest, rule: TokenFieldRule): string {
  const media = mediaType(req.headers['content-type'], rule.types)
  const bytes = bodyBytes(req.body)
  if (bytes.length > rule.maxBodyBytes) {
    throw new JwksBridgeError('ERR_BODY_TOO_LARGE', `the body is larger than ${rule.maxBodyBytes} bytes`)
  }
  if (bytes.length === 0) throw invalid('the body is empty', 'empty')
  let value: unknown
  if (media === JSON_TYPE) {
    let object: Record<string, unknown>
    try {
      // Strict UTF-8 and no duplicate members: two "jwt" members read differently by a proxy and by
      // us would be a confusion (RFC 8259 §4 leaves duplicates undefined).
      object = parseJsonObject(bytes, 'body')
    } catch {
      throw invalid('the body is not a JSON object', 'json')
    }
    value = Object.hasOwn(object, rule.field) ? object[rule.field] : undefined
  } else {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
    } catch {
      throw invalid('the body is not UTF-8', 'utf-8')
    }
    const values = new URLSearchParams(text).getAll(rule.field)
    if (values.length > 1) throw invalid(`the body has more than one "${rule.field}" field`, 'duplicate')
    value = values[0]
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(`the body has no "${rule.field}" string`, 'missing')
  }
  return value
}
