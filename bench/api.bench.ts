// `npm run bench:api`: an API route behind Express 5, protected by jwks-bridge's requireAccessToken
// or by Auth0's express-oauth2-jwt-bearer, each in its own process, both trusting the same test
// issuer through its key set over loopback, loaded with autocannon from this one with the same
// tokens: a Bearer access token, and a DPoP-bound one with a fresh proof per request (minted before
// each run, RFC 9449: every proof is single use, and jwks-bridge refuses a replay). Express alone on the
// same route, no authentication, is loaded in the same rounds: the ceiling. Prints every app, the ratio
// of requests/s and the p99s. Target: at least 2x the requests/s with a lower p99, for both schemes.
//
// Environment:
//   BENCH_SECONDS         measured seconds per app and scheme (default 5; 1 to 60)
//   BENCH_CONNECTIONS     concurrent connections (default 10; 1 to 256)
//   BENCH_WARMUP_SECONDS  unmeasured load before each run (default 1; 0 to 10)
//   BENCH_ROUNDS          rounds, the apps alternating which goes first; the median run is reported (default 3)
//   BENCH_SCHEMES         Bearer, DPoP or both (default both)
//   BENCH_PROOF_ALG       the client's DPoP proof algorithm: ES256 (default), EdDSA or PS256
//   BENCH_VARIANT         JSON of createResourceServer options for a third app, jwks-bridge-variant, measured
//                         in the same rounds (an A/B in one run), e.g. '{"signatureThreadPool":false}'
//   BENCH_VARIANT_CHECKOUT  another checkout of jwks-bridge (say, main's worktree) whose own
//                         bench/api/jwks-bridge-server.ts and src/ are the variant app: a before/after
//   BENCH_CPU_PROF        apps to write V8 CPU profiles of: jwks-bridge, jwks-bridge-variant, auth0,
//                         express-only (comma-separated);
//                         summarize one with bench/http/profile-summary.ts
//   BENCH_CPU_PROF_DIR    where (default: a folder under the system's temporary directory)
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { freePort } from '../src/app/free-port.ts'
import { accessTokenHash } from '../src/resource-server/dpop-proof.ts'
import { createTestIssuer } from '../src/testing/index.ts'
import { makeKey, signText } from '../test/helpers/tokens.ts'
import { type ApiLoadResult, runApiLoad } from './api/load.ts'
import { type AppProcess, spawnApp } from './http/children.ts'
import { compileChild } from './http/compile.ts'
import { listFromEnv, numberFromEnv } from './lib/env.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

const SECONDS = numberFromEnv('BENCH_SECONDS', 5, 1, 60)
const CONNECTIONS = Math.trunc(numberFromEnv('BENCH_CONNECTIONS', 10, 1, 256))
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 1, 0, 10)
const ROUNDS = Math.trunc(numberFromEnv('BENCH_ROUNDS', 3, 1, 9))
const SCHEMES = listFromEnv('BENCH_SCHEMES', ['Bearer', 'DPoP'] as const, ['Bearer', 'DPoP'])
const PROOF_ALGS = ['ES256', 'EdDSA', 'PS256'] as const
const PROOF_ALG: (typeof PROOF_ALGS)[number] =
  listFromEnv('BENCH_PROOF_ALG', PROOF_ALGS, ['ES256'])[0] ?? 'ES256'
const VARIANT_OPTIONS = process.env.BENCH_VARIANT ?? ''
if (VARIANT_OPTIONS !== '') JSON.parse(VARIANT_OPTIONS) // a clear error now, not a child that does not start
const VARIANT_CHECKOUT = process.env.BENCH_VARIANT_CHECKOUT ?? ''
const VARIANT = [VARIANT_CHECKOUT, VARIANT_OPTIONS].filter((part) => part !== '').join(' ')
const PROFILED = listFromEnv(
  'BENCH_CPU_PROF',
  ['jwks-bridge', 'jwks-bridge-variant', 'auth0', 'express-only'] as const,
  [],
)
const profileDir =
  PROFILED.length === 0
    ? undefined
    : (process.env.BENCH_CPU_PROF_DIR ?? join(tmpdir(), 'jwks-bridge-bench-api-profiles'))
