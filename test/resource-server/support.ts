// Helpers for the resource server tests: an authorization server's key, RFC 9068 access tokens, and
// DPoP proofs signed by a client key, all with real keys and real signatures (node:crypto).
import { createHash, randomUUID } from 'node:crypto'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import type { ResourceServerOptions } from '../../src/resource-server/options.ts'
import { createResourceServer, type ResourceServer } from '../../src/resource-server/resource-server.ts'
import { jwkThumbprint } from '../../src/resource-server/thumbprint.ts'
import { ISSUER, makeKey, NOW_SECONDS, signText, signToken, type TestKey } from '../helpers/tokens.ts'

export { ISSUER, NOW_SECONDS }
export const RESOURCE = 'https://api.example.com'
export const API_URL = `${RESOURCE}/things/42`

export const issuerKey = (): TestKey => makeKey('RS256', 'as-key')
export const clientKey = (): TestKey => makeKey('ES256', 'dpop-client')
export const otherClientKey = (): TestKey => makeKey('ES256', 'dpop-other')

/** The public JWK a client puts in its proofs: the key members only. */
export function proofJwk(key: TestKey): Record<string, unknown> {
  const { kty, crv, x, y, n, e } = key.jwk as Record<string, string | undefined>
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined))
}

export function thumbprintOf(key: TestKey): string {
  return jwkThumbprint(importPublicJwk(proofJwk(key)))
}

/** An RFC 9068 access token for RESOURCE, optionally bound to a DPoP key. */
export function accessToken(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  boundTo?: TestKey,
): string {
  return signToken(
    issuerKey(),
    {
      aud: RESOURCE,
      client_id: 'client-1',
      scope: 'read write',
      jti: randomUUID(),
      ...(boundTo === undefined ? {} : { cnf: { jkt: thumbprintOf(boundTo) } }),
      ...claims,
    },
    { typ: 'at+jwt', ...header },
  )
}

export const ath = (token: string): string => createHash('sha256').update(token).digest('base64url')

/** A DPoP proof for `method url`, bound to `token`, signed by `key`; any member can be overridden. */
export function dpopProof(
  key: TestKey,
  token: string | undefined,
  options: {
    method?: string
    url?: string
    claims?: Record<string, unknown>
    header?: Record<string, unknown>
  } = {},
): string {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: proofJwk(key), ...options.header }
  const claims = {
    jti: randomUUID(),
    htm: options.method ?? 'GET',
    htu: options.url ?? API_URL,
    iat: NOW_SECONDS,
    ...(token === undefined ? {} : { ath: ath(token) }),
    ...options.claims,
  }
  for (const [name, value] of Object.entries(header))
    if (value === undefined) delete (header as Record<string, unknown>)[name]
  for (const [name, value] of Object.entries(claims))
    if (value === undefined) delete (claims as Record<string, unknown>)[name]
  return signText(key, JSON.stringify(header), JSON.stringify(claims), key.alg)
}

export function makeApi(overrides: Partial<ResourceServerOptions> = {}): ResourceServer {
  return createResourceServer({
    resource: RESOURCE,
    issuer: ISSUER,
    jwks: { keys: [issuerKey().jwk] },
    nowMs: () => NOW_SECONDS * 1000,
    ...overrides,
  } as ResourceServerOptions)
}

/** The code of the JwksBridgeError a promise rejects with. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code ?? `not coded: ${String(error)}`
  }
  return 'resolved'
}
