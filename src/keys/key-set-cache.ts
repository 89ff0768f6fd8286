/**
 * A place to keep fetched key sets so that other instances, or a process that has just started,
 * reuse a set another has fetched (serverless cold starts: node-jwks-rsa#108, okta-jwt-verifier-js#42).
 * The in-memory default serves one process; `createRedisKeySetCache` serves many.
 *
 * Entries hold public documents only (a JWK Set is public), with the metadata needed to keep the
 * HTTP caching rules: when it was fetched, until when it is fresh, and its validators.
 */
export interface CachedKeySet {
  /** The JWK Set document as fetched. */
  document: { keys: unknown[] }
  fetchedAtMs: number
  freshUntilMs: number
  etag?: string | undefined
  lastModified?: string | undefined
}

export interface KeySetCache {
  get(url: string): Promise<CachedKeySet | undefined>
  /** `keepMs`: how long the entry is worth keeping (freshness plus the stale-serving window). */
  set(url: string, entry: CachedKeySet, keepMs: number): Promise<void>
}

/** Per-process cache; what a verifier uses when no other is given. */
export class MemoryKeySetCache implements KeySetCache {
  readonly #entries = new Map<string, { entry: CachedKeySet; expiresAtMs: number }>()
  readonly #nowMs: () => number

  constructor(nowMs: () => number = Date.now) {
    this.#nowMs = nowMs
  }

  async get(url: string): Promise<CachedKeySet | undefined> {
    const found = this.#entries.get(url)
    if (found === undefined) return undefined
    if (this.#nowMs() >= found.expiresAtMs) {
      this.#entries.delete(url)
      return undefined
    }
    return found.entry
  }

  async set(url: string, entry: CachedKeySet, keepMs: number): Promise<void> {
    this.#entries.set(url, { entry, expiresAtMs: this.#nowMs() + keepMs })
  }
}

/** Checks that a value read back from a shared cache has the shape of a `CachedKeySet`. */
export function isCachedKeySet(value: unknown): value is CachedKeySet {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  const document = v.document as { keys?: unknown } | null
  return (
    typeof document === 'object' &&
    document !== null &&
    Array.isArray(document.keys) &&
    typeof v.fetchedAtMs === 'number' &&
    typeof v.freshUntilMs === 'number' &&
    (v.etag === undefined || typeof v.etag === 'string') &&
    (v.lastModified === undefined || typeof v.lastModified === 'string')
  )
}
