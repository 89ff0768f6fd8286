/** Why a key set was fetched. */
export type FetchReason = 'initial' | 'refresh' | 'unknown-kid'

/**
 * What a remote key set reports. None of these carries key material or a token; `kid`s are public.
 * Subscribe with the verifier's `onEvent` option; counts are kept in `verifier.keySetStats()`.
 */
export type KeySetEvent =
  | { type: 'fetch'; issuer: string; url: string; reason: FetchReason }
  | {
      type: 'fetched'
      issuer: string
      url: string
      /** 200: a new document; 304: the cached one was revalidated. */
      status: 200 | 304
      /** Where it came from: the provider, or a shared cache another instance filled. */
      source: 'network' | 'shared-cache'
      keys: number
      freshForMs: number
    }
  | { type: 'keys-changed'; issuer: string; added: (string | null)[]; removed: (string | null)[] }
  | {
      type: 'key-rejected'
      issuer: string
      index: number
      kid: string | undefined
      code: string
      reason: string
    }
  | {
      type: 'fetch-failed'
      issuer: string
      url: string
      code: string
      reason: string
      consecutiveFailures: number
      retryInMs: number
    }
  | { type: 'stale-served'; issuer: string; staleForMs: number }
  | { type: 'unknown-kid-refused'; issuer: string; reason: 'cooldown' | 'known-unknown' | 'backoff' }
  | { type: 'discovered'; issuer: string; jwksUri: string }

/** Running counts and state of one issuer's key set, for metrics. */
export interface KeySetStats {
  issuer: string
  url: string | undefined
  /** Fetch attempts to the network (key set and discovery). */
  fetches: number
  /** Sets adopted from a shared cache instead of the network. */
  sharedCacheHits: number
  /** 304 answers that renewed a cached set. */
  revalidations: number
  /** Fetches caused by a token naming a kid the set lacked. */
  unknownKidRefetches: number
  /** Tokens with an unknown kid refused without a fetch (cooldown, negative cache, backoff). */
  unknownKidsRefused: number
  /** Verifications served from a set past its freshness. */
  staleServes: number
  failures: number
  consecutiveFailures: number
  keysChanged: number
  keyCount: number
  lastSuccessAtMs: number | undefined
  lastFailureAtMs: number | undefined
  /** Age of the current set, in milliseconds, when the stats were read. */
  ageMs: number | undefined
}
