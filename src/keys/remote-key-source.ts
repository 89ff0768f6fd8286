import { JwksBridgeError } from '../errors.js'
import type { AlgorithmSpec } from '../jose/algorithms.js'
import type { VerificationKey } from '../jose/jwk.js'
import { importKeySet, type KeySet, type KeySetLimits } from '../jose/key-set.js'
import { type BackoffPolicy, backoffDelayMs, type FreshnessBounds, freshnessSeconds } from './cache-policy.js'
import { discoveryUrl, processDiscoveryDocument } from './discovery.js'
import type { FetchReason, KeySetEvent, KeySetStats } from './events.js'
import {
  type FetchFunction,
  type FetchLimits,
  fetchJsonDocument,
  JWKS_MEDIA_TYPES,
  type Validators,
} from './http-fetch.js'
import type { CachedKeySet, KeySetCache } from './key-set-cache.js'
import type { KeySource } from './key-source.js'

export interface RemoteKeySourceOptions {
  issuer: string
  /** The key set URL; undefined to discover it from the issuer. */
  jwksUri: string | undefined
  freshness: FreshnessBounds
  cooldownMs: number
  maxStaleMs: number
  fetchLimits: FetchLimits
  backoff: BackoffPolicy
  /** Most unknown kids remembered as absent. */
  maxUnknownKids: number
  keyLimits: KeySetLimits
  fetch: FetchFunction
  cache: KeySetCache
  nowMs: () => number
  random: () => number
  onEvent: (event: KeySetEvent) => void
  /** Called after the set changed, so that caches built on old keys can drop them. */
  onKeysChanged: () => void
}

interface Current {
  keySet: KeySet
  /** The document the set came from, for the shared cache. */
  document: CachedKeySet['document']
  url: string
  fetchedAtMs: number
  freshUntilMs: number
  validators: Validators
}

// Refresh in the background once this share of a set's freshness has passed, so that verifications
// never wait for a refresh while the provider is reachable.
const REFRESH_AHEAD_RATIO = 0.75

/**
 * An issuer's key set, fetched over HTTPS and kept usable through rotation, floods and outages:
 * - one fetch at a time, shared by every caller (single flight);
 * - fresh for the server's `Cache-Control: max-age` within bounds, revalidated with ETag/Last-Modified,
 *   refreshed ahead of expiry in the background;
 * - a token with an unknown kid causes at most one fetch per cooldown, and kids found absent are
 *   remembered (bounded), so random-kid floods cannot make us hammer the provider
 *   (get-jwks and jwks-rsa fetched once per distinct kid) nor evict a known key;
 * - when refreshes fail, the last good set keeps serving for `maxStaleMs`, retries back off
 *   exponentially with jitter, and each failure is reported.
 */
