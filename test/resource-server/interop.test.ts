// Interop: a real OpenID provider (oidc-provider, with resource indicators, JWT access tokens and
// DPoP) issues DPoP-bound access tokens to a real client (oauth4webapi, which builds the DPoP
// proofs), and the API (Express + requireAccessToken) accepts them and refuses every misuse.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import * as oauth from 'oauth4webapi'
import Provider from 'oidc-provider'
import { protectedResourceMetadata, requireAccessToken } from '../../src/adapters/express.ts'
import { freePort } from '../../src/app/free-port.ts'
import { createResourceServer, type ResourceServer } from '../../src/resource-server/resource-server.ts'
import { makeKey } from '../helpers/tokens.ts'

const HOST = '127.0.0.1'
const insecure = { [oauth.allowInsecureRequests]: true }
const CLIENT_SECRET = randomBytes(24).toString('base64url')

interface World {
  issuer: string
  api: ResourceServer
  apiBase: string
  resource: string
  otherResource: string
  as: oauth.AuthorizationServer
  client: oauth.Client
  webClient: oauth.Client
  close(): Promise<void>
}

function privateJwk(alg: 'ES256' | 'RS256', kid: string): Record<string, unknown> {
  const key = makeKey(alg, kid)
  return { ...key.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }
}

async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve))
}

async function startWorld(): Promise<World> {
  const [opPort, apiPort] = [await freePort(HOST), await freePort(HOST)]
  const issuer = `http://${HOST}:${opPort}`
  const apiBase = `http://${HOST}:${apiPort}`
  const resource = `${apiBase}/`
  const otherResource = 'https://other-api.example.com/'
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'machine',
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
      {
        client_id: 'web',
        client_secret: CLIENT_SECRET,
        grant_types: ['authorization_code'],
        redirect_uris: [`${apiBase}/callback`],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [privateJwk('RS256', 'op-rsa'), privateJwk('ES256', 'op-ec')] },
    scopes: ['openid', 'read', 'write'],
    features: {
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        // RFC 9068 JWT access tokens, audience = the resource indicator the client asked for (RFC 8707).
        getResourceServerInfo: (_ctx: unknown, indicator: string) => ({
          scope: 'read write',
          audience: indicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    pkce: { required: () => false },
  })
  const opServer = (await import('node:http')).createServer(provider.callback())
  await listen(opServer, opPort)

  const api = createResourceServer({
    resource,
    issuer,
    jwksUri: `${issuer}/jwks`,
    algorithms: ['ES256', 'RS256'],
    scopes: ['read'],
  })
  const app = express()
  app.use(protectedResourceMetadata(api))
  const who = (req: express.Request, res: express.Response) => {
    res.json({
      sub: req.accessToken?.payload.sub,
      scopes: req.accessToken?.scopes,
      scheme: req.accessToken?.scheme,
    })
  }
  app.get('/api/me', requireAccessToken(api), who)
  app.post('/api/me', requireAccessToken(api), who)
  app.get('/api/other', requireAccessToken(api), who)
  app.get('/api/write', requireAccessToken(api, { scopes: ['write'] }), who)
  const apiServer = app.listen(apiPort, HOST)
  await new Promise<void>((resolve) => apiServer.once('listening', resolve))

  const as = await oauth.processDiscoveryResponse(
    new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), insecure),
  )
  return {
    issuer,
    api,
    apiBase,
    resource,
    otherResource,
    as,
    client: { client_id: 'machine' },
    webClient: { client_id: 'web' },
    async close() {
      api.close()
      for (const server of [apiServer, opServer]) {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    },
  }
}

