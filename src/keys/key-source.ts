import type { AlgorithmSpec } from '../jose/algorithms.js'
import type { VerificationKey } from '../jose/jwk.js'
import type { KeySet } from '../jose/key-set.js'

/**
 * Where an issuer's verification keys come from. `select` answers synchronously whenever it can, so
 * that a verification with keys in hand never waits on the event loop.
 */
export interface KeySource {
  select(spec: AlgorithmSpec, kid: string | undefined): VerificationKey | Promise<VerificationKey>
  /** Whether `key` is in the current set: the token cache drops entries of keys that left. */
  has(key: VerificationKey): boolean
  /**
   * Called when a token verified by `key` is about to be served from the token cache: false when
   * the key left its set or the set may no longer be trusted (then the token is verified afresh).
   * May start a background refresh, as a verification would.
   */
  admitsCached(key: VerificationKey): boolean
  /** Stops timers and background work, if any. */
  close(): void
}

/** A key set given in the options (`jwks`): fixed for the verifier's lifetime. */
export class StaticKeySource implements KeySource {
  readonly keySet: KeySet

  constructor(keySet: KeySet) {
    this.keySet = keySet
  }

  select(spec: AlgorithmSpec, kid: string | undefined): VerificationKey {
    return this.keySet.select(spec, kid)
  }

  has(key: VerificationKey): boolean {
    return this.keySet.has(key)
  }

  admitsCached(key: VerificationKey): boolean {
    return this.keySet.has(key)
  }

  close(): void {}
}
