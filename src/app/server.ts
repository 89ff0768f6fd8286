import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { jwksBridgeFastify } from '../adapters/fastify.js'
import { toBridgeRequest } from '../adapters/node-request.js'
import { type Bridge, createBridge } from '../bridge/bridge.js'
import { tokenProfile } from '../bridge/profiles.js'
import type { TokenProfile } from '../bridge/types.js'
import { createDevIssuer, type DevIssuer } from '../dev-issuer/index.js'
import type { KeySetEvent } from '../keys/events.js'
import { createRedisKeySetCache } from '../keys/redis-key-set-cache.js'
import type { VerifierOptions } from '../options.js'
import { createVerifier } from '../verifier.js'
import type { AppConfig } from './config.js'
import { freePort } from './free-port.js'
import { createLogDestination, type LogDestination } from './log-destination.js'
import {
  AccessLogController,
  bridgeLogger,
  installRequestLogging,
  type LogStream,
  loggerOptions,
  requestIdGenerator,
} from './logging.js'
import { type AppMetrics, createAppMetrics } from './metrics.js'
import { APP_CSS, APP_SCRIPT, renderHome } from './pages.js'
import { type AppStores, openAppStores } from './stores.js'

export interface RunningApp {
  url: string
  fastify: FastifyInstance
  bridge: Bridge
  stores: AppStores
  devIssuer: DevIssuer | undefined
  /** The app's metrics, undefined when they are off. */
  metrics: AppMetrics | undefined
  /**
   * Stops accepting connections, lets in-flight requests finish, then closes the verifier and the
   * stores' pools. Idempotent. Bound it yourself (`jwks-bridge serve` gives up after
   * SHUTDOWN_TIMEOUT_SECONDS).
   */
  close(): Promise<void>
}

/** What a cluster worker adds (`jwks-bridge serve --workers N`; see cluster.ts). */
export interface ClusterWorkerHooks {
  /** Makes this worker's metrics available to the primary. */
  attach(metrics: AppMetrics): Promise<void>
  /** The whole cluster's metrics, gathered by the primary. */
  metrics(): Promise<string>
}

