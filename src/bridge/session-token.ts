/**
 * Session tokens, as lucia's final design: `<id>.<secret>`. The id is the store's lookup key; only a
 * SHA-256 of the secret is stored, so a leaked database (or a log of ids) cannot be turned into a
 * session, and the secret is compared in constant time so that response timing says nothing about it.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { randomBase64url } from '../random.js'

/** 16 random bytes: unique ids without coordination. */
const ID_BYTES = 16
/** 32 random bytes: 256 bits of secret, well past the 128 the issue asks for (OWASP: at least 64 bits of entropy). */
const SECRET_BYTES = 32

// Exact lengths of unpadded base64url for those sizes: anything else is not one of our tokens, and is
// refused before any store lookup.
const TOKEN_SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

export interface SessionToken {
  /** The whole token, for the cookie only: never log it, never store it. */
  token: string
  id: string
  secretHash: Uint8Array
}

export function hashSecret(secret: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(secret).digest())
}

/** A new random token with its id and the hash of its secret. */
export function generateSessionToken(): SessionToken {
  const id = randomBase64url(ID_BYTES)
  const secret = randomBase64url(SECRET_BYTES)
  return { token: `${id}.${secret}`, id, secretHash: hashSecret(secret) }
}

/** Splits a cookie value into id and secret; undefined when it is not shaped like one of our tokens. */
export function parseSessionToken(value: string | undefined): { id: string; secret: string } | undefined {
  if (value === undefined) return undefined
  const match = TOKEN_SHAPE.exec(value)
  if (match === null) return undefined
  return { id: match[1] as string, secret: match[2] as string }
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const actual = hashSecret(secret)
  // Both are SHA-256 outputs from a well-behaved store; a stored hash of another length is corrupt and
  // never matches (timingSafeEqual would throw on unequal lengths).
  if (storedHash.length !== actual.length) return false
  return timingSafeEqual(actual, storedHash)
}
