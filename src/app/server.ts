import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { jwksBridgeFastify } from '../adapters/fastify.js'
import { devIssuerFastify } from '../adapters/fastify-dev-issuer.js'
import { requireAccessToken } from '../adapters/fastify-resource.js'
import { toBridgeRequest } from '../adapters/node-request.js'
import { credentialHeaders } from '../adapters/resource-request.js'
import { type Bridge, createBridge } from '../bridge/bridge.js'
import { tokenProfile } from '../bridge/profiles.js'
import type { BridgeRequest, TokenProfile } from '../bridge/types.js'
import { createDevIssuer, type DevIssuer } from '../dev-issuer/index.js'
import type { KeySetEvent } from '../keys/events.js'
import { createRedisKeySetCache } from '../keys/redis-key-set-cache.js'
import { isLoopbackHost } from '../lib/loopback.js'
import { createResourceServer, type ResourceServer } from '../resource-server/resource-server.js'
import { type CleanupScheduler, startCleanup } from '../stores/cleanup.js'
import type { VerifierOptions } from '../verifier/options.js'
import { createVerifier } from '../verifier/verifier.js'
import { type AppConfig, SIGN_IN_PATH } from './config.js'
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
import { installProxy } from './proxy.js'
import { renderSignInPage, returnPath } from './sign-in-page.js'
import { type AppStores, openAppStores } from './stores.js'
import { checkHeaderNames, isTokenCheck, type TokenCheckDeps, tokenCheck } from './token-check.js'

export interface RunningApp {
  url: string
  fastify: FastifyInstance
  bridge: Bridge
  stores: AppStores
  devIssuer: DevIssuer | undefined
  /** The app's metrics, undefined when they are off. */
  metrics: AppMetrics | undefined
  /** The cleanup of expired sessions and replay records; undefined with CLEANUP_INTERVAL_SECONDS=0. */
  cleanup: CleanupScheduler | undefined
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

// The bridge's idle timeout, given to the cleanup too, so that both agree on what is idle.
const IDLE_TIMEOUT_SECONDS = 86_400

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
  let cleanup: CleanupScheduler | undefined
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
    for (const warning of stores.warnings) log.warn({ event: 'stores.warning' }, warning)
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
      // ECDSA and EdDSA signatures on libuv's pool while it has room, RSA inline. With bench:http
      // (ES256 sign-ins, 10 and 64 connections, four A/B runs on a busy 2-core machine) the event
      // loop spent 121-177 µs per sign-in instead of 180-224 µs inline, for up to 16% more CPU in
      // all; requests/s went 0.72-1.31x inline, as noisy as the machine. RSA (about 20 µs) stays
      // inline: with every signature on the pool, RS256 sign-ins spread over more turns of the
      // event loop and fewer shared a commit (1.70x the baseline instead of 2.02x).
      signatureThreadPool: 'auto',
    }
    const verifier = createVerifier(verifierOptions)
    metrics?.trackKeySets(verifier)
    // Logs and metrics are two subscribers of the bridge's events: the logger its records, metrics
    // every event (refusals of every route, verifications, validations, sessions).
    const core = createBridge({
      verifier,
      identities: stores.identities,
      sessions: stores.sessions,
      profile: profileFor(config),
      csrf: true,
      idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
      trustProxy: config.trustProxy,
      nowMs,
      logger: bridgeLogger(log),
      ...(metrics === undefined ? {} : { onEvent: metrics.onBridgeEvent }),
      ...(config.forwardAuth === undefined ? {} : { forwardAuth: config.forwardAuth }),
    })
    const bridge = servedAt(core, publicUrl)
    // The API (API_RESOURCE): the same issuer's access tokens, proofs single use in the app's store.
    const api =
      config.api === undefined
        ? undefined
        : createResourceServer({
            resource: config.api.resource,
            issuer,
            ...(jwksUri === undefined ? {} : { jwksUri }),
            algorithms: verifierOptions.algorithms as NonNullable<VerifierOptions['algorithms']>,
            dpop: config.api.dpop,
            scopes: config.api.scopes,
            accessTokenProfile: config.api.profile,
            replayStore: stores.sessions,
            ...(keySetCache === undefined ? {} : { keySetCache }),
            onEvent: onKeySetEvent,
            nowMs,
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
    // Before the bridge's plugin: with API_RESOURCE, a check with an access token is the resource server's.
    if (api !== undefined) tokenCheckHook(fastify, { bridge, api, config, publicUrl })
    await fastify.register(jwksBridgeFastify, { bridge })
    routes(fastify, { bridge, devIssuer, issuer, bundle, stores, metrics, config, cluster: options.cluster })
    if (api !== undefined) apiRoutes(fastify, api, publicUrl)
    if (config.proxy !== undefined) {
      await installProxy(fastify, {
        bridge,
        proxy: config.proxy,
        trustProxy: config.trustProxy,
        signInPath: SIGN_IN_PATH,
        authenticationUrl: bridge.routes.authPath,
        onOutcome: metrics === undefined ? undefined : (outcome) => metrics.observeProxy(outcome),
      })
    }
    await fastify.listen({ port, host: config.host })
    // Without it, every sign-in's replay record and every abandoned session stay forever: anyone who
    // can obtain tokens could grow the database without bound (SECURITY.md, storage growth).
    const cleanupInterval = config.cleanupIntervalSeconds ?? 300
    if (cleanupInterval > 0) {
      cleanup = startCleanup(stores.sessions, {
        idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
        intervalSeconds: cleanupInterval,
        nowMs,
        onTick: (result) => {
          metrics?.onCleanupTick(result)
          const { ran, sessions: ended, usedTokens, batches, complete } = result
          if (ran && (ended > 0 || usedTokens > 0 || !complete)) {
            log.info({ event: 'cleanup', sessions: ended, usedTokens, batches, complete }, 'stores cleaned')
          }
        },
        onError: (error) =>
          log.warn({ event: 'cleanup.failed', code: (error as { code?: unknown })?.code }, 'cleanup failed'),
      })
    }
    // Load the key set now rather than on the first sign-in; a failure is logged and retried then.
    verifier.ready().catch(() => {})
    api?.ready().catch(() => {})
    const app = fastify
    let closing: Promise<void> | undefined
    const scheduler = cleanup
    return {
      url: publicUrl,
      fastify: app,
      bridge,
      stores,
      cleanup: scheduler,
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
            await scheduler?.stop()
            api?.close()
            await stores.close()
            // The last lines (the requests that finished during the shutdown) reach stdout now.
            destination?.close()
          }
        })()
        return closing
      },
    }
  } catch (error) {
    await cleanup?.stop()
    await fastify?.close()
    await stores.close()
    destination?.close()
    throw error
  }
}

