// Runs inside a scratch project that installed the packed tarball, as a user's code would: it
// imports every documented entry point by its public name and uses the main ones for real. It prints
// one JSON object of facts (names, booleans, error codes; never a token or a key) for
// test/package/pack.test.ts to compare, so a failure shows which fact changed.
import { generateKeyPairSync, sign } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createContext, runInContext } from 'node:vm'
import * as main from 'jwks-bridge'
import * as client from 'jwks-bridge/client'
import * as devIssuer from 'jwks-bridge/dev-issuer'
import * as express from 'jwks-bridge/express'
import * as fastify from 'jwks-bridge/fastify'
import * as fetchAdapter from 'jwks-bridge/fetch'
import * as hono from 'jwks-bridge/hono'
import * as testing from 'jwks-bridge/testing'

const require = createRequire(import.meta.url)
const facts = {}

/** The names among `names` that `module` exports as functions, to compare with the full list. */
const functions = (module, names) => names.filter((name) => typeof module[name] === 'function')

facts.functions = {
  'jwks-bridge': functions(main, [
    'createVerifier',
    'createBridge',
    'createMemoryStores',
    'createSqliteStores',
    'createPostgresStores',
    'createRedisStores',
    'importKeySet',
    'isJwksBridgeError',
    'JwksBridgeError',
    'createResourceServer',
  ]),
  'jwks-bridge/testing': functions(testing, [
    'createTestIssuer',
    'enableTestSignIn',
    'describeAdapterConformance',
  ]),
  'jwks-bridge/fastify': functions(fastify, [
    'jwksBridgeFastify',
    'requireAccessToken',
    'protectedResourceMetadata',
    'devIssuerFastify',
  ]),
  'jwks-bridge/express': functions(express, [
    'bridgeMiddleware',
    'requireAccessToken',
    'protectedResourceMetadata',
    'devIssuerMiddleware',
  ]),
  'jwks-bridge/fetch': functions(fetchAdapter, [
    'handleRequest',
    'authenticateRequest',
    'createFetchAdapter',
    'errorToResponse',
    'devIssuerHandler',
    'requireAccessToken',
    'protectedResourceMetadata',
  ]),
  'jwks-bridge/hono': functions(hono, ['jwksBridge', 'requireAccessToken', 'protectedResourceMetadata']),
  'jwks-bridge/client': functions(client, [
    'start',
    'signOut',
    'devIssuerSource',
    'superTokensSource',
    'functionSource',
    'looksLikeJwt',
  ]),
  'jwks-bridge/dev-issuer': functions(devIssuer, ['createDevIssuer', 'startDevIssuer']),
}

// The Fastify plugin is used without fastify-plugin: the symbol makes its decorations app-wide.
facts.fastifySkipOverride = fastify.jwksBridgeFastify[Symbol.for('skip-override')] === true

// A token minted here with node:crypto alone, verified by the installed package.
const issuer = 'https://issuer.package-test.example'
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'package-key', alg: 'RS256', use: 'sig' }
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const nowSeconds = Math.floor(Date.now() / 1000)
const signingInput = `${part({ alg: 'RS256', kid: 'package-key', typ: 'JWT' })}.${part({
  iss: issuer,
  sub: 'package-user',
  iat: nowSeconds,
  exp: nowSeconds + 300,
})}`
const token = `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`
const verifier = main.createVerifier({ issuer, jwks: { keys: [jwk] } })
const verified = await verifier.verify(token)
facts.verifiedSubject = verified.payload.sub
facts.verifiedAlg = verified.header.alg

// The same token with another subject and the old signature: the verifier must refuse it.
const forged = `${part({ alg: 'RS256', kid: 'package-key', typ: 'JWT' })}.${part({
  iss: issuer,
  sub: 'someone-else',
  iat: nowSeconds,
  exp: nowSeconds + 300,
})}.${token.split('.')[2]}`
facts.forgedRejectedWith = await verifier.verify(forged).then(
  () => 'accepted',
  (error) => (main.isJwksBridgeError(error) ? error.code : `not a JwksBridgeError: ${error?.name}`),
)
verifier.close()

// jwks-bridge/testing signs, jwks-bridge verifies: the two entry points agree.
const testIssuer = testing.createTestIssuer({ subject: 'tested-user' })
const testVerifier = main.createVerifier({
  issuer: testIssuer.issuer,
  jwks: testIssuer.jwks,
  algorithms: [testIssuer.alg],
})
facts.testIssuerSubject = (await testVerifier.verify(testIssuer.sign())).payload.sub
testVerifier.close()

// The development provider answers its discovery document without a server.
const dev = devIssuer.createDevIssuer({ issuer: 'http://127.0.0.1:4000', env: {} })
const discovery = await dev.handle({ method: 'GET', path: '/.well-known/openid-configuration' })
facts.devIssuerDiscovery = { status: discovery.status, issuer: JSON.parse(discovery.body).issuer }

facts.looksLikeJwt = client.looksLikeJwt('a.b.c')

// The Web-standard adapter on plain Request objects: another path is the app's, the bridge's route is
// answered (here refused for its media type, after the CSRF check and before any verification).
const memory = main.createMemoryStores()
const fetchBridge = main.createBridge({
  verifier: { issuer, jwks: { keys: [jwk] } },
  identities: memory.identities,
  sessions: memory.sessions,
})
// The page's CSRF token (csrf is on by default), as an app renders it, sent back with the PUT.
const csrf = fetchBridge.csrfTokenFor(fetchAdapter.toBridgeRequest(new Request('https://app.example/')))
facts.fetchAdapter = {
  other: await fetchAdapter.handleRequest(fetchBridge, new Request('https://app.example/elsewhere')),
  route: (
    await fetchAdapter.handleRequest(
      fetchBridge,
      new Request('https://app.example/auth', {
        method: 'PUT',
        headers: {
          'content-type': 'text/plain',
          cookie: (csrf.cookies[0] ?? '').split(';')[0],
          'x-csrf-token': csrf.token,
        },
        body: 'x',
      }),
    )
  )?.status,
}
fetchBridge.close()

// The classic script: resolvable both ways the README shows, and it defines JwksBridge when run.
const minUrl = import.meta.resolve('jwks-bridge/client/jwks-bridge-client.min.js')
const minPath = require.resolve('jwks-bridge/client/jwks-bridge-client.min.js')
facts.minScript = {
  sameFile: fileURLToPath(minUrl) === minPath,
  exists: existsSync(minPath),
  inPackage: minPath.includes('/node_modules/jwks-bridge/dist/client/'),
}
const browserLike = createContext({})
runInContext(readFileSync(minPath, 'utf8'), browserLike)
facts.minScriptGlobal = functions(browserLike.JwksBridge ?? {}, ['start', 'signOut', 'superTokensSource'])

facts.packageJsonVersion = require('jwks-bridge/package.json').version

// Files outside "exports" stay private: a deep import fails instead of binding to internals.
facts.deepImport = await import('jwks-bridge/dist/verifier/verifier.js').then(
  () => 'imported',
  (error) => error.code,
)

process.stdout.write(`${JSON.stringify(facts)}\n`)
