// A complete Fastify app signed in through jwks-bridge: the development identity provider mounted
// at /dev-issuer, identities and sessions in SQLite (./data/), the page with its meta tags, the
// browser script and public/app.js. Run: npm install && npm start, then open http://127.0.0.1:3000.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import { createBridge, createSqliteStores } from 'jwks-bridge'
import { createDevIssuer } from 'jwks-bridge/dev-issuer'
import { devIssuerFastify, jwksBridgeFastify, toBridgeRequest } from 'jwks-bridge/fastify'

const port = Number(process.env.PORT ?? 3000)
const origin = `http://127.0.0.1:${port}`
// Signs anyone in under any name: loopback only, refused with NODE_ENV=production. For a real
// provider, drop it and give the verifier its issuer (see docs/providers.md).
const devIssuer = createDevIssuer({ issuer: `${origin}/dev-issuer` })
const stores = await createSqliteStores() // ./data/jwks-bridge.sqlite, migrated
const bridge = createBridge({
  verifier: { issuer: devIssuer.issuer, jwksUri: devIssuer.jwksUrl },
  identities: stores.identities,
  sessions: stores.sessions,
  csrf: true, // the page's csrf-token meta, sent back as X-CSRF-Token
})

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const clientScript = readFileSync(
  createRequire(import.meta.url).resolve('jwks-bridge/client/jwks-bridge-client.min.js'),
)
const appScript = readFileSync(new URL('public/app.js', import.meta.url))
// Static files never need the identity: no session lookup for them.
const noLookup = { config: { jwksBridge: { authenticate: false } } }

const app = Fastify()
await app.register(devIssuerFastify, { devIssuer }) // /dev-issuer/*: sign-in page, key set, token, sign-out
await app.register(jwksBridgeFastify, { bridge }) // PUT/POST/DELETE /auth, request.identity
app.get('/jwks-bridge-client.min.js', noLookup, (_request, reply) =>
  reply.type('text/javascript').send(clientScript),
)
app.get('/app.js', noLookup, (_request, reply) => reply.type('text/javascript').send(appScript))
app.get('/me', async (request, reply) => request.identity ?? reply.code(401).send())
app.get('/', async (request, reply) => {
  const csrf = bridge.csrfTokenFor(toBridgeRequest(request.raw, request.url))
  if (csrf.cookies.length) reply.header('set-cookie', csrf.cookies)
  const body = request.identity
    ? `<p>Signed in as <b id="subject">${escapeHtml(request.identity.subject)}</b></p>
       <button id="sign-out">Sign out</button>`
    : `<p id="signed-out">Signed out.</p>
       <a id="sign-in" href="${escapeHtml(devIssuer.signInUrlFor('/'))}">Sign in</a>`
  return reply.type('text/html').send(`<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>jwks-bridge + Fastify</title>
  <meta name="authentication-url" content="/auth">
  <meta name="has-session" content="${request.identity ? 'true' : 'false'}">
  <meta name="csrf-token" content="${escapeHtml(csrf.token)}">
  <script src="/jwks-bridge-client.min.js" defer></script>
  <script src="/app.js" defer></script>
</head><body>${body}</body></html>`)
})
await app.listen({ port, host: '127.0.0.1' })
console.log(`listening on ${origin}`)
