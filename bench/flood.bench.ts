// `npm run bench:flood` (also run by `npm run bench`): a flood of tokens with random `kid`s, interleaved
// with valid tokens, against a real key set server on 127.0.0.1. For jwks-bridge, jose's
// createRemoteJWKSet and get-jwks (+ fast-jwt), it reports the upstream key set fetches the flood
// caused, and the valid tokens' verification rate and p99 latency beside the same run without the
// flood. A benchmark, not a test: it prints figures and asserts nothing about them.
//
// Environment: FLOOD_TOKENS (default 10000), FLOOD_SECONDS (cap per phase, default 4),
// FLOOD_BURST (concurrent unknown-kid verifications in the burst phase, default 1000).
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVerifier as createFastJwtVerifier } from 'fast-jwt'
import buildGetJwks from 'get-jwks'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { createVerifier } from '../dist/index.js'

const FLOOD_TOKENS = Number(process.env.FLOOD_TOKENS ?? 10_000)
const PHASE_SECONDS = Number(process.env.FLOOD_SECONDS ?? 4)
const BURST = Number(process.env.FLOOD_BURST ?? 1000)
const ISSUER = 'https://issuer.flood.example.com'
const AUDIENCE = 'flood-api'

const b64u = (value: string | Buffer) => Buffer.from(value).toString('base64url')

// Keys and tokens -------------------------------------------------------------------------------
const keys = ['k-previous', 'k-current', 'k-next'].map((kid) => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, ...pair, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } }
})
const signer = keys[1]!
const now = Math.floor(Date.now() / 1000)

function token(kid: string, n: number, signature?: string): string {
  const header = b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))
  const payload = b64u(
    JSON.stringify({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: `user-${n}`,
      iat: now - 5,
      exp: now + 3600,
      email: `u${n}@example.com`,
    }),
  )
  const input = `${header}.${payload}`
  return `${input}.${signature ?? b64u(sign('sha256', Buffer.from(input), signer.privateKey))}`
}

const validTokens = Array.from({ length: 500 }, (_, n) => token(signer.kid, n))
// Random kids with a well-formed signature of the right length: they fail at key lookup.
const fakeSignature = validTokens[0]!.split('.')[2]!
const floodTokens = Array.from({ length: FLOOD_TOKENS }, (_, n) =>
  token(randomBytes(12).toString('base64url'), n, fakeSignature),
)

// The key set server ------------------------------------------------------------------------------
let fetches = 0
const server = createServer((req, res) => {
  if (req.url === '/jwks.json') {
    fetches++
    // connection: close, so that no client reuses a keep-alive socket the server is about to drop
    // (an ECONNRESET on reuse would count against whichever library happened to hit it).
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'max-age=600',
      connection: 'close',
    })
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }))
  } else {
    res.writeHead(404).end()
  }
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const jwksUri = `${origin}/jwks.json`

// The contestants -----------------------------------------------------------------------------
type Verify = (token: string) => Promise<unknown>

function jwksBridge(): Verify {
  const verifier = createVerifier({ issuer: ISSUER, jwksUri, audience: AUDIENCE, tokenCache: false })
  return (t) => verifier.verify(t)
}

function jose(): Verify {
  const keySet = createRemoteJWKSet(new URL(jwksUri))
  return (t) => jwtVerify(t, keySet, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] })
}

function getJwksFastJwt(): Verify {
  const getJwks = buildGetJwks({ jwksPath: '/jwks.json', issuersWhitelist: [origin] })
  const verify = createFastJwtVerifier({
    key: async (decoded: { header: Record<string, string> }) =>
      getJwks.getPublicKey({ domain: origin, alg: decoded.header.alg, kid: decoded.header.kid }),
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    algorithms: ['RS256'],
  })
  return (t) => verify(t)
}

// Measurement ---------------------------------------------------------------------------------
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