export interface StartOptions {
  nowMs?: () => number
  /** Fastify's logger setting (pino); false in tests. */
  logger?: boolean | { level: string }
  /** Where JSON log lines go instead of stdout, batched every few milliseconds (with `logger`). */
  logStream?: LogStream
  /** Set in a cluster worker: answers carry `x-worker` (the pid) and /metrics covers every worker. */
  cluster?: ClusterWorkerHooks
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

/** Compares a presented bearer token with the configured one in constant time (hashes: equal lengths). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer +([^\s]+)\s*$/i.exec(header ?? '')
  if (match === null) return false
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(match[1] as string), digest(token))
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
        // DANGEROUSLY_EXPOSE_DEV_ISSUER: createDevIssuer then skips its loopback check and warns.
        dangerouslyAllowNonLoopbackIssuer: config.devIssuerExposed === true,
      })
    : undefined
  const issuer = devIssuer?.issuer ?? (config.issuer?.url as string)
  const jwksUri = devIssuer?.jwksUrl ?? config.issuer?.jwksUri
  const metrics = await createAppMetrics(config.metrics ?? 'auto')
  const stores = await openAppStores(config)
  let fastify: FastifyInstance | undefined
  const level = options.logger === true ? 'info' : options.logger ? options.logger.level : undefined
  const destination: LogDestination | undefined =
    level !== undefined && options.logStream === undefined ? createLogDestination() : undefined
  const logStream = options.logStream ?? destination
  try {
    fastify = Fastify({
      logger: level === undefined || logStream === undefined ? false : loggerOptions(level, logStream),
      // One access line per request, and none of Fastify's lines that quote a URL or an error message.
      ...(level === undefined || logStream === undefined
        ? {}
        : { logController: new AccessLogController(logStream) }),
      trustProxy: config.trustProxy,
      genReqId: requestIdGenerator(config.trustProxy),
      // The id comes from genReqId alone, which accepts a proxy's X-Request-Id only with TRUST_PROXY.
      requestIdHeader: false,
    })
    const log = fastify.log
    const onKeySetEvent = (event: KeySetEvent) => {
      metrics?.onKeySetEvent(event)
      logKeySetEvent(log, event)
    }
    // A key set fetched by one instance serves the others (Redis), unless it is the dev provider's,
    // which lives and dies with this process.
    const keySetCache =
      stores.redis === undefined || devIssuer !== undefined
        ? undefined
        : createRedisKeySetCache({
            client: stores.redis,
            prefix: `${config.redisPrefix ?? 'jwks-bridge:'}jwks:`,
            onError: (error) =>
              log.warn(
                { event: 'keyset.shared-cache-failed', code: (error as { code?: unknown }).code },
                'key set cache (Redis) failed',
              ),
          })
    const verifierOptions: VerifierOptions = {
      issuer,
      ...(jwksUri === undefined ? {} : { jwksUri }),
      algorithms: devIssuer === undefined ? config.algorithms : [devIssuer.alg],
      ...(config.audience === undefined ? {} : { audience: config.audience }),
      ...(keySetCache === undefined ? {} : { keySetCache }),
      onEvent: onKeySetEvent,
      nowMs,
      // Sign-in tokens are single use: a cached result could only serve a refused replay.
      tokenCache: false,
      // Inline, not signatureThreadPool: measured with bench:http, the thread pool's hand-off
      // spreads sign-ins over more turns of the event loop, so fewer share a commit (1.70x the
      // baseline instead of 2.02x), though it does better on bad signatures (2.75x instead of 1.75x).
    }
    const verifier = createVerifier(verifierOptions)
    metrics?.trackKeySets(verifier)
    // Logs and metrics are two subscribers of the bridge's events: the logger its records, metrics
    // every event (refusals of every route, verifications, validations, sessions).
    const bridge = createBridge({
      verifier,
      identities: stores.identities,
      sessions: stores.sessions,
      profile: profileFor(config),
      csrf: true,
      trustProxy: config.trustProxy,
      nowMs,
      logger: bridgeLogger(log),
      ...(metrics === undefined ? {} : { onEvent: metrics.onBridgeEvent }),
    })
    const bundle = await clientBundle()
    installRequestLogging(fastify)
    if (options.cluster !== undefined && metrics !== undefined) await options.cluster.attach(metrics)
    if (options.cluster !== undefined) {
      fastify.addHook('onRequest', async (_request, reply) => {
        reply.header('x-worker', String(process.pid))
      })
    }
    if (metrics !== undefined) observeBridgeRoutes(fastify, bridge, metrics)
    await fastify.register(jwksBridgeFastify, { bridge })
    routes(fastify, { bridge, devIssuer, issuer, bundle, stores, metrics, config, cluster: options.cluster })
    await fastify.listen({ port, host: config.host })
    // Load the key set now rather than on the first sign-in; a failure is logged and retried then.
    verifier.ready().catch(() => {})
    const app = fastify
    let closing: Promise<void> | undefined
    return {
      url: publicUrl,
      fastify: app,
      bridge,
      stores,
      devIssuer,
      metrics,
      close() {
        closing ??= (async () => {
          // Fastify stops accepting, answers 503 to new requests on open connections, closes idle
          // keep-alive connections and waits for in-flight requests to finish. A connection whose
          // request finishes later turns idle and would stay open until its keep-alive timeout: it is
          // closed as soon as it is idle.
          const sweep = setInterval(() => app.server.closeIdleConnections(), 50)
          try {
            await app.close()
          } finally {
            clearInterval(sweep)
            bridge.close()
            verifier.close()
            await stores.close()
            // The last lines (the requests that finished during the shutdown) reach stdout now.
            destination?.close()
          }
        })()
        return closing
      },
    }
  } catch (error) {
    await fastify?.close()
    await stores.close()
    destination?.close()
    throw error
  }
}

function logKeySetEvent(log: FastifyInstance['log'], event: KeySetEvent): void {
  const { type, ...fields } = event
  const record = { event: `keyset.${type}`, ...fields }
  if (type === 'fetch-failed' || type === 'stale-served' || type === 'key-rejected')
    log.warn(record, 'key set problem')
  else if (type === 'keys-changed' || type === 'discovered') log.info(record, 'key set changed')
  else log.debug(record, 'key set event')
}

function observeBridgeRoutes(fastify: FastifyInstance, bridge: Bridge, metrics: AppMetrics): void {
  const { authPath } = bridge.routes
  fastify.addHook('onResponse', (request, reply, done) => {
    const query = request.url.indexOf('?')
    const path = query === -1 ? request.url : request.url.slice(0, query)
    if (path === authPath && bridge.isRoute(request.method, path)) {
      const route = request.method === 'DELETE' ? 'sign-out' : 'handoff'
      metrics.observeBridgeRoute(route, reply.statusCode, reply.elapsedTime / 1000)
    }
    done()
  })
}

interface RouteDeps {
  bridge: Bridge
  devIssuer: DevIssuer | undefined
  issuer: string
  bundle: string
  stores: AppStores
  metrics: AppMetrics | undefined
  config: AppConfig
  cluster: ClusterWorkerHooks | undefined
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

  // Routes that never look at the identity: no session lookup for them.
  const anonymous = { config: { jwksBridge: { authenticate: false } } }
  const asset = (type: string, body: string) => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' }).type(type).send(body)
  fastify.get(
    '/assets/jwks-bridge-client.min.js',
    anonymous,
    asset('text/javascript; charset=utf-8', deps.bundle),
  )
  fastify.get('/assets/app.js', anonymous, asset('text/javascript; charset=utf-8', APP_SCRIPT))
  fastify.get('/assets/app.css', anonymous, asset('text/css; charset=utf-8', APP_CSS))

  // Browsers ask for it on every first visit; an empty answer keeps their consoles free of 404s.
  fastify.get('/favicon.ico', anonymous, async (_request, reply) =>
    reply.code(204).header('cache-control', 'max-age=86400').send(),
  )
  // Probes and scrapes come every few seconds: logged only when something goes wrong.
  const quiet = { logLevel: 'warn' as const, ...anonymous }
  // Alive: the process answers. The pid tells workers apart (`serve --workers N`).
  fastify.get('/healthz', quiet, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok', pid: process.pid }
  })
  // Ready: every store's server answers; which one does not is named (never why).
  fastify.get('/readyz', quiet, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    const checks = await deps.stores.check()
    const failed = Object.keys(checks).filter((name) => checks[name] !== 'ok')
    if (failed.length === 0) return { status: 'ready', checks }
    return reply.code(503).send({ status: 'unavailable', failed, checks })
  })
  const { metrics } = deps
  if (metrics !== undefined) {
    const token = deps.config.metricsToken
    fastify.get('/metrics', quiet, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send({ error: { code: 'ERR_UNAUTHENTICATED', message: 'metrics need the bearer token' } })
      }
      let text: string
      try {
        text = deps.cluster === undefined ? await metrics.render() : await deps.cluster.metrics()
      } catch {
        // A worker gathering the cluster's metrics through the primary may find one still starting.
        return reply.code(503).send({
          error: { code: 'ERR_METRICS_UNAVAILABLE', message: 'metrics could not be gathered; retry' },
        })
      }
      return reply.type(metrics.contentType).send(text)
    })
  }

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
