// A complete Express app signed in through jwks-bridge: the development identity provider mounted
// at /dev-issuer, identities and sessions in SQLite (./data/), the page with its meta tags, the
// browser script and public/app.js. Run: npm install && npm start, then open http://127.0.0.1:3000.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { createBridge, createSqliteStores } from 'jwks-bridge'
import { createDevIssuer } from 'jwks-bridge/dev-issuer'
import { bridgeMiddleware, devIssuerMiddleware, toBridgeRequest } from 'jwks-bridge/express'

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
const clientScript = createRequire(import.meta.url).resolve('jwks-bridge/client/jwks-bridge-client.min.js')

const app = express()
app.use(devIssuerMiddleware(devIssuer)) // /dev-issuer/*: sign-in page, key set, token, sign-out
app.use(bridgeMiddleware(bridge)) // PUT/POST/DELETE /auth, req.identity; before body parsers
app.get('/jwks-bridge-client.min.js', (_req, res) => res.sendFile(clientScript))
app.use(express.static(fileURLToPath(new URL('public', import.meta.url)))) // app.js
app.get('/me', (req, res) => (req.identity ? res.json(req.identity) : res.sendStatus(401)))
app.get('/', (req, res) => {
  const csrf = bridge.csrfTokenFor(toBridgeRequest(req, req.originalUrl))
  if (csrf.cookies.length) res.append('Set-Cookie', csrf.cookies)
  const body = req.identity
    ? `<p>Signed in as <b id="subject">${escapeHtml(req.identity.subject)}</b></p>
       <button id="sign-out">Sign out</button>`
    : `<p id="signed-out">Signed out.</p>
       <a id="sign-in" href="${escapeHtml(devIssuer.signInUrlFor('/'))}">Sign in</a>`
  res.send(`<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>jwks-bridge + Express</title>
  <meta name="authentication-url" content="/auth">
  <meta name="has-session" content="${req.identity ? 'true' : 'false'}">
  <meta name="csrf-token" content="${escapeHtml(csrf.token)}">
  <script src="/jwks-bridge-client.min.js" defer></script>
  <script src="/app.js" defer></script>
</head><body>${body}</body></html>`)
})
app.listen(port, '127.0.0.1', () => console.log(`listening on ${origin}`))
