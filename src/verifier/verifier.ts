import { invalidOptions, JwksBridgeError } from '../errors.js'
import type { ValidityWindow } from '../jose/claims.js'
import { decodePayload, splitCompact } from '../jose/compact.js'
import type { JsonObject } from '../jose/json.js'
import type { VerificationKey } from '../jose/jwk.js'
import { importKeySet } from '../jose/key-set.js'
import {
  type CheckedHeader,
  checkTokenHeader,
  completeVerification,
  completeVerificationInPool,
  deepFreeze,
  HeaderCache,
  type VerifiedJwt,
} from '../jose/verify-jwt.js'
import type { KeySetStats } from '../keys/events.js'
import type { FetchFunction } from '../keys/http-fetch.js'
import { MemoryKeySetCache } from '../keys/key-set-cache.js'
import { type KeySource, StaticKeySource } from '../keys/key-source.js'
import { RemoteKeySource } from '../keys/remote-key-source.js'
import {
  type IssuerConfig,
  resolveVerifierOptions,
  type VerifierConfig,
  type VerifierOptions,
} from './options.js'
import { signaturePool } from './signature-pool.js'
import { TokenCache } from './token-cache.js'

export interface Verifier {
  /**
   * Verifies a compact JWS JWT: structure, header, key, signature, then claims. Resolves to the
   * protected header and the claims set (both frozen), or rejects with a `JwksBridgeError` whose
   * `code` says which rule failed. The message never contains the token.
   */
  verify(token: string): Promise<VerifiedJwt>
  /** The configured issuers, in order. */
  readonly issuers: readonly string[]
  /**
   * Loads every remote key set now (call it at start-up so the first request does not wait).
   * Rejects if one cannot be loaded; verification would then retry with backoff.
   */
  ready(): Promise<void>
  /** Counters and state of each remote key set, for metrics. Static key sets are not listed. */
  keySetStats(): KeySetStats[]
  /** Stops background work (remote key set refreshes); a fetch still in flight then reports no event. */
  close(): void
}

interface Route {
  config: IssuerConfig
  keys: KeySource
  headers: HeaderCache
}

