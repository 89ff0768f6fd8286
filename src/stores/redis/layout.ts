/**
 * The Redis key layout: which keys exist and which of them share a hash slot, so that the same code
 * runs on one Redis and on a Redis Cluster.
 *
 * A Redis Cluster runs a script on the one primary that serves its keys, and refuses a script whose
 * keys lie in more than one slot (CROSSSLOT). Only the part of a key name between the first `{` and
 * the next `}` (its hash tag) picks the slot. So:
 *
 * - Every session lives in one of SHARD_COUNT shards, picked from its id alone (a read knows nothing
 *   else). A shard's keys carry its hash tag: the session hashes, the two sorted sets by expiry and by
 *   last activity, the identity and provider sets, the reference hash. Every script touches one shard,
 *   hence one slot. Sign-out-everywhere and back-channel logout visit every shard (an identity's
 *   sessions are spread over them); cleanup works shard by shard.
 * - The shards' hash tags were picked so that their slots lie in SHARD_COUNT equal ranges of the 16384
 *   slots: a cluster that splits the slots evenly (as `redis-cli --cluster create` does) gets its
 *   share of shards on every primary.
 * - A replay record is one key of its own with no hash tag: the records spread over every slot.
 * - The cleanup lease is one key of its own.
 */

/** How many shards the sessions are split into. Changing it moves sessions: existing ones are no longer found. */
export const SHARD_COUNT = 16

// Shard i's tag hashes into slots [i * 1024, (i + 1) * 1024): the first `${i}-${j}` that does (CRC16
// as Redis Cluster computes it). Fixed forever: another tag would lose the shard's sessions.
const SHARD_TAGS: readonly string[] = [
  '0-0',
  '1-3',
  '2-43',
  '3-40',
  '4-13',
  '5-10',
  '6-20',
  '7-23',
  '8-43',
  '9-40',
  '10-3',
  '11-0',
  '12-11',
  '13-12',
  '14-40',
  '15-43',
]

/** The shard of a session id: FNV-1a (32 bits) of its UTF-8 bytes, modulo SHARD_COUNT. Stable forever. */
export function shardOf(sessionId: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(sessionId, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % SHARD_COUNT
}

/** The keys of one shard under a prefix. */
export interface ShardKeys {
  /** The shard's own prefix, `<prefix>{<tag>}:`; every key below starts with it. */
  base: string
  session(id: string): string
  /** Sorted set: session id by its absolute end. */
  byExpiry: string
  /** Sorted set: session id by its last activity. */
  byLastSeen: string
  /** Hash: `i:<id>` names the session's identity set, `p:<id>` its provider set. Kept after the session hash expires. */
  refs: string
  identitySet(identityId: string): string
  providerSet(issuer: string, providerSessionId: string): string
}

export function shardKeys(prefix: string, shard: number): ShardKeys {
  const base = `${prefix}{${SHARD_TAGS[shard]}}:`
  return {
    base,
    session: (id) => `${base}session:${id}`,
    byExpiry: `${base}by-expiry`,
    byLastSeen: `${base}by-last-seen`,
    refs: `${base}refs`,
    identitySet: (identityId) => `${base}identity:${identityId}`,
    // The issuer's length first: no issuer and provider session id pair can spell another pair.
    providerSet: (issuer, providerSessionId) =>
      `${base}provider:${issuer.length}:${issuer}:${providerSessionId}`,
  }
}

/** Where a prefix puts the store's keys on a Redis Cluster. */
export type PrefixSlots = 'sharded' | 'one slot' | 'broken'

/**
 * What a prefix does to the layout (Redis hashes a key's first `{…}` when it is not empty, else the
 * whole key). No `{` in the prefix, or one the shard's own `}` closes: the shards spread. A whole
 * non-empty `{…}` in the prefix: every key in that one slot (correct, but one primary does all the
 * work). A prefix whose first `{` is followed at once by `}`: Redis hashes whole key names, so one
 * shard's keys land in different slots and a cluster refuses the scripts: 'broken'.
 */
export function prefixSlots(prefix: string): PrefixSlots {
  const open = prefix.indexOf('{')
  if (open === -1) return 'sharded'
  const close = prefix.indexOf('}', open + 1)
  if (close === -1) return 'sharded'
  return close === open + 1 ? 'broken' : 'one slot'
}
