// Child process: the baseline app (Express 5 + express-session + jose), for `npm run bench:http`.
// Environment: BENCH_ISSUER, BENCH_JWKS_URI, BENCH_SQLITE_PATH; BENCH_BASELINE_TOUCH=off drops the
// session store's touch (no write on reads), to see what that write costs.
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
  }),
)
