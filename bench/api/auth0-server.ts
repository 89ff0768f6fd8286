// Child process for `npm run bench:api`: Express 5 + express-oauth2-jwt-bearer (Auth0's SDK), Bearer
// and DPoP (`dpop: { enabled: true }`), configured as its README shows for an API with a JWKS.
// Environment: BENCH_ISSUER, BENCH_JWKS_URI, BENCH_RESOURCE, BENCH_PORT.
import express from 'express'
import { auth } from 'express-oauth2-jwt-bearer'
import { serveUntilStopped } from '../http/serve-child.ts'
import { listenExpress, required } from './child-env.ts'

await serveUntilStopped(async () => {
  const port = Number(required('BENCH_PORT'))
  const app = express()
  app.disable('x-powered-by')
  app.get(
    '/api/me',
    auth({
      issuer: required('BENCH_ISSUER'),
      jwksUri: required('BENCH_JWKS_URI'),
      audience: required('BENCH_RESOURCE'),
      tokenSigningAlg: 'RS256',
      dpop: { enabled: true, required: false },
    }),
    (req, res) => {
      res.json({ sub: req.auth?.payload.sub })
    },
  )
  return listenExpress(app, port, () => {})
})