interface Phase {
  validCount: number
  validFailures: number
  /** Valid verifications per second of time spent on them. */
  validRate: number
  p50Us: number
  p99Us: number
  floodSent: number
  fetches: number
  seconds: number
}

async function phase(verify: Verify, withFlood: boolean): Promise<Phase> {
  const startFetches = fetches
  const latencies: number[] = []
  let validFailures = 0
  let floodSent = 0
  let i = 0
  const start = performance.now()
  const deadline = start + PHASE_SECONDS * 1000
  while (performance.now() < deadline) {
    if (withFlood && floodSent >= floodTokens.length) break
    const t0 = performance.now()
    try {
      await verify(validTokens[i++ % validTokens.length]!)
    } catch {
      validFailures++
    }
    latencies.push(performance.now() - t0)
    if (withFlood) {
      await verify(floodTokens[floodSent++]!).then(
        () => {
          throw new Error('a random-kid token verified')
        },
        () => {},
      )
    }
  }
  const seconds = (performance.now() - start) / 1000
  const spentMs = latencies.reduce((a, b) => a + b, 0)
  latencies.sort((a, b) => a - b)
  return {
    validCount: latencies.length,
    validFailures,
    validRate: latencies.length / (spentMs / 1000),
    p50Us: percentile(latencies, 50) * 1000,
    p99Us: percentile(latencies, 99) * 1000,
    floodSent,
    fetches: fetches - startFetches,
    seconds,
  }
}

async function burst(verify: Verify): Promise<{ fetches: number; ms: number }> {
  const startFetches = fetches
  const t0 = performance.now()
  const kids = Array.from({ length: BURST }, (_, n) =>
    token(`burst-${randomBytes(8).toString('hex')}`, n, fakeSignature),
  )
  await Promise.all(kids.map((t) => verify(t).catch(() => {})))
  return { fetches: fetches - startFetches, ms: performance.now() - t0 }
}

const contestants: [string, () => Verify][] = [
  ['jwks-bridge', jwksBridge],
  ['jose createRemoteJWKSet', jose],
  ['get-jwks + fast-jwt', getJwksFastJwt],
]

const rows: string[] = []
process.stderr.write(`flood: ${FLOOD_TOKENS} random-kid tokens, phases capped at ${PHASE_SECONDS} s\n`)
for (const [name, make] of contestants) {
  const verify = make()
  await verify(validTokens[0]!) // first load
  const quiet = await phase(verify, false)
  const flood = await phase(verify, true)
  const burstResult = await burst(verify)
  const after = await phase(verify, false)
  process.stderr.write(`${name}: done\n`)
  const ratio = flood.validRate / quiet.validRate
  rows.push(
    `| ${name} | ${Math.round(quiet.validRate).toLocaleString('en-US')} | ${Math.round(flood.validRate).toLocaleString('en-US')} (${ratio.toFixed(2)}×) | ${quiet.p99Us.toFixed(0)} / ${flood.p99Us.toFixed(0)} | ${flood.floodSent.toLocaleString('en-US')} in ${flood.seconds.toFixed(1)} s | ${flood.fetches} | ${burstResult.fetches} | ${flood.validFailures + after.validFailures} |`,
  )
}
server.close()

console.log(`## Random-kid flood

- ${FLOOD_TOKENS.toLocaleString('en-US')} tokens with random kids, each followed by one valid RS256 token (sequential awaits), against a key set server on 127.0.0.1 (3 keys, \`Cache-Control: max-age=600\`); phases capped at ${PHASE_SECONDS} s; token caches off; jwks-bridge with its defaults (cooldown 30 s)
- valid rate: valid verifications per second of time spent on them; "quiet" is the same loop without the flood
- burst: ${BURST} verifications with distinct random kids started at once

| library | valid/s quiet | valid/s under flood (÷ quiet) | valid p99 µs quiet / flood | flood tokens sent | key set fetches during flood | fetches in burst | valid tokens refused |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`)
