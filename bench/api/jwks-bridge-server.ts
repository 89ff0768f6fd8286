// Child process for `npm run bench:api`: Express 5 + jwks-bridge's requireAccessToken, Bearer and DPoP.
// Environment: BENCH_ISSUER, BENCH_JWKS_URI, BENCH_RESOURCE, BENCH_PORT; BENCH_OPTIONS, JSON of more
// createResourceServer options (bench:api's BENCH_VARIANT).
import express from 'express'
import { requireAccessToken } from '../../src/adapters/express.ts'
import type { ResourceServerOptions } from '../../src/resource-server/options.ts'
import { createResourceServer } from '../../src/resource-server/resource-server.ts'
import { serveUntilStopped } from '../http/serve-child.ts'
import { listenExpress, required } from './child-env.ts'

await serveUntilStopped(async () => {
  const port = Number(required('BENCH_PORT'))
  const api = createResourceServer({
    resource: required('BENCH_RESOURCE'),
    issuer: required('BENCH_ISSUER'),
    jwksUri: required('BENCH_JWKS_URI'),
    algorithms: ['RS256'],
    dpop: 'allowed',
    ...(JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as Partial<ResourceServerOptions>),
  })
  await api.ready()
  const app = express()
  app.disable('x-powered-by')
  // The URL clients address is this server's own (the resource identifier is an https name).
  app.get('/api/me', requireAccessToken(api, { origin: `http://127.0.0.1:${port}` }), (req, res) => {
    res.json({ sub: req.accessToken?.payload.sub })
  })
  return listenExpress(app, port, () => api.close())
})
