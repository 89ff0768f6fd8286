import { invalidOptions, JwksBridgeError } from './errors.js'
import { decodePayload, splitCompact } from './jose/compact.js'
import type { JsonObject } from './jose/json.js'
import type { VerificationKey } from './jose/jwk.js'
import { importKeySet } from './jose/key-set.js'
import {
  type CheckedHeader,
  checkTokenHeader,
  completeVerification,
  deepFreeze,
  HeaderCache,
  type VerifiedJwt,
} from './jose/verify-jwt.js'
import { type KeySource, StaticKeySource } from './keys/key-source.js'
import {
  type IssuerConfig,
  resolveVerifierOptions,
  type VerifierConfig,
  type VerifierOptions,
} from './options.js'
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
  /** Stops background work (remote key set refreshes). */
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
  const routes = new Map<string, Route>()
  for (const issuer of config.issuers)
    routes.set(issuer.issuer, {
      config: issuer,
      keys: keySourceFor(issuer, config),
      headers: new HeaderCache(),
    })
  const single = routes.size === 1 ? (routes.values().next().value as Route) : undefined
  const cache = config.tokenCacheEntries > 0 ? new TokenCache(config.tokenCacheEntries) : undefined
  const { maxTokenLength, nowMs } = config

  function finish(
    route: Route,
    checked: CheckedHeader,
    key: VerificationKey,
    payload: JsonObject | undefined,
    cacheKey: string | undefined,
  ): VerifiedJwt {
    const { result, validUntilSeconds } = completeVerification(
      checked,
      key,
      route.config.policy,
      nowMs() / 1000,
      payload,
    )
    if (cache !== undefined && cacheKey !== undefined) {
      // A cached result is handed to every caller presenting the same token: freeze it so that no
      // caller can change what the next one sees.
      deepFreeze(result)
      cache.set(cacheKey, { result, validUntilSeconds, key, source: route.keys })
    }
    return result
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
    close(): void {
      for (const route of routes.values()) route.keys.close()
      cache?.clear()
    },
  }
}

function keySourceFor(issuer: IssuerConfig, config: VerifierConfig): KeySource {
  if (issuer.jwks === undefined) throw invalidOptions(`no keys for issuer ${issuer.issuer}: give jwks`)
  const keySet = importKeySet(issuer.jwks, issuer.limits)
  for (const rejected of keySet.rejected) config.onKeyRejected?.({ issuer: issuer.issuer, ...rejected })
  if (keySet.keys.length === 0) {
    throw invalidOptions(
      `jwks for issuer ${issuer.issuer} has no usable key (${keySet.rejected.length} rejected)`,
    )
  }
  return new StaticKeySource(keySet)
}
