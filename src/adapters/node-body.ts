import type { IncomingMessage } from 'node:http'
import { bodyTooLarge, declaredTooLarge } from './shared.js'

/**
 * A node:http request's raw body, at most `limit` bytes: a declared Content-Length past it is refused
 * before a byte is read, a chunked body at the first byte past it (ERR_BODY_TOO_LARGE: the caller
 * answers 413), so a huge or endless body never fills memory.
 */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  if (declaredTooLarge(req.headers['content-length'], limit)) return Promise.reject(bodyTooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.pause()
        reject(bodyTooLarge())
      } else chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', reject)
  })
}
