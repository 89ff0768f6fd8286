/**
 * SHA-256 of a string (its UTF-8 octets), as base64 or base64url text: the hot path's one digest
 * (token cache keys, DPoP `ath`, replay keys).
 */
import * as crypto from 'node:crypto'

// crypto.hash (Node >= 20.12) is a one-shot digest, about twice as fast as createHash for inputs of a
// few hundred bytes (no Hash object, one call into C++); the engines field allows any Node 20, so
// fall back when it is missing.
type OneShot = (algorithm: string, data: string, encoding: 'base64' | 'base64url') => string
const oneShot = (crypto as { hash?: OneShot }).hash

export const sha256: (input: string, encoding: 'base64' | 'base64url') => string =
  typeof oneShot === 'function'
    ? (input, encoding) => oneShot('sha256', input, encoding)
    : (input, encoding) => crypto.createHash('sha256').update(input).digest(encoding)
