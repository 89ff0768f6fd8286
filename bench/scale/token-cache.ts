// The verified-token cache under a million distinct tokens: each is signed (Ed25519, the cheapest real
// signature to make), verified once by a verifier with the given cache size, and dropped, so that only
// the verifier keeps anything. The heap is measured after a full collection (global.gc) at checkpoints:
// once the cache is full, the heap must stop growing, whatever the number of tokens.
import { performance } from 'node:perf_hooks'
import { createTestIssuer } from '../../src/testing/test-issuer.ts'
import { createVerifier } from '../../src/verifier/verifier.ts'

export interface HeapPoint {
  tokens: number
  heapMb: number
}

export interface TokenCacheResult {
  maxEntries: number
  tokens: number
  seconds: number
  /** Heap after a full collection, before the first token. */
  baselineMb: number
  points: HeapPoint[]
  /** Growth over the baseline once the cache was full (at 2 × maxEntries or the first checkpoint past it). */
  fullMb: number
  /** Growth over the baseline at the end. */
  endMb: number
  /** Largest growth over the baseline at any checkpoint after the cache was full. */
  maxAfterFullMb: number
}

const MB = 1024 * 1024

function heapMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with node --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed / MB
}

/** Checkpoints: 2 × maxEntries (the cache is full), then ten steps up to `tokens`. */
function checkpoints(maxEntries: number, tokens: number): number[] {
  const points = new Set<number>([Math.min(tokens, 2 * maxEntries)])
  for (let k = 1; k <= 10; k++) points.add(Math.round((tokens * k) / 10))
  return [...points].filter((n) => n > 0).sort((a, b) => a - b)
}

export async function measureTokenCache(
  maxEntries: number,
  tokens: number,
  maxSeconds: number,
  progress: (line: string) => void,
): Promise<TokenCacheResult> {
  const issuer = createTestIssuer({ issuer: 'https://scale.bench.example', alg: 'EdDSA' })
  const verifier = createVerifier({ ...issuer.verifierOptions(), tokenCache: { maxEntries } })
  // One verification before the baseline: the key's import and the header cache are not the cache.
  await verifier.verify(issuer.sign({ sub: 'warm-up' }))
  const baselineMb = heapMb()
  const points: HeapPoint[] = []
  const marks = checkpoints(maxEntries, tokens)
  const started = performance.now()
  const deadline = started + maxSeconds * 1000
  let n = 0
  for (const mark of marks) {
    while (n < mark && performance.now() < deadline) {
      // sub and jti differ: every token is distinct, and each is a cache miss that fills an entry.
      const token = issuer.sign({ sub: `u${n}` })
      await verifier.verify(token)
      n += 1
    }
    const point = { tokens: n, heapMb: heapMb() - baselineMb }
    points.push(point)
    progress(`  maxEntries ${maxEntries}: ${n} tokens, heap +${point.heapMb.toFixed(1)} MB`)
    if (performance.now() >= deadline) break
  }
  verifier.close()
  const full = points.find((p) => p.tokens >= Math.min(tokens, 2 * maxEntries)) ?? points[0]!
  const afterFull = points.filter((p) => p.tokens >= full.tokens)
  return {
    maxEntries,
    tokens: n,
    seconds: (performance.now() - started) / 1000,
    baselineMb,
    points,
    fullMb: full.heapMb,
    endMb: points[points.length - 1]!.heapMb,
    maxAfterFullMb: Math.max(...afterFull.map((p) => p.heapMb)),
  }
}
