// The TypeScript a user writes against the installed package, type-checked in the scratch project
// by test/package/pack.test.ts (nodenext, strict). It is a string, not a .ts file of its own: the
// repo's own typecheck would resolve 'jwks-bridge' to the repo itself, and it must resolve through
// the scratch project's node_modules and the package's "types" conditions only.
//
// Each entry point has a use that must compile and a @ts-expect-error that must fail to compile: a
// subpath whose types were missing or `any` would make the directive unused, which tsc reports.
export const CONSUMER_TYPES_SOURCE = `
import type { Request } from 'express'
import type { FastifyRequest } from 'fastify'
import { createResourceServer, createVerifier, type Identity, isJwksBridgeError, type JwtPayload, type Verifier } from 'jwks-bridge'
import { functionSource, start, type TokenSource } from 'jwks-bridge/client'
import { createDevIssuer, type DevIssuer } from 'jwks-bridge/dev-issuer'
import { bridgeMiddleware, devIssuerMiddleware, requireAccessToken } from 'jwks-bridge/express'
import { devIssuerFastify, jwksBridgeFastify } from 'jwks-bridge/fastify'
import {
  type AccessTokenOutcome,
  type Authenticated,
  authenticateRequest,
  handleRequest,
  protectedResourceMetadata,
  requireAccessToken as fetchGuard,
} from 'jwks-bridge/fetch'
import { type JwksBridgeEnv, jwksBridge, requireAccessToken as honoGuard } from 'jwks-bridge/hono'
import { Hono } from 'hono'
import { createTestIssuer, type TestIssuer } from 'jwks-bridge/testing'

const verifier: Verifier = createVerifier({ issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks' })
export async function subjectOf(token: string): Promise<string | undefined> {
  const { payload }: { payload: JwtPayload } = await verifier.verify(token)
  return payload.sub
}
export function codeOf(error: unknown): string | undefined {
  return isJwksBridgeError(error) ? error.code : undefined
}
// @ts-expect-error HS256 is not an algorithm this verifier knows
createVerifier({ issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks', algorithms: ['HS256'] })

const testIssuer: TestIssuer = createTestIssuer({ alg: 'ES256' })
export const signed: string = testIssuer.sign({ sub: 'user-1' })
// @ts-expect-error 'none' is not a test issuer algorithm
createTestIssuer({ alg: 'none' })

// The adapters' declaration merging reaches the frameworks' own request types.
export const fromFastify = (request: FastifyRequest): Identity | null => request.identity
export const fromExpress = (req: Request): string | undefined => req.identity?.subject
export const plugin = jwksBridgeFastify
export const mounts = [devIssuerFastify, devIssuerMiddleware] as const
// @ts-expect-error the middleware needs a bridge
bridgeMiddleware()
// @ts-expect-error the development provider's mount needs a createDevIssuer() result
devIssuerMiddleware({})

// The resource server and its Express glue; req.accessToken is typed.
const api = createResourceServer({ resource: 'https://api.example', issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks', dpop: 'required' })
export const guard = requireAccessToken(api, { scopes: ['read'] })
export const scopesOf = (req: Request): readonly string[] | undefined => req.accessToken?.scopes
// @ts-expect-error dpop is 'off', 'allowed' or 'required'
createResourceServer({ resource: 'https://api.example', issuer: 'https://issuer.example', dpop: 'yes' })

// The Web-standard adapter and the Hono middleware: typed Request/Response and c.var.
// (Request here is Express's, imported above: the Web one is globalThis.Request.)
export async function viaFetch(
  bridge: Parameters<typeof handleRequest>[0],
  request: globalThis.Request,
): Promise<Response> {
  const answered: Response | null = await handleRequest(bridge, request)
  if (answered) return answered
  const auth: Authenticated | null = await authenticateRequest(bridge, request)
  return new Response(auth?.identity.subject ?? 'anonymous')
}
export function honoApp(bridge: Parameters<typeof jwksBridge>[0]): Hono<JwksBridgeEnv> {
  const app = new Hono<JwksBridgeEnv>()
  app.use(jwksBridge(bridge))
  app.get('/me', (c) => {
    const identity: Identity | null = c.var.identity
    // @ts-expect-error the identity is not a string
    const wrong: string = c.var.identity
    return c.json({ subject: identity?.subject ?? null, wrong })
  })
  return app
}
// @ts-expect-error the middleware's options are typed: no such option
jwksBridge(undefined as never, { trustProxy: true })

// The resource server in a fetch handler and in Hono: the outcome and c.var.accessToken are typed.
const readThings = fetchGuard(api, { scopes: ['read'] })
const metadata = protectedResourceMetadata(api)
export async function apiRoute(request: globalThis.Request): Promise<Response> {
  const answered: Response | null = metadata(request)
  if (answered) return answered
  const access: AccessTokenOutcome = await readThings(request)
  if (!access.ok) return access.response
  return Response.json({ sub: access.auth.payload.sub }, { headers: access.headers })
}
export const honoApi = new Hono().get('/things', honoGuard(api), (c) => {
  const scopes: readonly string[] = c.var.accessToken.scopes
  // @ts-expect-error the access token is not a string
  const wrong: string = c.var.accessToken
  return c.json({ scopes, wrong })
})
// @ts-expect-error the guard's options are typed: no such option
fetchGuard(api, { scope: ['read'] })

const source: TokenSource = functionSource(async () => undefined)
void start({ source })
// @ts-expect-error start needs a token source
void start({})

const devIssuer: DevIssuer = createDevIssuer({ issuer: 'http://127.0.0.1:4000' })
export const jwksUrl: string = devIssuer.jwksUrl
// @ts-expect-error HS256 is not a development provider algorithm
createDevIssuer({ issuer: 'http://127.0.0.1:4000', alg: 'HS256' })
`

/**
 * A browser-only project: the client entry point with the DOM library and no @types/node installed
 * (test/package/pack.test.ts checks it with TypeScript 5 and 7).
 */
export const CLIENT_ONLY_SOURCE = `
import { devIssuerSource, signOut, start, type TokenSource } from 'jwks-bridge/client'

const source: TokenSource = devIssuerSource('/dev-issuer')
void start({ source })
document.querySelector('#sign-out')?.addEventListener('click', () => void signOut({ source }))
// @ts-expect-error start needs a token source
void start({})
`
