import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { supertokensIssuer, supertokensProfile } from '../../src/bridge/profiles.ts'
import { createVerifier, isJwksBridgeError } from '../../src/index.ts'
import { createTestIssuer, type ServedTestIssuer } from '../../src/testing/index.ts'

const servers: ServedTestIssuer[] = []
after(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

async function served(options: Parameters<typeof createTestIssuer>[0] = {}) {
  const idp = createTestIssuer(options)
  const server = await idp.serve()
  servers.push(server)
  return { idp, server }
}

describe('test issuer served over HTTP (127.0.0.1)', () => {
  it('jwksUri: the verifier fetches the key set from the server', async () => {
    const { idp, server } = await served({ alg: 'ES256' })
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    // Without an explicit issuer, the server's URL becomes the issuer (discovery needs that).
    assert.equal(idp.issuer, server.url)
    assert.equal(server.jwksUri, `${server.url}/.well-known/jwks.json`)
    const verifier = createVerifier(server.verifierOptions())
    assert.equal((await verifier.verify(idp.sign({ sub: 'u1' }))).payload.sub, 'u1')
    assert.ok(server.requests() >= 1)
    verifier.close()
  })

  it('discovery: the verifier finds jwks_uri from /.well-known/openid-configuration', async () => {
    const { idp, server } = await served({ profile: 'oidc-id-token', audience: 'web-app' })
    const response = await fetch(server.discoveryUrl)
    const document = (await response.json()) as Record<string, unknown>
    assert.equal(document.issuer, idp.issuer)
    assert.equal(document.jwks_uri, server.jwksUri)
    const options = server.verifierOptions({ discovery: true })
    assert.equal(options.jwksUri, undefined)
    assert.equal(options.audience, 'web-app')
    const verifier = createVerifier(options)
    const { payload } = await verifier.verify(idp.sign({ sub: 'u2' }))
    assert.equal(payload.aud, 'web-app')
    verifier.close()
  })

  it('rotation over HTTP: a token with the new kid makes the verifier refetch; the old token still verifies', async () => {
    const { idp, server } = await served()
    const verifier = createVerifier({ ...server.verifierOptions(), cooldownSeconds: 0 })
    const oldToken = idp.sign()
    await verifier.verify(oldToken)
    const fetchesBefore = verifier.keySetStats()[0]?.fetches ?? 0
    idp.rotate()
    const newToken = idp.sign()
    assert.equal((await verifier.verify(newToken)).header.kid, idp.kid)
    assert.ok((verifier.keySetStats()[0]?.fetches ?? 0) > fetchesBefore, 'an unknown kid caused a refetch')
    assert.ok(await verifier.verify(oldToken))
    idp.retire()
    // A verifier that fetches now sees only the new key.
    const fresh = createVerifier(server.verifierOptions())
    await assert.rejects(fresh.verify(oldToken), (e: unknown) => isJwksBridgeError(e, 'ERR_KEY_NOT_FOUND'))
    verifier.close()
    fresh.close()
  })

  it('SuperTokens: issuer = URL + /auth, key set at /auth/jwt/jwks.json, as supertokensIssuer() says', async () => {
    const { idp, server } = await served({ profile: 'supertokens' })
    const expected = supertokensIssuer({ apiDomain: server.url })
    assert.equal(idp.issuer, expected.issuer)
    assert.equal(server.issuer, expected.issuer)
    assert.equal(server.jwksUri, expected.jwksUri)
    const profile = supertokensProfile()
    const verifier = createVerifier({ ...expected, ...profile.verifierOptions })
    const result = await verifier.verify(idp.sign({ sub: 'st-1' }))
    assert.equal(profile.check(result).subject, 'st-1')
    // Discovery works too: <apiDomain>/auth/.well-known/openid-configuration.
    const discovered = createVerifier({
      ...server.verifierOptions({ discovery: true }),
      ...profile.verifierOptions,
    })
    assert.equal((await discovered.verify(idp.sign({ sub: 'st-2' }))).payload.sub, 'st-2')
    verifier.close()
    discovered.close()
  })

  it('an explicit issuer is kept; its documents are served (key set URL only, no discovery)', async () => {
    const { idp, server } = await served({ issuer: 'https://idp.example.com/tenant-a' })
    assert.equal(idp.issuer, 'https://idp.example.com/tenant-a')
    assert.equal(server.jwksUri, `${server.url}/tenant-a/.well-known/jwks.json`)
    const verifier = createVerifier(server.verifierOptions())
    assert.ok(await verifier.verify(idp.sign()))
    assert.throws(
      () => server.verifierOptions({ discovery: true }),
      (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
    )
    await assert.rejects(idp.serve(), (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'))
    verifier.close()
  })

  it('answers only GET/HEAD on known paths, and close() stops it', async () => {
    const { server } = await served()
    assert.equal((await fetch(`${server.url}/nope`)).status, 404)
    assert.equal((await fetch(server.jwksUri, { method: 'POST' })).status, 405)
    const head = await fetch(server.jwksUri, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-type'), 'application/json')
    await server.close()
    await assert.rejects(fetch(server.jwksUri))
  })
})