/**
 * PUBLIC_URL says where browsers reach the app. When it is not a loopback URL the browsers are on
 * other machines, and a connection from this one is a local proxy (e.g. nginx's `proxy_pass
 * http://localhost:3000`, which also sends `Host: localhost`), not a browser: such a request gets no
 * plain-http exemption (request-guard.ts checkTransport).
 */
export function servedAt(bridge: Bridge, publicUrl: string): Bridge {
  if (isLoopbackHost(new URL(publicUrl).hostname)) return bridge
  const remote = (req: BridgeRequest): BridgeRequest => (req.loopback ? { ...req, loopback: false } : req)
  return {
    ...bridge,
    handle: (req) => bridge.handle(remote(req)),
    csrfTokenFor: (req) => bridge.csrfTokenFor(remote(req)),
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
  const { authPath, checkPath } = bridge.routes
  fastify.addHook('onResponse', (request, reply, done) => {
    const query = request.url.indexOf('?')
    const path = query === -1 ? request.url : request.url.slice(0, query)
    if (path === checkPath) {
      metrics.observeForwardAuthCheck(reply.statusCode, reply.elapsedTime / 1000)
    } else if (path === authPath && bridge.isRoute(request.method, path)) {
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
  const { devIssuer } = deps
  signInRoutes(fastify, deps)
  // Reverse-proxy mode: the upstream answers /, /me and its own assets.
  if (deps.config.proxy === undefined) pageRoutes(fastify, deps)
  opsRoutes(fastify, deps)
  // `/dev-issuer/*` to the development provider, through the plugin the package ships for apps.
  if (devIssuer !== undefined) fastify.register(devIssuerFastify, { devIssuer })
}

/**
 * `GET /auth/sign-in`: the page where browsers without a session sign in (forward auth, the proxy),
 * with its starter script and style under the authentication URL, where no upstream path collides.
 */
function signInRoutes(fastify: FastifyInstance, deps: RouteDeps): void {
  const { bridge, devIssuer } = deps
  const base = bridge.routes.authPath.replace(/\/+$/, '')
  fastify.get(SIGN_IN_PATH, async (request, reply) => {
    reply.headers(PAGE_HEADERS)
    const back = returnPath(request.query, SIGN_IN_PATH)
    if (request.identity !== null) return reply.code(303).header('location', back).send()
    const csrf = bridge.csrfTokenFor(toBridgeRequest(request.raw, request.url))
    if (csrf.cookies.length > 0) reply.header('set-cookie', csrf.cookies)
    const here = back === '/' ? SIGN_IN_PATH : `${SIGN_IN_PATH}?${new URLSearchParams({ return_to: back })}`
    const html = renderSignInPage({
      csrfToken: csrf.token,
      authenticationUrl: bridge.routes.authPath,
      devIssuerPath: devIssuer?.basePath,
      signInUrl: devIssuer?.signInUrlFor(here),
      assetsBase: base,
    })
    return reply.type('text/html; charset=utf-8').send(html)
  })
  const anonymous = { config: { jwksBridge: { authenticate: false } } }
  const asset = (type: string, body: string) => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' }).type(type).send(body)
  fastify.get(`${base}/app.js`, anonymous, asset('text/javascript; charset=utf-8', APP_SCRIPT))
  fastify.get(`${base}/app.css`, anonymous, asset('text/css; charset=utf-8', APP_CSS))
  // The browser script is the bridge's in every mode: upstream pages load it from here too.
  fastify.get(
    '/assets/jwks-bridge-client.min.js',
    anonymous,
    asset('text/javascript; charset=utf-8', deps.bundle),
  )
}

function pageRoutes(fastify: FastifyInstance, deps: RouteDeps): void {
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
  fastify.get('/assets/app.js', anonymous, asset('text/javascript; charset=utf-8', APP_SCRIPT))
  fastify.get('/assets/app.css', anonymous, asset('text/css; charset=utf-8', APP_CSS))

  // Browsers ask for it on every first visit; an empty answer keeps their consoles free of 404s.
  fastify.get('/favicon.ico', anonymous, async (_request, reply) =>
    reply.code(204).header('cache-control', 'max-age=86400').send(),
  )
}

/** /healthz, /readyz and /metrics: the app's own in every mode. */
function opsRoutes(fastify: FastifyInstance, deps: RouteDeps): void {
  const anonymous = { config: { jwksBridge: { authenticate: false } } }
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
}

/**
 * `GET /api/me` for access tokens (Bearer or DPoP) and the RFC 9728 metadata. No session lookup:
 * an API request proves itself with its token alone.
 */
function apiRoutes(fastify: FastifyInstance, api: ResourceServer, publicUrl: string): void {
  const anonymous = { config: { jwksBridge: { authenticate: false } } }
  fastify.get(api.metadataPath, anonymous, async (_request, reply) =>
    reply
      .headers({ 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' })
      .send(api.metadata()),
  )
  // The URL clients address is the app's public one (DPoP `htu`), whatever the resource identifier.
  const preHandler = requireAccessToken(api, { origin: publicUrl })
  fastify.get('/api/me', { ...anonymous, preHandler }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const auth = request.accessToken
    return {
      subject: auth?.payload.sub,
      issuer: auth?.payload.iss,
      clientId: auth?.payload.client_id,
      scopes: auth?.scopes,
      scheme: auth?.scheme,
      ...(auth?.jkt === undefined ? {} : { jkt: auth.jkt }),
    }
  })
}

/**
 * `GET /auth/check` with `Authorization` (API_RESOURCE): answered from the access token (token-check.ts);
 * without the header the request goes on to the bridge's session check, untouched.
 */
function tokenCheckHook(
  fastify: FastifyInstance,
  deps: { bridge: Bridge; api: ResourceServer; config: AppConfig; publicUrl: string },
): void {
  const { checkPath } = deps.bridge.routes
  const check: TokenCheckDeps = {
    api: deps.api,
    names: checkHeaderNames(deps.config.forwardAuth),
    trustProxy: deps.config.trustProxy,
    origin: new URL(deps.publicUrl).origin,
  }
  fastify.addHook('onRequest', async (request, reply) => {
    if (!isTokenCheck(request.method, request.url, checkPath, request.headers.authorization)) return
    // Each line apart, read in one pass (headersDistinct would build an object for every header).
    const answer = await tokenCheck(
      check,
      toBridgeRequest(request.raw, request.url),
      credentialHeaders(request.raw.rawHeaders),
    )
    return reply.code(answer.status).headers(answer.headers).send()
  })
}
