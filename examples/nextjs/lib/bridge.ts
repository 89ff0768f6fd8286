// The bridge, its stores and the development identity provider, made once per server process.
// Next.js bundles route handlers and server components separately: globalThis keeps one instance
// for both, so a session created by the route handler is the one the page reads.
import { type Bridge, createBridge, createMemoryStores } from 'jwks-bridge'
import { createDevIssuer, type DevIssuer } from 'jwks-bridge/dev-issuer'
import { type Authenticated, createFetchAdapter, type FetchAdapter } from 'jwks-bridge/fetch'
import { headers } from 'next/headers'

/**
 * The app's URL as browsers see it: the transport and the origin the bridge checks. In production it is
 * the https URL of the TLS proxy in front of `next start` (Next.js gives route handlers neither the
 * connection's TLS nor its peer address, so the adapter's `publicUrl` declares the transport).
 */
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
    // The development provider lives in this process: its keys are given directly rather than fetched
    // through the app's own (proxied, possibly self-signed) https URL.
    verifier: { issuer: devIssuer.issuer, jwks: devIssuer.jwks(), algorithms: [devIssuer.alg] },
    identities: stores.identities,
    sessions: stores.sessions,
    // csrf is on by default: proxy.ts issues the token, the page renders it, the browser script sends it.
  })
  const adapter = createFetchAdapter(bridge, {
    publicUrl: PUBLIC_URL,
    // Route handlers get no peer address: `next dev` (NODE_ENV=development, listening on 127.0.0.1
    // only) counts every request as from this machine so plain http may carry the session cookie. The
    // adapter refuses this under NODE_ENV=production (`next start`), which must be served over https.
    developmentLoopback: process.env.NODE_ENV === 'development',
  })
  return { bridge, devIssuer, adapter }
}

const holder = globalThis as typeof globalThis & { __jwksBridgeExample?: App }

export function app(): App {
  holder.__jwksBridgeExample ??= create()
  return holder.__jwksBridgeExample
}

/**
 * The request header proxy.ts sets to the page's CSRF token for the server components. proxy.ts always
 * overwrites it, so a value a client sent never reaches the page.
 */
export const CSRF_TOKEN_HEADER = 'x-jwks-bridge-csrf-token'

/** The CSRF token proxy.ts issued for the page being rendered (`<meta name="csrf-token">`). */
export async function csrfToken(): Promise<string> {
  return (await headers()).get(CSRF_TOKEN_HEADER) ?? ''
}

/** The identity of the request being rendered (server components), or null. */
export async function currentIdentity(): Promise<Authenticated | null> {
  // A server component has the request's headers, not a Request: make one for the adapter.
  const request = new Request(`${PUBLIC_URL}/`, { headers: new Headers(await headers()) })
  return app().adapter.authenticateRequest(request)
}
