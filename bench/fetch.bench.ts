// GET /me through jwks-bridge/fetch on @hono/node-server, beside the Fastify adapter, on the same
// machine in one run; the same through Hono's middleware; and the fetch adapter on Bun.serve (the Bun
// from the `bun` dev dependency). Each server runs in its own process on the built package (dist/:
// npm run build first); the load generator (autocannon) runs here. A benchmark, not a timed test.
//   npm run bench:fetch            (BENCH_SECONDS=8, BENCH_CONNECTIONS=10)
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon, { type Result } from 'autocannon'

const root = fileURLToPath(new URL('../', import.meta.url))
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const WARMUP_SECONDS = 2

interface Server {
  url: string
  cookie: string
  child: ChildProcess
}

function startServer(kind: string): Promise<Server> {
  const [command, args] =
    kind === 'fetch-bun'
      ? [`${root}node_modules/.bin/bun`, ['bench/fetch/server.mjs', kind]]
      : [process.execPath, ['bench/fetch/server.mjs', kind]]
  const child = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 30_000)
    child.once('error', reject)
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      resolve({ ...(JSON.parse(line) as { url: string; cookie: string }), child })
    })
  })
}

interface Figures {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
}

async function load(server: Server, seconds: number): Promise<Figures> {
  const result = await new Promise<Result>((resolve, reject) => {
    autocannon(
      {
        url: `${server.url}/me`,
        connections: CONNECTIONS,
        duration: seconds,
        headers: { cookie: server.cookie },
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    )
  })
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }
}

if (!existsSync(`${root}dist/adapters/fetch.js`)) {
  console.error('dist/ is missing: npm run build first')
  process.exit(1)
}

const kinds = [
  ['fastify', 'Fastify adapter (node:http)'],
  ['fetch-node', 'jwks-bridge/fetch on @hono/node-server'],
  ['hono-node', 'jwks-bridge/hono on @hono/node-server'],
  ['fetch-bun', 'jwks-bridge/fetch on Bun.serve'],
] as const
// BENCH_ONLY=fastify,hono-node runs some of them (the summary needs fastify and fetch-node).
const only = process.env.BENCH_ONLY?.split(',')
const results: Record<string, Figures> = {}
for (const [kind, label] of kinds) {
  if (only !== undefined && !only.includes(kind)) continue
  const server = await startServer(kind)
  try {
    await load(server, WARMUP_SECONDS)
    results[kind] = await load(server, SECONDS)
  } finally {
    server.child.kill('SIGTERM')
  }
  const r = results[kind]!
  console.log(
    `${label.padEnd(44)} ${String(r.requestsPerSecond).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms` +
      (r.non2xx + r.errors > 0 ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''),
  )
}
const ratio = (kind: string) =>
  (results[kind]?.requestsPerSecond ?? Number.NaN) / (results.fastify?.requestsPerSecond ?? Number.NaN)
console.log(
  `\nfetch on Node / Fastify: ${(ratio('fetch-node') * 100).toFixed(0)}% (target: at least 80%); ` +
    `Hono / Fastify: ${(ratio('hono-node') * 100).toFixed(0)}%; fetch on Bun / Fastify on Node: ${(ratio('fetch-bun') * 100).toFixed(0)}%`,
)
console.log(
  `${CONNECTIONS} connections, ${SECONDS} s per server after ${WARMUP_SECONDS} s of warm-up, one machine, one run.`,
)
