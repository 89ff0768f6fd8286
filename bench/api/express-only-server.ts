// Child process for `npm run bench:api`: the same Express 5 route with no authentication at all, the
// ceiling that neither protected app can pass. Environment: BENCH_PORT.
import express from 'express'
import { serveUntilStopped } from '../http/serve-child.ts'
import { listenExpress, required } from './child-env.ts'

await serveUntilStopped(async () => {
  const port = Number(required('BENCH_PORT'))
  const app = express()
  app.disable('x-powered-by')
  app.get('/api/me', (_req, res) => {
    res.json({ sub: 'bench-user' })
  })
  return listenExpress(app, port, () => {})
})
