// Child process: the baseline app (Express 5 + express-session + jose), for `npm run bench:http`.
// Environment: BENCH_ISSUER, BENCH_JWKS_URI, BENCH_SQLITE_PATH; BENCH_BASELINE_TOUCH=off drops the
// session store's touch (no write on reads), to see what that write costs; BENCH_ALG (RS256 or ES256);
// BENCH_BASELINE_LOG=info: pino-http request logging to stdout (default off).
import { startBaseline } from './baseline.ts'
import { serveUntilStopped } from './serve-child.ts'

function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

await serveUntilStopped(() =>
  startBaseline({
    issuer: required('BENCH_ISSUER'),
    jwksUri: required('BENCH_JWKS_URI'),
    sqlitePath: required('BENCH_SQLITE_PATH'),
    touch: process.env.BENCH_BASELINE_TOUCH !== 'off',
    algorithm: process.env.BENCH_ALG === 'ES256' ? 'ES256' : 'RS256',
    log: process.env.BENCH_BASELINE_LOG === 'info',
  }),
)
