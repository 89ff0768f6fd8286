// The bridge, its stores and the development identity provider, made once per server process.
// Next.js bundles route handlers and server components separately: globalThis keeps one instance
// for both, so a session created by the route handler is the one the page reads.
import { type Bridge, createBridge, createMemoryStores } from 'jwks-bridge'
import { createDevIssuer, type DevIssuer } from 'jwks-bridge/dev-issuer'
import { type Authenticated, createFetchAdapter, type FetchAdapter } from 'jwks-bridge/fetch'
import { headers } from 'next/headers'

/** The app's URL as browsers see it: the transport and the origin the bridge checks. */
export const PUBLIC_URL = (process.env.PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(
  /\/+$/,
  '',
)

interface App {
  bridge: Bridge
  adapter: FetchAdapter
  devIssuer: DevIssuer
}

/**
 * `next start` runs with NODE_ENV=production, where the development provider refuses to start (it signs
 * anyone in under any name). The example's own test serves the production build on loopback, and says
 * so with this switch, named for what it allows; never set it on a server others can reach.
 */
const DEV_ISSUER_IN_PRODUCTION = process.env.DEV_ISSUER_IN_PRODUCTION === 'anyone-can-sign-in'

function create(): App {
  // The development provider, mounted under /dev-issuer (app/dev-issuer/[[...path]]/route.ts). With a
  // real provider, give the bridge its issuer and key set URL instead.
  const devIssuer = createDevIssuer({
    issuer: `${PUBLIC_URL}/dev-issuer`,
    ...(DEV_ISSUER_IN_PRODUCTION ? { env: { NODE_ENV: 'test' } } : {}),
  })
  // Memory stores: sessions end with the process. createSqliteStores() or createPostgresStores() keep them.
  const stores = createMemoryStores()
  const bridge = createBridge({
    verifier: { issuer: devIssuer.issuer, jwksUri: devIssuer.jwksUrl, algorithms: [devIssuer.alg] },
    identities: stores.identities,
    sessions: stores.sessions,
  })
  return { bridge, devIssuer, adapter: createFetchAdapter(bridge, { publicUrl: PUBLIC_URL }) }
}

const holder = globalThis as typeof globalThis & { __jwksBridgeExample?: App }

export function app(): App {
  holder.__jwksBridgeExample ??= create()
  return holder.__jwksBridgeExample
}

/** The identity of the request being rendered (server components), or null. */
export async function currentIdentity(): Promise<Authenticated | null> {
  // A server component has the request's headers, not a Request: make one for the adapter.
  const request = new Request(`${PUBLIC_URL}/`, { headers: new Headers(await headers()) })
  return app().adapter.authenticateRequest(request)
}
