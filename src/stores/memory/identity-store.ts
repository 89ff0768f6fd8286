import { assertUpsertInput, newIdentityId } from '../records.js'
import type { Identity, IdentityStore, UpsertIdentityInput } from '../types.js'

// Claims are copied through JSON on the way in and out, like a database would: a caller mutating
// an object it passed or got back never changes what the store holds.
function copy(identity: Identity): Identity {
  return { ...identity, claims: JSON.parse(JSON.stringify(identity.claims)) as Record<string, unknown> }
}

/**
 * Identities in a Map, for unit tests and as the reference behaviour of the conformance suite.
 * Everything runs synchronously inside each call, so concurrent upserts cannot interleave.
 */
export class MemoryIdentityStore implements IdentityStore {
  readonly #byId = new Map<string, Identity>()
  // Keyed by issuer and subject joined with a NUL: neither can make the other ambiguous, since the
  // issuer's length is part of the key.
  readonly #bySubject = new Map<string, Identity>()

  async upsert(input: UpsertIdentityInput): Promise<{ identity: Identity; created: boolean }> {
    assertUpsertInput(input)
    const key = subjectKey(input.issuer, input.subject)
    const claims = JSON.parse(JSON.stringify(input.claims)) as Record<string, unknown>
    const existing = this.#bySubject.get(key)
    if (existing !== undefined) {
      existing.claims = claims
      existing.lastSignInAtMs = input.nowMs
      return { identity: copy(existing), created: false }
    }
    const identity: Identity = {
      id: newIdentityId(),
      issuer: input.issuer,
      subject: input.subject,
      claims,
      createdAtMs: input.nowMs,
      lastSignInAtMs: input.nowMs,
    }
    this.#byId.set(identity.id, identity)
    this.#bySubject.set(key, identity)
    return { identity: copy(identity), created: true }
  }

  async get(id: string): Promise<Identity | undefined> {
    const identity = this.#byId.get(id)
    return identity === undefined ? undefined : copy(identity)
  }

  async findBySubject(issuer: string, subject: string): Promise<Identity | undefined> {
    const identity = this.#bySubject.get(subjectKey(issuer, subject))
    return identity === undefined ? undefined : copy(identity)
  }
}

function subjectKey(issuer: string, subject: string): string {
  return `${issuer.length}:${issuer}\u0000${subject}`
}