/** A DPoP-bound access token for `resource` with `scope`, from the client credentials grant. */
async function dpopToken(world: World, scope: string, resource = world.resource) {
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(world.client, keyPair)
  const grant = () =>
    oauth.clientCredentialsGrantRequest(
      world.as,
      world.client,
      oauth.ClientSecretBasic(CLIENT_SECRET),
      new URLSearchParams({ scope, resource }),
      { DPoP, ...insecure },
    )
  let response = await grant()
  let result: oauth.TokenEndpointResponse
  try {
    result = await oauth.processClientCredentialsResponse(world.as, world.client, response)
  } catch (error) {
    // RFC 9449 §8: the authorization server may ask for a nonce first; oauth4webapi keeps it.
    if (!oauth.isDPoPNonceError(error)) throw error
    response = await grant()
    result = await oauth.processClientCredentialsResponse(world.as, world.client, response)
  }
  assert.equal(result.token_type.toLowerCase(), 'dpop')
  return { token: result.access_token, DPoP }
}

/**
 * Calls the API through oauth4webapi (it builds the proof) and captures the headers it sent. A 401 or
 * 403 comes back as oauth4webapi's parsed challenges: a real client reads our WWW-Authenticate.
 */
async function callApi(
  world: World,
  token: string,
  DPoP: oauth.DPoPHandle,
  method = 'GET',
  path = '/api/me',
) {
  let sent: Headers | undefined
  const options = {
    DPoP,
    ...insecure,
    [oauth.customFetch]: (url: string, init: RequestInit) => {
      sent = new Headers(init.headers)
      return fetch(url, init)
    },
  }
  const url = new URL(`${world.apiBase}${path}`)
  try {
    const response = await oauth.protectedResourceRequest(token, method, url, new Headers(), null, options)
    return { response, sent: sent as Headers, challenges: [] as oauth.WWWAuthenticateChallenge[] }
  } catch (error) {
    if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error
    return { response: error.response, sent: sent as Headers, challenges: error.cause }
  }
}

