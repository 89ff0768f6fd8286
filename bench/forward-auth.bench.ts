// npm run bench:forward-auth — the forward-auth check and the reverse proxy, on what ships:
// `node dist/cli/main.js serve` (default log level, metrics as installed, SQLite) with UPSTREAM_URL,
// each server in its own process.
//   1. GET /auth/check with a valid session cookie: requests per second, and the app's CPU share
//      (1 = one core: the app is one event loop, so req/s at a share near 1 is its one-core rate).
//   2. p50 latency of a small GET to the upstream directly and through the proxy, one connection at
//      a time (latency, not throughput), same machine, one run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signInCookie } from '../test/proxy/support.ts'
import { type AppProcess, spawnApp } from './http/children.ts'
import { runLoad } from './http/load.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)

if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-bench-fwd-'))
let upstream: AppProcess | undefined
let app: AppProcess | undefined
try {
  upstream = await spawnApp('upstream', join(root, 'bench/forward-auth/upstream.mjs'), { env: {} })
  app = await spawnApp('jwks-bridge serve', join(root, 'dist/cli/main.js'), {
    args: ['serve', '--port', '0'],
    env: { UPSTREAM_URL: upstream.url, SQLITE_PATH: join(dir, 'app.sqlite') },
    urlFromLine: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1],
  })
  const cookie = await signInCookie(app.url, 'bench')

  const check = await runLoad(
    app,
    { name: 'check', method: 'GET', path: '/auth/check', headers: { cookie }, expectStatus: 200 },
    { seconds: SECONDS, connections: 16 },
  )
  console.log(
    `GET /auth/check: ${check.requestsPerSecond.toFixed(0)} req/s, p50 ${check.p50Ms.toFixed(2)} ms, ` +
      `p99 ${check.p99Ms.toFixed(2)} ms, app CPU ${check.serverCpuShare.toFixed(2)} cores ` +
      `(${(check.requestsPerSecond / Math.max(check.serverCpuShare, 0.01)).toFixed(0)} req/s per core), ` +
      `unexpected ${check.unexpected}, errors ${check.errors}`,
  )

  const direct = await runLoad(
    upstream,
    { name: 'direct', method: 'GET', path: '/x', headers: {}, expectStatus: 200 },
    { seconds: SECONDS / 2, connections: 1 },
  )
  const proxied = await runLoad(
    app,
    { name: 'proxied', method: 'GET', path: '/x', headers: { cookie }, expectStatus: 200 },
    { seconds: SECONDS / 2, connections: 1 },
  )
  console.log(
    `upstream direct: p50 ${direct.p50Ms.toFixed(3)} ms, p99 ${direct.p99Ms.toFixed(3)} ms (${direct.requestsPerSecond.toFixed(0)} req/s)\n` +
      `through the proxy (session checked): p50 ${proxied.p50Ms.toFixed(3)} ms, p99 ${proxied.p99Ms.toFixed(3)} ms ` +
      `(${proxied.requestsPerSecond.toFixed(0)} req/s, unexpected ${proxied.unexpected})\n` +
      `added at p50: ${(proxied.p50Ms - direct.p50Ms).toFixed(3)} ms`,
  )
} finally {
  await app?.stop()
  await upstream?.stop()
  rmSync(dir, { recursive: true, force: true })
}
