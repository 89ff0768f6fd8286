import { randomBytes } from 'node:crypto'
// Key generation and signing are shared with the test issuer (src/jose/sign.ts): one implementation
// of "real keys from node:crypto, real JWS signatures" for both in-memory and served providers.
import { generateSigningKey, type SigningKey } from '../jose/sign.js'
import type { DevIssuerAlgorithm, DevIssuerProfile } from './options.js'

export interface RingKey {
  key: SigningKey
  createdAtMs: number
  /** Latest `exp` (seconds) of any token this key signed; 0 before the first. */
  lastExpSeconds: number
}

/**
 * Most keys published at once. A rotation is refused beyond it rather than dropping a key whose
 * tokens are still valid; the verifier accepts at most 100 keys per set by default.
 */
export const MAX_PUBLISHED_KEYS = 10

export class TooManyKeysError extends Error {
  override name = 'TooManyKeysError'
}

/**
 * The provider's keys: one current key that signs, and retired keys that stay published until every
 * token they signed has expired, so that a rotation never breaks a token already handed out (the
 * overlap every rotating provider relies on; SuperTokens keeps old dynamic keys published too).
 * Retired keys whose tokens have all expired are dropped when the key set is next read.
 */
export class KeyRing {
  readonly #alg: DevIssuerAlgorithm
  readonly #profile: DevIssuerProfile
  readonly #nowMs: () => number
  /** Newest first; [0] is the current key. */
  #keys: RingKey[] = []

  constructor(alg: DevIssuerAlgorithm, profile: DevIssuerProfile, nowMs: () => number) {
    this.#alg = alg
    this.#profile = profile
    this.#nowMs = nowMs
    this.#keys = [this.#make()]
  }

  /** The key that signs new tokens. */
  get current(): RingKey {
    return this.#keys[0] as RingKey
  }

  /** Records that `ringKey` signed a token expiring at `expSeconds`: it stays published until then. */
  noteSigned(ringKey: RingKey, expSeconds: number): void {
    if (expSeconds > ringKey.lastExpSeconds) ringKey.lastExpSeconds = expSeconds
  }

  /** The public keys to publish, current first, after dropping retired keys whose tokens all expired. */
  publish(): Record<string, unknown>[] {
    this.#prune()
    return this.#keys.map((ringKey) => ({ ...ringKey.key.publicJwk }))
  }

  /** The kids currently published (after pruning). */
  kids(): string[] {
    this.#prune()
    return this.#keys.map((ringKey) => ringKey.key.kid)
  }

  /** Makes a new current key; the previous one is retired (still published, no longer signing). */
  rotate(): RingKey {
    this.#prune()
    if (this.#keys.length >= MAX_PUBLISHED_KEYS) {
      throw new TooManyKeysError(
        `${MAX_PUBLISHED_KEYS} keys are published already; wait until tokens signed by older keys expire`,
      )
    }
    const ringKey = this.#make()
    this.#keys = [ringKey, ...this.#keys]
    return ringKey
  }

  #prune(): void {
    // RFC 7519 §4.1.4: a token is expired once now >= exp; from then on no verifier needs its key.
    const nowSeconds = this.#nowMs() / 1000
    this.#keys = this.#keys.filter((ringKey, index) => index === 0 || nowSeconds < ringKey.lastExpSeconds)
  }

  #make(): RingKey {
    const createdAtMs = this.#uniqueCreatedAt(Math.floor(this.#nowMs()))
    // SuperTokens names dynamic keys "d-" + creation time in ms (core AccessTokenSigningKey.java).
    const kid =
      this.#profile === 'supertokens' ? `d-${createdAtMs}` : `dev-${randomBytes(9).toString('base64url')}`
    return { key: generateSigningKey(this.#alg, kid), createdAtMs, lastExpSeconds: 0 }
  }

  // Two rotations in the same millisecond would give two SuperTokens keys one kid: the later one moves
  // up a millisecond.
  #uniqueCreatedAt(ms: number): number {
    let createdAtMs = ms
    const taken = new Set(this.#keys.map((ringKey) => ringKey.createdAtMs))
    while (taken.has(createdAtMs)) createdAtMs += 1
    return createdAtMs
  }
}
