// Shared fast-check parameters: a fixed seed so that CI runs the same cases every time, and
// FC_SEED to explore other ones (or to replay a failure reported with its seed).
import type { Parameters } from 'fast-check'

const DEFAULT_SEED = 0x0f5eed

function seedFromEnv(): number {
  const raw = process.env.FC_SEED
  if (raw === undefined || raw === '') return DEFAULT_SEED
  const seed = Number(raw)
  if (!Number.isSafeInteger(seed)) throw new Error('FC_SEED must be an integer')
  return seed
}

export const SEED = seedFromEnv()

/** Parameters for one property: the shared seed and a bounded number of runs. */
export function params<T = void>(numRuns: number): Parameters<T> {
  return { seed: SEED, numRuns }
}
