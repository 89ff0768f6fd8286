// What the benchmarks of the reference app (bench:http, bench:workers) read from the environment
// alike, and the build they run.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { integersFromEnv, listFromEnv, numberFromEnv } from '../lib/env.ts'
import { type AppProcess, spawnApp } from './children.ts'
import { ALL_SCENARIOS, type ScenarioName } from './session-client.ts'

export const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

const ALGS = ['RS256', 'ES256'] as const
export type Alg = (typeof ALGS)[number]

export interface AppBenchSettings {
  /** BENCH_ALG: the test issuer's algorithms. */
  algs: Alg[]
  /** BENCH_CONNECTIONS */
  connectionCounts: number[]
  /** BENCH_SECONDS: measured seconds per app and scenario. */
  seconds: number
  /** BENCH_WARMUP_SECONDS: unmeasured load before each run. */
  warmupSeconds: number
  /** BENCH_ROUNDS */
  rounds: number
  /** BENCH_MAX_TOKENS: most tokens minted for one handoff step. */
  maxTokens: number
  /** BENCH_SCENARIOS */
  scenarios: ScenarioName[]
}

export function appBenchSettings(defaults: {
  rounds: number
  scenarios: readonly ScenarioName[]
}): AppBenchSettings {
  return {
    algs: listFromEnv('BENCH_ALG', ALGS, ALGS),
    connectionCounts: integersFromEnv('BENCH_CONNECTIONS', [10, 64], 1, 256),
    seconds: numberFromEnv('BENCH_SECONDS', 5, 1, 60),
    warmupSeconds: numberFromEnv('BENCH_WARMUP_SECONDS', 1, 0, 10),
    rounds: numberFromEnv('BENCH_ROUNDS', defaults.rounds, 1, 9, { integer: true }),
    maxTokens: numberFromEnv('BENCH_MAX_TOKENS', 150_000, 1000, 1_000_000, { integer: true }),
    scenarios: listFromEnv('BENCH_SCENARIOS', ALL_SCENARIOS, defaults.scenarios),
  }
}

/** The reference app runs from dist/, as `npm start` does: without a build, say so and exit. */
export function exitUnlessBuilt(): void {
  if (
    !existsSync(join(packageRoot, 'dist/client/jwks-bridge-client.min.js')) ||
    !existsSync(join(packageRoot, 'dist/cli/main.js'))
  ) {
    process.stderr.write(
      'The reference app runs from dist/, as `npm start` does: run `npm run build` first.\n',
    )
    process.exit(1)
  }
}

/**
 * Starts the reference app exactly as `npm start` runs it (`dist/cli/main.js serve`), configured as a
 * production deployment would be: trusting the test issuer, with `env` (store, log level, metrics) on
 * top; nothing else from this process's environment leaks in (children.ts passes PATH only).
 */
export function spawnReferenceApp(
  name: string,
  options: {
    alg: Alg
    issuerUrl: string
    jwksUri: string
    env: Record<string, string>
    args?: string[]
    cpuProfDir?: string | undefined
    /** Another checkout whose build runs instead of this one's (an A/B of two versions). */
    checkout?: string | undefined
  },
): Promise<AppProcess> {
  return spawnApp(name, join(options.checkout ?? packageRoot, 'dist/cli/main.js'), {
    args: options.args ?? ['serve'],
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      ISSUER_URL: options.issuerUrl,
      JWKS_URI: options.jwksUri,
      ALGORITHMS: options.alg,
      ...options.env,
    },
    urlFromLine: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1],
    cpuProfDir: options.cpuProfDir,
  })
}