/**
 * Creates a verifier for one issuer (`issuer` + `jwks`) or several (`issuers`).
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', jwks, audience: 'my-api' })
 * const { payload } = await verifier.verify(token)
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const config = resolveVerifierOptions(options)
  const cache = config.tokenCacheEntries > 0 ? new TokenCache(config.tokenCacheEntries) : undefined
  const sharedKeySets = config.keySetCache ?? new MemoryKeySetCache(config.nowMs)
  const routes = new Map<string, Route>()
  for (const issuer of config.issuers) {
    const keys = keySourceFor(issuer, config, sharedKeySets, () => cache?.prune())
    routes.set(issuer.issuer, { config: issuer, keys, headers: new HeaderCache() })
  }
  const single = routes.size === 1 ? (routes.values().next().value as Route) : undefined
  const { maxTokenLength, nowMs, signatureThreadPool: poolMode } = config

  function remember(
    route: Route,
    checked: CheckedHeader,
    key: VerificationKey,
    verified: { result: VerifiedJwt; window: ValidityWindow },
    cacheKey: string | undefined,
  ): VerifiedJwt {
    const { result, window } = verified
    route.headers.remember(checked)
    if (cache !== undefined && cacheKey !== undefined) {
      // A cached result is handed to every caller presenting the same token: freeze it so that no
      // caller can change what the next one sees.
      deepFreeze(result)
      cache.set(cacheKey, { result, window, key, source: route.keys })
    }
    return result
  }

  function finish(
    route: Route,
    checked: CheckedHeader,
    key: VerificationKey,
    payload: JsonObject | undefined,
    cacheKey: string | undefined,
  ): VerifiedJwt | Promise<VerifiedJwt> {
    const policy = route.config.policy
    if (signaturePool.admit(poolMode, checked.spec)) {
      return completeVerificationInPool(checked, key, policy, () => nowMs() / 1000, payload).then(
        (verified) => {
          signaturePool.release()
          return remember(route, checked, key, verified, cacheKey)
        },
        (error: unknown) => {
          signaturePool.release()
          throw error
        },
      )
    }
    const verified = completeVerification(checked, key, policy, nowMs() / 1000, payload)
    return remember(route, checked, key, verified, cacheKey)
  }

  function verifyNow(token: string): VerifiedJwt | Promise<VerifiedJwt> {
    let cacheKey: string | undefined
    if (cache !== undefined && typeof token === 'string' && token.length <= maxTokenLength) {
      cacheKey = TokenCache.keyOf(token)
      const hit = cache.get(cacheKey, nowMs() / 1000)
      if (hit !== undefined) return hit
    }
    const compact = splitCompact(token, maxTokenLength)
    let route = single
    let payload: JsonObject | undefined
    if (route === undefined) {
      // Several issuers: the unverified `iss` only picks which issuer's keys and rules apply, before
      // any network I/O. Nothing else is read from it until the signature has been checked.
      payload = decodePayload(compact)
      const iss = payload.iss
      route = typeof iss === 'string' ? routes.get(iss) : undefined
      if (route === undefined) {
        throw new JwksBridgeError('ERR_ISSUER_UNKNOWN', 'the token claims an issuer that is not configured', {
          claim: 'iss',
        })
      }
    }
    const checked = checkTokenHeader(compact, route.config.policy, route.headers)
    const selected = route.keys.select(checked.spec, checked.header.kid)
    const chosen = route
    if (selected instanceof Promise)
      return selected.then((key) => finish(chosen, checked, key, payload, cacheKey))
    return finish(route, checked, selected, payload, cacheKey)
  }

  return {
    verify(token: string): Promise<VerifiedJwt> {
      try {
        return Promise.resolve(verifyNow(token))
      } catch (error) {
        return Promise.reject(error)
      }
    },
    issuers: Object.freeze([...routes.keys()]),
    async ready(): Promise<void> {
      await Promise.all(
        [...routes.values()].map((route) =>
          route.keys instanceof RemoteKeySource ? route.keys.ready() : undefined,
        ),
      )
    },
    keySetStats(): KeySetStats[] {
      return [...routes.values()].flatMap((route) =>
        route.keys instanceof RemoteKeySource ? [route.keys.stats()] : [],
      )
    },
    close(): void {
      for (const route of routes.values()) route.keys.close()
      cache?.clear()
    },
  }
}

function keySourceFor(
  issuer: IssuerConfig,
  config: VerifierConfig,
  sharedKeySets: MemoryKeySetCache | NonNullable<VerifierConfig['keySetCache']>,
  onKeysChanged: () => void,
): KeySource {
  const remote = issuer.remote
  if (remote !== undefined) {
    const onEvent = config.onEvent ?? (() => {})
    return new RemoteKeySource({
      issuer: issuer.issuer,
      jwksUri: remote.jwksUri,
      freshness: { minSeconds: remote.cacheMinAgeMs / 1000, maxSeconds: remote.cacheMaxAgeMs / 1000 },
      cooldownMs: remote.cooldownMs,
      maxStaleMs: remote.maxStaleMs,
      fetchLimits: { timeoutMs: remote.timeoutMs, maxResponseBytes: remote.maxResponseBytes },
      backoff: { baseMs: remote.retryBaseMs, maxMs: remote.retryMaxMs },
      maxUnknownKids: remote.maxUnknownKids,
      keyLimits: issuer.limits,
      fetch: config.fetch ?? (globalThis.fetch as FetchFunction),
      cache: sharedKeySets,
      nowMs: config.nowMs,
      random: Math.random,
      onEvent: (event) => {
        if (event.type === 'key-rejected') config.onKeyRejected?.(event)
        onEvent(event)
      },
      onKeysChanged,
    })
  }
  if (issuer.jwks === undefined)
    throw invalidOptions(`no keys for issuer ${issuer.issuer}: give jwks or jwksUri`)
  const keySet = importKeySet(issuer.jwks, issuer.limits)
  for (const rejected of keySet.rejected) config.onKeyRejected?.({ issuer: issuer.issuer, ...rejected })
  if (!keySet.canVerify) {
    throw invalidOptions(
      `jwks for issuer ${issuer.issuer} has no usable key (${keySet.rejected.length} rejected)`,
    )
  }
  return new StaticKeySource(keySet)
}
