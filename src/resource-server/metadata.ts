/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells a client which
 * authorization servers issue tokens for this API, how to present them, and which scopes exist.
 */

/** The RFC 9728 §2 document, as `metadata()` returns it. */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  bearer_methods_supported: string[]
  scopes_supported?: string[]
  dpop_signing_alg_values_supported?: string[]
  dpop_bound_access_tokens_required?: boolean
  resource_name?: string
  resource_documentation?: string
}

export const WELL_KNOWN_PATH = '/.well-known/oauth-protected-resource'

/**
 * RFC 9728 §3.1: the metadata URL inserts the well-known path between the host and the path of the
 * resource identifier: `https://api.example.com/v1` → `https://api.example.com/.well-known/oauth-protected-resource/v1`.
 * A trailing slash of the resource's path is dropped; its query, if any, is kept.
 */
export function metadataUrlFor(resource: URL): URL {
  const path = resource.pathname === '/' ? '' : resource.pathname.replace(/\/$/, '')
  const url = new URL(`${WELL_KNOWN_PATH}${path}`, resource.origin)
  url.search = resource.search
  return url
}

export interface MetadataInput {
  resource: string
  authorizationServers: readonly string[]
  scopesSupported: readonly string[] | undefined
  dpop: 'off' | 'allowed' | 'required'
  dpopAlgorithms: readonly string[]
  resourceName: string | undefined
  resourceDocumentation: string | undefined
}

/** Builds the document; a fresh object each call, so a caller may add members of its own. */
export function buildMetadata(input: MetadataInput): ProtectedResourceMetadata {
  const document: ProtectedResourceMetadata = {
    resource: input.resource,
    authorization_servers: [...input.authorizationServers],
    // RFC 6750 §2.1 only: the query (§2.3) and body (§2.2) methods are refused (see authorization-header.ts).
    bearer_methods_supported: ['header'],
  }
  if (input.scopesSupported !== undefined) document.scopes_supported = [...input.scopesSupported]
  if (input.dpop !== 'off') document.dpop_signing_alg_values_supported = [...input.dpopAlgorithms]
  if (input.dpop === 'required') document.dpop_bound_access_tokens_required = true
  if (input.resourceName !== undefined) document.resource_name = input.resourceName
  if (input.resourceDocumentation !== undefined) document.resource_documentation = input.resourceDocumentation
  return document
}
