// Child process: the reference app (src/app: Fastify + the bridge on SQLite), configured to trust the
// benchmark's test issuer through its remote key set (ISSUER_URL + JWKS_URI), for `npm run bench:http`.
// Environment: BENCH_ISSUER, BENCH_JWKS_URI, BENCH_SQLITE_PATH.
import { readConfig } from '../../src/app/config.ts'
import { startApp } from '../../src/app/server.ts'
import { serveUntilStopped } from './serve-child.ts'

function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

await serveUntilStopped(async () => {
  // Only these settings: nothing else from the environment (NODE_ENV, DATABASE_URL, REDIS_URL…) leaks in.
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: required('BENCH_SQLITE_PATH'),
    ISSUER_URL: required('BENCH_ISSUER'),
    JWKS_URI: required('BENCH_JWKS_URI'),
    ALGORITHMS: 'RS256',
    LOG_LEVEL: 'silent',
  })
  return startApp(config, { logger: false })
})