describe('interop: oidc-provider issues DPoP-bound RFC 9068 tokens, oauth4webapi presents them', () => {
  let world: World
  before(async () => {
    world = await startWorld()
  })
  after(async () => {
    await world?.close()
  })

  it('RFC 9449 §7.1 + RFC 9068: the API accepts the provider’s DPoP-bound token with the client’s proof', async () => {
    const { token, DPoP } = await dpopToken(world, 'read')
    const { response, sent } = await callApi(world, token, DPoP)
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { sub: 'machine', scopes: ['read'], scheme: 'DPoP' })
    assert.match(sent.get('authorization') ?? '', /^DPoP /)
  })

  it('RFC 9449 §11.1: the same proof replayed is refused (invalid_dpop_proof)', async () => {
    const { token, DPoP } = await dpopToken(world, 'read')
    const { sent } = await callApi(world, token, DPoP)
    const replay = await fetch(`${world.apiBase}/api/me`, { headers: sent })
    assert.equal(replay.status, 401)
    assert.match(replay.headers.get('www-authenticate') ?? '', /DPoP error="invalid_dpop_proof"/)
  })

  it('RFC 9449 §4.3 checks 8-9: a proof for another URL or another method is refused', async () => {
    const { token, DPoP } = await dpopToken(world, 'read')
    const { sent } = await callApi(world, token, DPoP, 'GET', '/api/other')
    const otherUrl = await fetch(`${world.apiBase}/api/me`, { headers: sent })
    assert.equal(otherUrl.status, 401)
    assert.equal(
      ((await otherUrl.json()) as { error: { code: string } }).error.code,
      'ERR_DPOP_PROOF_INVALID',
    )
    const { sent: forGet } = await callApi(world, token, DPoP, 'GET', '/api/me')
    const otherMethod = await fetch(`${world.apiBase}/api/me`, { method: 'POST', headers: forGet })
    assert.equal(otherMethod.status, 401)
    assert.equal(
      ((await otherMethod.json()) as { error: { code: string } }).error.code,
      'ERR_DPOP_PROOF_INVALID',
    )
  })

  it('RFC 9449 §7.2: the bound token sent as a Bearer token is refused', async () => {
    const { token } = await dpopToken(world, 'read')
    const response = await fetch(`${world.apiBase}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(response.status, 401)
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'ERR_TOKEN_BOUND')
  })

  it('RFC 8707 / RFC 9068 §4: a token the provider issued for another resource is refused', async () => {
    const { token, DPoP } = await dpopToken(world, 'read', world.otherResource)
    const { response, challenges } = await callApi(world, token, DPoP)
    assert.equal(response.status, 401)
    const dpop = challenges.find((challenge) => challenge.scheme === 'dpop')
    assert.equal(dpop?.parameters.error, 'invalid_token')
    assert.equal(dpop?.parameters.resource_metadata, `${world.apiBase}/.well-known/oauth-protected-resource`)
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'ERR_AUDIENCE_MISMATCH')
  })

  it('RFC 6750 §3.1: a token without the scope a route needs → 403 insufficient_scope', async () => {
    const { token, DPoP } = await dpopToken(world, 'read')
    const { response } = await callApi(world, token, DPoP, 'GET', '/api/write')
    assert.equal(response.status, 403)
    assert.match(
      response.headers.get('www-authenticate') ?? '',
      /error="insufficient_scope".*scope="read write"/,
    )
    const { token: both, DPoP: handle } = await dpopToken(world, 'read write')
    assert.equal((await callApi(world, both, handle, 'GET', '/api/write')).response.status, 200)
  })

  it('RFC 9068 §4: the provider’s ID token is refused as an access token', async () => {
    const idToken = await signInForIdToken(world)
    const response = await fetch(`${world.apiBase}/api/me`, {
      headers: { authorization: `Bearer ${idToken}` },
    })
    assert.equal(response.status, 401)
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'ERR_TYP_MISMATCH')
  })

  it('RFC 9728: the metadata names the provider as authorization server', async () => {
    const response = await fetch(`${world.apiBase}/.well-known/oauth-protected-resource`)
    const document = (await response.json()) as { resource: string; authorization_servers: string[] }
    assert.equal(document.resource, world.resource)
    assert.deepEqual(document.authorization_servers, [world.issuer])
  })
})

/**
 * The authorization code flow through oidc-provider's development interactions (login form, consent),
 * driven by plain HTTP with a cookie jar, to get a real ID token.
 */
async function signInForIdToken(world: World): Promise<string> {
  const jar = new Map<string, string>()
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
  const step = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() },
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      jar.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    return response
  }
  const redirectUri = `${world.apiBase}/callback`
  const nonce = oauth.generateRandomNonce()
  const state = oauth.generateRandomState()
  const authorize = new URL(world.as.authorization_endpoint as string)
  authorize.search = new URLSearchParams({
    client_id: 'web',
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    nonce,
    state,
  }).toString()
  let response = await step(authorize.href)
  let location = response.headers.get('location')
  for (let hops = 0; hops < 10 && location !== null && !location.startsWith(redirectUri); hops++) {
    const next = new URL(location, world.issuer).href
    response = await step(next)
    if (response.status === 200) {
      const html = await response.text()
      const action = /action="([^"]+)"/.exec(html)?.[1] as string
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1]
      const form: Record<string, string> =
        prompt === 'login' || html.includes('name="login"')
          ? { prompt: 'login', login: 'alice', password: 'x' }
          : { prompt: 'consent' }
      response = await step(new URL(action, world.issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      })
    }
    location = response.headers.get('location')
  }
  assert.ok(location?.startsWith(redirectUri), 'the flow ends at the redirect URI')
  const params = oauth.validateAuthResponse(world.as, world.webClient, new URL(location as string), state)
  const tokenResponse = await oauth.authorizationCodeGrantRequest(
    world.as,
    world.webClient,
    oauth.ClientSecretBasic(CLIENT_SECRET),
    params,
    redirectUri,
    oauth.nopkce,
    insecure,
  )
  const result = await oauth.processAuthorizationCodeResponse(world.as, world.webClient, tokenResponse, {
    expectedNonce: nonce,
  })
  assert.equal(typeof result.id_token, 'string')
  return result.id_token as string
}