export class RemoteKeySource implements KeySource {
  readonly #o: RemoteKeySourceOptions
  #current: Current | undefined
  #inflight: Promise<void> | undefined
  #lastKidFetchMs = Number.NEGATIVE_INFINITY
  #retryAtMs = 0
  #staleReported = false
  #closed = false
  #discovered: { url: string; freshUntilMs: number } | undefined
  // The last failure of a load that found no key set yet, so that the refusals during the backoff
  // that follows say the same thing (and carry the same code) as the failure itself.
  #firstLoadFailure: JwksBridgeError | undefined
  // Kids confirmed absent from the current set, with when, oldest first. Cleared when the set changes.
  readonly #unknownKids = new Map<string, number>()
  readonly #stats: Omit<KeySetStats, 'issuer' | 'url' | 'keyCount' | 'ageMs'> = {
    fetches: 0,
    sharedCacheHits: 0,
    revalidations: 0,
    unknownKidRefetches: 0,
    unknownKidsRefused: 0,
    staleServes: 0,
    failures: 0,
    consecutiveFailures: 0,
    keysChanged: 0,
    lastSuccessAtMs: undefined,
    lastFailureAtMs: undefined,
  }

  constructor(options: RemoteKeySourceOptions) {
    // Once closed, a fetch still in flight settles unheard: its subscribers (an app's logger, its
    // metrics) are being shut down, and an event now would land after the app said it stopped.
    this.#o = {
      ...options,
      onEvent: (event) => {
        if (!this.#closed) options.onEvent(event)
      },
    }
  }

  select(spec: AlgorithmSpec, kid: string | undefined): VerificationKey | Promise<VerificationKey> {
    const now = this.#o.nowMs()
    const current = this.#current
    if (current === undefined) return this.#firstLoad(spec, kid)
    if (now >= current.freshUntilMs + this.#o.maxStaleMs) return this.#pastStale(spec, kid, now)
    this.#maintain(current, now)
    try {
      return current.keySet.select(spec, kid)
    } catch (error) {
      if (kid === undefined || (error as JwksBridgeError).code !== 'ERR_KEY_NOT_FOUND') throw error
      return this.#unknownKid(spec, kid, now, error as JwksBridgeError)
    }
  }

  has(key: VerificationKey): boolean {
    return this.#current?.keySet.has(key) ?? false
  }

  admitsCached(key: VerificationKey): boolean {
    const current = this.#current
    if (current === undefined || !current.keySet.has(key)) return false
    const now = this.#o.nowMs()
    // Past the stale window the set is no longer trusted, and neither is what it verified.
    if (now >= current.freshUntilMs + this.#o.maxStaleMs) return false
    this.#maintain(current, now)
    return true
  }

  /** Counts stale serving and starts the background refresh once the set is due for one. */
  #maintain(current: Current, now: number): void {
    if (now >= current.freshUntilMs) {
      this.#stats.staleServes++
      if (!this.#staleReported) {
        this.#staleReported = true
        this.#o.onEvent({
          type: 'stale-served',
          issuer: this.#o.issuer,
          staleForMs: now - current.freshUntilMs,
        })
      }
    }
    if (now >= current.fetchedAtMs + (current.freshUntilMs - current.fetchedAtMs) * REFRESH_AHEAD_RATIO) {
      this.#refreshInBackground(now)
    }
  }

  /** Loads the set now if it has never been loaded (for start-up, so the first request does not wait). */
  async ready(): Promise<void> {
    if (this.#current !== undefined) return
    try {
      await this.#refresh('initial')
    } catch (error) {
      // The same error verify() gives for the same fault.
      throw this.#firstLoadError(error)
    }
  }

  /** The set in use, if any (for tools such as `jwks-bridge jwks`). */
  get keySet(): KeySet | undefined {
    return this.#current?.keySet
  }

  stats(): KeySetStats {
    const current = this.#current
    return {
      issuer: this.#o.issuer,
      url: current?.url ?? this.#o.jwksUri ?? this.#discovered?.url,
      ...this.#stats,
      keyCount: current?.keySet.keys.length ?? 0,
      ageMs: current === undefined ? undefined : this.#o.nowMs() - current.fetchedAtMs,
    }
  }

  close(): void {
    this.#closed = true
  }

  async #firstLoad(spec: AlgorithmSpec, kid: string | undefined): Promise<VerificationKey> {
    // After a failed first load, wait out the backoff instead of fetching on every request
    // (jose refetches on every verification during an outage).
    if (this.#inflight === undefined && this.#o.nowMs() < this.#retryAtMs) {
      const last = this.#firstLoadFailure
      throw new JwksBridgeError(
        last?.code === 'ERR_DISCOVERY_FAILED' ? 'ERR_DISCOVERY_FAILED' : 'ERR_JWKS_UNAVAILABLE',
        `${last?.message ?? 'the key set could not be loaded'}; retrying later`,
        { reason: 'backing off after a failed fetch', cause: last?.cause ?? last },
      )
    }
    try {
      await this.#refresh('initial')
    } catch (error) {
      throw this.#firstLoadError(error)
    }
    return this.#selectAfterFetch(spec, kid)
  }

  /**
   * The refusal for a failed first load. A failed discovery keeps its own code: it is most often a
   * configuration fault (a wrong issuer), and ERR_JWKS_UNAVAILABLE would send the reader looking
   * for an outage. The message says what failed and where (URLs and issuers are public).
   */
  #firstLoadError(error: unknown): JwksBridgeError {
    const e = error as Partial<JwksBridgeError>
    const refusal =
      e.code === 'ERR_DISCOVERY_FAILED'
        ? (error as JwksBridgeError)
        : new JwksBridgeError(
            'ERR_JWKS_UNAVAILABLE',
            `the key set could not be loaded${e.message === undefined ? '' : `: ${e.message}`}`,
            { reason: e.reason ?? 'fetch failed', cause: error },
          )
    this.#firstLoadFailure = refusal
    return refusal
  }

  async #pastStale(spec: AlgorithmSpec, kid: string | undefined, now: number): Promise<VerificationKey> {
    if (this.#inflight !== undefined || now >= this.#retryAtMs) {
      try {
        await this.#refresh('refresh')
        return this.#selectAfterFetch(spec, kid)
      } catch (error) {
        if ((error as JwksBridgeError).code?.startsWith('ERR_KEY_')) throw error
      }
    }
    throw new JwksBridgeError('ERR_JWKS_STALE', 'the key set is too old to trust and cannot be refreshed', {
      reason: 'past maxStaleSeconds',
    })
  }

  #unknownKid(
    spec: AlgorithmSpec,
    kid: string,
    now: number,
    notFound: JwksBridgeError,
  ): VerificationKey | Promise<VerificationKey> {
    // A kid found absent is not looked up again for one cooldown, so a stream of the same bogus kid
    // does not spend the fetch budget a genuinely new kid needs; after that it may be fetched again
    // (a provider may start signing with a key a moment before it publishes it).
    const absentSince = this.#unknownKids.get(kid)
    if (absentSince !== undefined && now - absentSince < this.#o.cooldownMs) {
      return this.#refuse('known-unknown', notFound)
    }
    const afterFetch = () => this.#selectAfterFetch(spec, kid, now)
    const failed = (): never => {
      throw notFound
    }
    // A fetch already under way: wait for it, it may bring the key.
    if (this.#inflight !== undefined) return this.#inflight.then(afterFetch, failed)
    if (now - this.#lastKidFetchMs < this.#o.cooldownMs) return this.#refuse('cooldown', notFound)
    if (now < this.#retryAtMs) return this.#refuse('backoff', notFound)
    this.#lastKidFetchMs = now
    this.#stats.unknownKidRefetches++
    return this.#refresh('unknown-kid').then(afterFetch, failed)
  }

  #refuse(reason: 'cooldown' | 'known-unknown' | 'backoff', error: JwksBridgeError): never {
    this.#stats.unknownKidsRefused++
    this.#o.onEvent({ type: 'unknown-kid-refused', issuer: this.#o.issuer, reason })
    throw error
  }

  #selectAfterFetch(spec: AlgorithmSpec, kid: string | undefined, now = this.#o.nowMs()): VerificationKey {
    const current = this.#current
    if (current === undefined) {
      throw new JwksBridgeError('ERR_JWKS_UNAVAILABLE', 'the key set could not be loaded', {
        reason: 'no key set',
      })
    }
    try {
      return current.keySet.select(spec, kid)
    } catch (error) {
      if (kid !== undefined && (error as JwksBridgeError).code === 'ERR_KEY_NOT_FOUND')
        this.#rememberUnknown(kid, now)
      throw error
    }
  }

  #rememberUnknown(kid: string, now: number): void {
    this.#unknownKids.delete(kid)
    if (this.#unknownKids.size >= this.#o.maxUnknownKids) {
      const oldest = this.#unknownKids.keys().next()
      if (!oldest.done) this.#unknownKids.delete(oldest.value)
    }
    this.#unknownKids.set(kid, now)
  }

  #refreshInBackground(now: number): void {
    if (this.#inflight !== undefined || now < this.#retryAtMs || this.#closed) return
    this.#refresh('refresh').catch(() => {
      // Reported through onEvent; the last good set keeps serving.
    })
  }

  /** Single flight: every caller during a fetch shares it. */
  #refresh(reason: FetchReason): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight
    const attempt = this.#fetchAndInstall(reason).finally(() => {
      this.#inflight = undefined
    })
    this.#inflight = attempt
    return attempt
  }

  async #fetchAndInstall(reason: FetchReason): Promise<void> {
    const o = this.#o
    let url = o.jwksUri ?? this.#discovered?.url ?? discoveryUrl(o.issuer)
    try {
      url = await this.#keySetUrl()
      if (await this.#adoptShared(url, reason)) return
      o.onEvent({ type: 'fetch', issuer: o.issuer, url, reason })
      this.#stats.fetches++
      const current = this.#current
      const validators = current !== undefined && current.url === url ? current.validators : {}
      const outcome = await fetchJsonDocument(
        o.fetch,
        url,
        JWKS_MEDIA_TYPES,
        o.fetchLimits,
        validators,
        'ERR_JWKS_FETCH_FAILED',
      )
      const now = o.nowMs()
      const freshForMs = freshnessSeconds(outcome.cacheControl, outcome.age, o.freshness) * 1000
      if (outcome.status === 304 && current !== undefined) {
        this.#stats.revalidations++
        this.#install({ ...current, fetchedAtMs: now, freshUntilMs: now + freshForMs }, 304, 'network')
      } else if (outcome.status === 200) {
        const keySet = importKeySet(outcome.body, o.keyLimits, current?.keySet)
        const document = outcome.body as CachedKeySet['document']
        this.#install(
          {
            keySet,
            document,
            url,
            fetchedAtMs: now,
            freshUntilMs: now + freshForMs,
            validators: outcome.validators,
          },
          200,
          'network',
        )
      }
      const installed = this.#current as Current | undefined
      if (installed !== undefined) this.#share(installed, freshForMs)
    } catch (error) {
      this.#recordFailure(url, error)
      throw error
    }
  }

  /**
   * Writes the set to the shared cache. Not awaited: a slow or hung cache must never hold up the
   * fetch that every waiting verification shares. Failures are the cache's to report.
   */
  #share(installed: Current, freshForMs: number): void {
    const entry: CachedKeySet = {
      document: installed.document,
      fetchedAtMs: installed.fetchedAtMs,
      freshUntilMs: installed.freshUntilMs,
      etag: installed.validators.etag,
      lastModified: installed.validators.lastModified,
    }
    this.#o.cache.set(installed.url, entry, freshForMs + this.#o.maxStaleMs).catch(() => {})
  }

  /** Reads the shared cache, giving up after the fetch timeout: a hung cache counts as a miss. */
  async #readShared(url: string): Promise<CachedKeySet | undefined> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.#o.fetchLimits.timeoutMs)
    })
    try {
      return await Promise.race([this.#o.cache.get(url).catch(() => undefined), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Uses a set another instance fetched, when it is newer than ours and good for this need. */
  async #adoptShared(url: string, reason: FetchReason): Promise<boolean> {
    const o = this.#o
    const shared = await this.#readShared(url)
    const current = this.#current
    if (shared === undefined || (current !== undefined && shared.fetchedAtMs <= current.fetchedAtMs))
      return false
    const now = o.nowMs()
    // Another instance's clock and settings are not ours: hold its entry to our own bounds.
    const fetchedAtMs = Math.min(shared.fetchedAtMs, now)
    const freshUntilMs = Math.min(shared.freshUntilMs, fetchedAtMs + o.freshness.maxSeconds * 1000)
    if (now >= freshUntilMs) return false
    // For an unknown kid, only a set fetched within the cooldown is worth adopting instead of asking
    // the provider: another instance has just looked, most likely for the same kid.
    if (reason === 'unknown-kid' && now - fetchedAtMs >= o.cooldownMs) return false
    let keySet: KeySet
    try {
      keySet = importKeySet(shared.document, o.keyLimits, current?.keySet)
    } catch {
      return false
    }
    if (!keySet.canVerify) return false
    this.#stats.sharedCacheHits++
    this.#install(
      {
        keySet,
        document: shared.document,
        url,
        fetchedAtMs,
        freshUntilMs,
        validators: { etag: shared.etag, lastModified: shared.lastModified },
      },
      200,
      'shared-cache',
    )
    return true
  }

  async #keySetUrl(): Promise<string> {
    const o = this.#o
    if (o.jwksUri !== undefined) return o.jwksUri
    const now = o.nowMs()
    if (this.#discovered !== undefined && now < this.#discovered.freshUntilMs) return this.#discovered.url
    const configUrl = discoveryUrl(o.issuer)
    try {
      this.#stats.fetches++
      const outcome = await fetchJsonDocument(
        o.fetch,
        configUrl,
        ['application/json'],
        o.fetchLimits,
        {},
        'ERR_DISCOVERY_FAILED',
      )
      if (outcome.status !== 200)
        throw new JwksBridgeError('ERR_DISCOVERY_FAILED', 'unexpected answer', { reason: 'status' })
      const url = processDiscoveryDocument(outcome.body, o.issuer)
      const freshForMs = freshnessSeconds(outcome.cacheControl, outcome.age, o.freshness) * 1000
      if (this.#discovered?.url !== url) o.onEvent({ type: 'discovered', issuer: o.issuer, jwksUri: url })
      this.#discovered = { url, freshUntilMs: o.nowMs() + freshForMs }
      return url
    } catch (error) {
      // A discovery document that cannot be refreshed does not stop us: the last jwks_uri stands.
      if (this.#discovered !== undefined) return this.#discovered.url
      throw discoveryFailure(o.issuer, configUrl, error)
    }
  }

  #install(next: Current, status: 200 | 304, source: 'network' | 'shared-cache'): void {
    const o = this.#o
    if (this.#current?.keySet !== next.keySet) {
      for (const rejected of next.keySet.rejected)
        o.onEvent({ type: 'key-rejected', issuer: o.issuer, ...rejected })
    }
    if (!next.keySet.canVerify) {
      // A set with no usable key is a failed fetch: the last good one keeps serving.
      throw new JwksBridgeError('ERR_KEYSET_INVALID', 'the key set has no usable key', {
        reason: 'no usable key',
      })
    }
    const previous = this.#current
    this.#current = next
    this.#retryAtMs = 0
    this.#staleReported = false
    this.#stats.consecutiveFailures = 0
    this.#stats.lastSuccessAtMs = o.nowMs()
    o.onEvent({
      type: 'fetched',
      issuer: o.issuer,
      url: next.url,
      status,
      source,
      keys: next.keySet.keys.length,
      freshForMs: next.freshUntilMs - o.nowMs(),
    })
    if (previous?.keySet === next.keySet) return
    const before = new Set(previous?.keySet.keys ?? [])
    const after = new Set(next.keySet.keys)
    const added = next.keySet.keys.filter((key) => !before.has(key))
    const removed = [...before].filter((key) => !after.has(key))
    if (previous !== undefined && added.length === 0 && removed.length === 0) return
    this.#unknownKids.clear()
    if (previous !== undefined) {
      this.#stats.keysChanged++
      o.onEvent({
        type: 'keys-changed',
        issuer: o.issuer,
        added: added.map((key) => key.kid ?? null),
        removed: removed.map((key) => key.kid ?? null),
      })
      if (removed.length > 0) o.onKeysChanged()
    }
  }

  #recordFailure(url: string, error: unknown): void {
    const o = this.#o
    const now = o.nowMs()
    this.#stats.failures++
    this.#stats.consecutiveFailures++
    this.#stats.lastFailureAtMs = now
    const retryInMs = backoffDelayMs(this.#stats.consecutiveFailures, o.backoff, o.random())
    this.#retryAtMs = now + retryInMs
    const e = error as Partial<JwksBridgeError>
    o.onEvent({
      type: 'fetch-failed',
      issuer: o.issuer,
      url,
      code: e.code ?? 'ERR_JWKS_FETCH_FAILED',
      reason: e.reason ?? 'fetch failed',
      consecutiveFailures: this.#stats.consecutiveFailures,
      retryInMs,
    })
  }
}

/**
 * A failed discovery, naming the configured issuer and the URL fetched (both public): a wrong issuer
 * (a trailing slash, localhost for 127.0.0.1, a wrong port) shows up here and nowhere else.
 */
function discoveryFailure(issuer: string, url: string, error: unknown): JwksBridgeError {
  const e = error as Partial<JwksBridgeError>
  const what = e.message ?? 'fetch failed'
  // An issuer mismatch already says what to do; any other failure is most often a wrong issuer URL.
  const fix =
    e.reason === 'issuer mismatch'
      ? ''
      : "; check that issuer is exactly the provider's (scheme, host, port, path), or give jwksUri"
  return new JwksBridgeError(
    'ERR_DISCOVERY_FAILED',
    `OpenID discovery for the issuer ${JSON.stringify(issuer)} failed at ${url}: ${what}${fix}`,
    { reason: e.reason ?? 'fetch failed', cause: error },
  )
}
