/**
 * Server-provided DPoP nonces (RFC 9449 §8-9), without a store: a nonce names a time slot and carries
 * an HMAC of it under a secret every instance shares, so any instance can check any instance's nonce.
 * A nonce is good in its own slot and the next one: it lives between one and two lifetimes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export class DpopNonces {
  readonly #secret: Buffer
  readonly #lifetimeMs: number
  readonly #nowMs: () => number

  constructor(secret: Uint8Array, lifetimeSeconds: number, nowMs: () => number) {
    this.#secret = Buffer.from(secret)
    this.#lifetimeMs = lifetimeSeconds * 1000
    this.#nowMs = nowMs
  }

  #slot(): number {
    return Math.floor(this.#nowMs() / this.#lifetimeMs)
  }

  #mac(slot: number): Buffer {
    return createHmac('sha256', this.#secret)
      .update(`jwks-bridge dpop nonce ${slot}`)
      .digest()
      .subarray(0, 16)
  }

  /** The nonce to hand out now: `<slot>.<mac>`, characters RFC 9449 §8.1 allows (NQCHAR). */
  current(): string {
    const slot = this.#slot()
    return `${slot.toString(36)}.${this.#mac(slot).toString('base64url')}`
  }

  /** Whether `nonce` was handed out in this slot or the previous one, by an instance with this secret. */
  isValid(nonce: string): boolean {
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce)
    if (match === null) return false
    const slot = Number.parseInt(match[1] as string, 36)
    const now = this.#slot()
    if (slot !== now && slot !== now - 1) return false
    // Constant time: the MAC is the secret's only witness.
    return timingSafeEqual(Buffer.from(match[2] as string, 'base64url'), this.#mac(slot))
  }

  /** Whether `nonce` is the one `current()` gives (else the client should get the new one). */
  isCurrent(nonce: string): boolean {
    return nonce.startsWith(`${this.#slot().toString(36)}.`)
  }
}