const cpuProfDirOf = (name: string) =>
  profileDir !== undefined && (PROFILED as readonly string[]).includes(name)
    ? join(profileDir, name)
    : undefined
const RESOURCE = 'https://api.example.com'
const PATH = '/api/me'
const log = (line: string) => process.stderr.write(`${line}\n`)

type AppName = 'auth0' | 'jwks-bridge' | 'jwks-bridge-variant' | 'express-only'
// The ceiling, Express alone answering the same route with no authentication, is measured in the same
// rounds, with the same requests (it ignores their headers): on a shared machine, a ceiling measured at
// another moment says little.
const APPS: readonly AppName[] = [
  'auth0',
  'jwks-bridge',
  ...(VARIANT === '' ? [] : (['jwks-bridge-variant'] as const)),
  'express-only',
]
const LABEL: Record<AppName, string> = {
  auth0: 'Express 5 + express-oauth2-jwt-bearer',
  'jwks-bridge': 'Express 5 + jwks-bridge requireAccessToken',
  'jwks-bridge-variant': `Express 5 + jwks-bridge requireAccessToken, ${VARIANT}`,
  'express-only': 'Express 5 alone, no authentication (the ceiling)',
}

// Bounded: the whole run is abandoned (and the servers killed by children.ts's exit hook) past this.
const watchdog = setTimeout(
  () => {
    log('bench:api: still running after its time budget; stopping')
    process.exit(2)
  },
  (120 + ROUNDS * APPS.length * SCHEMES.length * (SECONDS + WARMUP_SECONDS + 20)) * 1000,
)

const loadBefore = loadavg()
for (const name of PROFILED) mkdirSync(join(profileDir as string, name), { recursive: true })
const issuer = createTestIssuer({ alg: 'RS256' })
const served = await issuer.serve()
const client = makeKey(PROOF_ALG, 'bench-dpop-client')
// The public key members only, as a client writes them in its proofs.
const clientJwk = Object.fromEntries(
  Object.entries(client.jwk).filter(([name]) => ['kty', 'crv', 'x', 'y', 'n', 'e'].includes(name)),
)
const { jwkThumbprint } = await import('../src/resource-server/thumbprint.ts')
const { importPublicJwk } = await import('../src/jose/jwk.ts')
const jkt = jwkThumbprint(importPublicJwk(clientJwk))

// The same two tokens for both apps: RFC 9068 access tokens for RESOURCE.
const claims = { aud: RESOURCE, client_id: 'bench-client', scope: 'read', sub: 'bench-user' }
const bearerToken = issuer.sign({ ...claims, jti: randomUUID() }, { typ: 'at+jwt' })
const dpopToken = issuer.sign({ ...claims, jti: randomUUID(), cnf: { jkt } }, { typ: 'at+jwt' })
const ath = accessTokenHash(dpopToken)
const proofHeader = JSON.stringify({ typ: 'dpop+jwt', alg: PROOF_ALG, jwk: clientJwk })

