import type { AlgorithmSpec } from '../jose/algorithms.js'
import type { VerificationKey } from '../jose/jwk.js'
import type { KeySet } from '../jose/key-set.js'

/**
 * Where an issuer's verification keys come from. `select` answers synchronously whenever it can, so
 * that a verification with keys in hand never waits on the event loop.
 */
export interface KeySource {
  select(spec: AlgorithmSpec, kid: string | undefined): VerificationKey | Promise<VerificationKey>
  /** Whether `key` is still in the current set: the token cache drops entries of keys that left. */
  isCurrent(key: VerificationKey): boolean
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

  isCurrent(key: VerificationKey): boolean {
    return this.keySet.has(key)
  }

  close(): void {}
}
