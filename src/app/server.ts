import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { jwksBridgeFastify } from '../adapters/fastify.js'
import { toBridgeRequest } from '../adapters/node-request.js'
import { type Bridge, createBridge } from '../bridge/bridge.js'
import { tokenProfile } from '../bridge/profiles.js'
import type { TokenProfile } from '../bridge/types.js'
import { createDevIssuer, type DevIssuer } from '../dev-issuer/index.js'
import { createVerifier } from '../verifier.js'
import type { AppConfig } from './config.js'
import { APP_CSS, APP_SCRIPT, renderHome } from './pages.js'
import { type AppStores, openAppStores } from './stores.js'

export interface RunningApp {
  url: string
  fastify: FastifyInstance
  bridge: Bridge
  stores: AppStores
  devIssuer: DevIssuer | undefined
  close(): Promise<void>
}

export interface StartOptions {
  nowMs?: () => number
  /** Fastify's logger setting (pino); false in tests. */
  logger?: boolean | { level: string }
}

// Pages carry no inline script or style: everything comes from this origin.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  vary: 'Cookie',
}

/** A free loopback port, for PORT=0: the development provider's issuer URL must name the port. */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, host, () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

function profileFor(config: AppConfig): TokenProfile {
  if (config.profile === 'oidc-id-token')
    return tokenProfile('oidc-id-token', { audience: config.audience as string })
  if (config.profile === 'supertokens') return tokenProfile('supertokens')
  return tokenProfile('generic', config.audience === undefined ? {} : { audience: config.audience })
}

async function clientBundle(): Promise<string> {
  // The package resolves itself by name (Node's self-reference), so this works from src/ and dist/.
  const path = createRequire(import.meta.url).resolve('jwks-bridge/client/jwks-bridge-client.min.js')
  return readFile(path, 'utf8')
}

/**
 * Starts the reference app: the bridge (Fastify adapter), the home page, `GET /me`, the browser
 * script, and, without ISSUER_URL, the development identity provider under `/dev-issuer`.
 */
export async function startApp(config: AppConfig, options: StartOptions = {}): Promise<RunningApp> {
  const port = config.port === 0 ? await freePort(config.host) : config.port
  const publicUrl = config.port === 0 ? config.publicUrl.replace(/:0$/, `:${port}`) : config.publicUrl
  const nowMs = options.nowMs ?? Date.now
  const devIssuer = config.devIssuer
    ? createDevIssuer({
        issuer: `${publicUrl}/dev-issuer`,
        profile: config.profile === 'supertokens' ? 'supertokens' : 'generic',
        alg:
          config.algorithms[0] === 'ES256' || config.algorithms[0] === 'EdDSA'
            ? config.algorithms[0]
            : 'RS256',
        ...(config.audience === undefined ? {} : { audience: config.audience }),
        nowMs,
      })
    : undefined
  const issuer = devIssuer?.issuer ?? (config.issuer?.url as string)
  const jwksUri = devIssuer?.jwksUrl ?? config.issuer?.jwksUri
  const stores = await openAppStores(config)
  let fastify: FastifyInstance | undefined
  try {
    const verifier = createVerifier({
      issuer,
      ...(jwksUri === undefined ? {} : { jwksUri }),
      algorithms: devIssuer === undefined ? config.algorithms : [devIssuer.alg],
      ...(config.audience === undefined ? {} : { audience: config.audience }),
      nowMs,
    })
    const bridge = createBridge({
      verifier,
      identities: stores.identities,
      sessions: stores.sessions,
      profile: profileFor(config),
      csrf: true,
      trustProxy: config.trustProxy,
      nowMs,
    })
    const bundle = await clientBundle()
    fastify = Fastify({ logger: options.logger ?? false, trustProxy: config.trustProxy })
    await fastify.register(jwksBridgeFastify, { bridge })
    routes(fastify, { bridge, devIssuer, issuer, bundle, stores })
    await fastify.listen({ port, host: config.host })
    const app = fastify
    return {
      url: publicUrl,
      fastify: app,
      bridge,
      stores,
      devIssuer,
      async close() {
        await app.close()
        verifier.close()
        await stores.close()
      },
    }
  } catch (error) {
    await fastify?.close()
    await stores.close()
    throw error
  }
}

interface RouteDeps {
  bridge: Bridge
  devIssuer: DevIssuer | undefined
  issuer: string
  bundle: string
  stores: AppStores
}

function routes(fastify: FastifyInstance, deps: RouteDeps): void {
  const { bridge, devIssuer } = deps

  fastify.get('/', async (request, reply) => {
    const csrf = bridge.csrfTokenFor(toBridgeRequest(request.raw, request.url))
    if (csrf.cookies.length > 0) reply.header('set-cookie', csrf.cookies)
    const html = renderHome({
      identity: request.identity,
      csrfToken: csrf.token,
      authenticationUrl: '/auth',
      devIssuerPath: devIssuer?.basePath,
      signInUrl: devIssuer?.signInUrlFor('/'),
      issuer: deps.issuer,
    })
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html)
  })

  fastify.get('/me', async (request, reply) => {
    reply.header('cache-control', 'no-store').header('vary', 'Cookie')
    const identity = request.identity
    if (identity === null) {
      return reply.code(401).send({ error: { code: 'ERR_UNAUTHENTICATED', message: 'not signed in' } })
    }
    return {
      id: identity.id,
      issuer: identity.issuer,
      subject: identity.subject,
      claims: identity.claims,
      createdAt: new Date(identity.createdAtMs).toISOString(),
      lastSignInAt: new Date(identity.lastSignInAtMs).toISOString(),
    }
  })

  const asset = (type: string, body: string) => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' }).type(type).send(body)
  fastify.get('/assets/jwks-bridge-client.min.js', asset('text/javascript; charset=utf-8', deps.bundle))
  fastify.get('/assets/app.js', asset('text/javascript; charset=utf-8', APP_SCRIPT))
  fastify.get('/assets/app.css', asset('text/css; charset=utf-8', APP_CSS))

  // Browsers ask for it on every first visit; an empty answer keeps their consoles free of 404s.
  fastify.get('/favicon.ico', async (_request, reply) =>
    reply.code(204).header('cache-control', 'max-age=86400').send(),
  )
  fastify.get('/healthz', async () => ({ status: 'ok' }))
  fastify.get('/readyz', async (_request, reply) => {
    try {
      await deps.stores.ping()
      return { status: 'ready' }
    } catch {
      return reply.code(503).send({ status: 'unavailable' })
    }
  })

  if (devIssuer !== undefined) mountDevIssuer(fastify, devIssuer)
}

/** Routes `/dev-issuer/*` to the development provider's plain-data core, with raw bodies. */
function mountDevIssuer(fastify: FastifyInstance, devIssuer: DevIssuer): void {
  fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_request, body, done) =>
      done(null, body),
    )
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = await devIssuer.handle({
        method: request.method,
        path: request.url,
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
      })
      return reply.code(answer.status).headers(answer.headers).send(answer.body)
    }
    scope.all(devIssuer.basePath, handler)
    scope.all(`${devIssuer.basePath}/*`, handler)
  })
}