function mintProofs(url: string, count: number): string[] {
  const started = performance.now()
  const iat = Math.floor(Date.now() / 1000)
  const proofs: string[] = new Array(count)
  for (let i = 0; i < count; i++) {
    proofs[i] = signText(
      client,
      proofHeader,
      JSON.stringify({ jti: randomUUID(), htm: 'GET', htu: url, iat, ath }),
    )
  }
  log(`  minted ${count} proofs in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return proofs
}

interface Row {
  app: AppName
  round: number
  scheme: 'Bearer' | 'DPoP'
  result: ApiLoadResult
  /** CPU time of the app's process per response, in microseconds: comparable even on a busy machine. */
  cpuMicrosPerRequest: number
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a'

const apps = new Map<AppName, AppProcess>()
const rows: Row[] = []
try {
  for (const name of APPS) {
    const variant = name === 'jwks-bridge-variant'
    const checkout = variant && VARIANT_CHECKOUT !== '' ? VARIANT_CHECKOUT : root
    const script = await compileChild(
      join(checkout, `bench/api/${variant ? 'jwks-bridge' : name}-server.ts`),
      // Here, whatever the checkout: packages resolve from this one's node_modules.
      join(root, variant ? 'bench/api/.build/variant' : 'bench/api/.build'),
    )
    const port = await freePort('127.0.0.1')
    const app = await spawnApp(name, script, {
      cpuProfDir: cpuProfDirOf(name),
      env: {
        BENCH_ISSUER: served.issuer,
        BENCH_JWKS_URI: served.jwksUri,
        BENCH_RESOURCE: RESOURCE,
        BENCH_PORT: String(port),
        NODE_ENV: 'production',
        ...(variant ? { BENCH_OPTIONS: VARIANT_OPTIONS } : {}),
      },
    })
    apps.set(name, app)
    log(`${name}: ${app.url} (pid ${app.pid})`)
  }
  // Both accept both tokens before anything is measured, and both refuse a replayed proof or not.
  for (const [name, app] of apps) {
    if (name === 'express-only') continue
    const bearer = await fetch(`${app.url}${PATH}`, { headers: { authorization: `Bearer ${bearerToken}` } })
    const [proof] = mintProofs(`${app.url}${PATH}`, 1)
    const headers = { authorization: `DPoP ${dpopToken}`, dpop: proof as string }
    const dpop = await fetch(`${app.url}${PATH}`, { headers })
    const replay = await fetch(`${app.url}${PATH}`, { headers })
    await Promise.all([bearer.arrayBuffer(), dpop.arrayBuffer(), replay.arrayBuffer()])
    if (bearer.status !== 200 || dpop.status !== 200) {
      throw new Error(`${name}: Bearer answered ${bearer.status}, DPoP ${dpop.status}`)
    }
    log(
      `${name}: a replayed DPoP proof answered ${replay.status}${replay.status === 200 ? ' (accepted: no jti check)' : ''}`,
    )
  }
  for (let round = 0; round < ROUNDS; round++)
    for (const scheme of SCHEMES) {
      // Alternating order: on a shared machine, whoever runs second may find it busier or quieter.
      for (const name of round % 2 === 0 ? APPS : [...APPS].reverse()) {
        const app = apps.get(name) as AppProcess
        const url = `${app.url}${PATH}`
        const authorization = `${scheme} ${scheme === 'Bearer' ? bearerToken : dpopToken}`
        let rate = 20_000
        if (WARMUP_SECONDS > 0) {
          const proofs = scheme === 'DPoP' ? mintProofs(url, Math.ceil(WARMUP_SECONDS * rate)) : undefined
          const warm = await runApiLoad({
            url: app.url,
            path: PATH,
            authorization,
            proofs,
            seconds: WARMUP_SECONDS,
            connections: CONNECTIONS,
          })
          rate = Math.max(2000, warm.requestsPerSecond)
        }
        const proofs = scheme === 'DPoP' ? mintProofs(url, Math.ceil(rate * SECONDS * 1.6) + 100) : undefined
        const cpuBefore = app.cpuSeconds()
        const result = await runApiLoad({
          url: app.url,
          path: PATH,
          authorization,
          proofs,
          seconds: SECONDS,
          connections: CONNECTIONS,
        })
        const cpuMicrosPerRequest = ((app.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, result.responses)
        log(`${name} ${scheme}: ${fmt(result.requestsPerSecond)} req/s, p99 ${fmt(result.p99Ms, 2)} ms`)
        rows.push({ app: name, round, scheme, result, cpuMicrosPerRequest })
      }
    }
} finally {
  for (const app of apps.values()) await app.stop()
  await served.close()
  clearTimeout(watchdog)
}

// The median run (by requests/s) of each app and scheme.
const medians: Row[] = []
for (const scheme of ['Bearer', 'DPoP'] as const) {
  for (const name of APPS) {
    const runs = rows.filter((row) => row.app === name && row.scheme === scheme)
    runs.sort((a, b) => a.result.requestsPerSecond - b.result.requestsPerSecond)
    const median = runs[Math.floor(runs.length / 2)]
    if (median !== undefined) medians.push(median)
  }
}
const lines = [
  `bench:api — median of ${ROUNDS} round(s), ${SECONDS} s per run, ${CONNECTIONS} connections, Node ${process.version}, load average before ${loadBefore.map((n) => n.toFixed(1)).join(' ')}`,
  '',
  '| scheme | app | requests/s | p50 ms | p99 ms | server CPU µs/request | non-200 | errors |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
]
for (const row of medians) {
  const r = row.result
  lines.push(
    `| ${row.scheme} | ${LABEL[row.app]} | ${fmt(r.requestsPerSecond)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(row.cpuMicrosPerRequest)} | ${r.unexpected} | ${r.errors} |`,
  )
}
lines.push('')
// Per round: runs of one round followed each other within seconds, so these ratios are the least noisy.
for (const scheme of SCHEMES) {
  const perRound: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const rate = (name: AppName) =>
      rows.find((row) => row.app === name && row.scheme === scheme && row.round === round)?.result
        .requestsPerSecond ?? Number.NaN
    const peer = rate('auth0')
    const parts = [`${(rate('jwks-bridge') / peer).toFixed(2)}x`]
    if (VARIANT !== '') parts.push(`variant ${(rate('jwks-bridge-variant') / peer).toFixed(2)}x`)
    parts.push(`ceiling ${(rate('express-only') / peer).toFixed(2)}x`)
    perRound.push(parts.join(', '))
  }
  lines.push(`${scheme} per round, requests/s over express-oauth2-jwt-bearer's: ${perRound.join(' | ')}`)
}
let met = true
for (const scheme of ['Bearer', 'DPoP'] as const) {
  const ours = medians.find((row) => row.app === 'jwks-bridge' && row.scheme === scheme)?.result
  const peer = medians.find((row) => row.app === 'auth0' && row.scheme === scheme)?.result
  if (ours === undefined || peer === undefined) continue
  const ratio = ours.requestsPerSecond / peer.requestsPerSecond
  const oursRow = medians.find((row) => row.app === 'jwks-bridge' && row.scheme === scheme) as Row
  const peerRow = medians.find((row) => row.app === 'auth0' && row.scheme === scheme) as Row
  const cpuRatio = peerRow.cpuMicrosPerRequest / oursRow.cpuMicrosPerRequest
  const ok = ratio >= 2 && ours.p99Ms < peer.p99Ms && ours.unexpected === 0 && ours.overdrawn === 0
  met &&= ok
  lines.push(
    `${scheme}: ${ratio.toFixed(2)}x the requests/s of express-oauth2-jwt-bearer; p99 ${fmt(ours.p99Ms, 2)} ms vs ${fmt(peer.p99Ms, 2)} ms — target (>= 2x, lower p99) ${ok ? 'met' : 'NOT met'}; server CPU per request ${cpuRatio.toFixed(2)}x less`,
  )
  if (ours.overdrawn + peer.overdrawn > 0)
    lines.push(`  (${ours.overdrawn + peer.overdrawn} requests reused a proof: raise the pool)`)
}
if (profileDir !== undefined) {
  lines.push(
    `CPU profiles in ${profileDir}/<app>/: node --import tsx bench/http/profile-summary.ts <file.cpuprofile> [top] [filter]`,
  )
}
process.stdout.write(`${lines.join('\n')}\n`)
process.exitCode = met ? 0 : 1
