// One measured step of an HTTP benchmark on one app: warm-up, then the measured run with the log
// bytes the app wrote meanwhile. Handoffs use up tokens: a step that runs out of them mints a larger
// supply and runs again, and says so when even that ran out.
import type { TestIssuer } from '../../src/testing/index.ts'
import type { AppProcess } from './children.ts'
import { type LoadResult, runLoad, type Scenario } from './load.ts'
import { type ClientState, scenarioFor } from './session-client.ts'
import { mintBodies, TokenPool } from './tokens.ts'

export interface StepSettings {
  seconds: number
  warmupSeconds: number
  connections: number
}

export interface StepResult {
  result: LoadResult
  /** Bytes of log the app wrote per response during the measured run. */
  logBytesPerRequest: number
  /** What makes the run not measure what it should (a reused token, tokens ran out). */
  problems: string[]
}

/** Runs a measured load and counts the log bytes the app wrote meanwhile. */
async function measured(
  app: AppProcess,
  scenario: Scenario,
  options: Parameters<typeof runLoad>[2],
): Promise<Omit<StepResult, 'problems'>> {
  const before = app.stdoutBytes()
  const result = await runLoad(app, scenario, options)
  // The last lines may still be in the pipe: give the drain a moment.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return { result, logBytesPerRequest: (app.stdoutBytes() - before) / Math.max(1, result.responses) }
}

/** A scenario that uses nothing up (GET /me, the bad signature): warm-up, then the measured run. */
export async function runStep(app: AppProcess, load: Scenario, settings: StepSettings): Promise<StepResult> {
  const { seconds, warmupSeconds, connections } = settings
  if (warmupSeconds > 0) await runLoad(app, load, { seconds: warmupSeconds, connections })
  return { ...(await measured(app, load, { seconds, connections })), problems: [] }
}

/**
 * How many handoff tokens to mint before a step: enough for the fastest rate seen so far (`rate`
 * handoffs per second; a guess before the first step) over warm-up and run, with a margin.
 */
export function handoffSupply(rate: number, settings: StepSettings, maxTokens: number): number {
  const perRunSeconds = settings.warmupSeconds + settings.seconds
  return Math.min(maxTokens, Math.ceil(rate * perRunSeconds * 1.5) + 20 * settings.connections)
}

export interface HandoffStep {
  issuer: TestIssuer
  client: ClientState
  /** The step's supply, minted before any app ran; each app uses each token once (its own database). */
  bodies: string[]
  maxTokens: number
  log(line: string): void
}

/** The handoff: each request a fresh token, never one used before on this app. */
export async function runHandoffStep(
  app: AppProcess,
  step: HandoffStep,
  settings: StepSettings,
): Promise<StepResult> {
  const { seconds, warmupSeconds, connections } = settings
  let pool = new TokenPool(step.bodies)
  const load = scenarioFor('handoff', step.client, () => pool.take())
  if (warmupSeconds > 0)
    await runLoad(app, load, {
      seconds: warmupSeconds,
      connections,
      maxRequests: Math.max(connections, pool.size - 4 * connections),
    })
  let maxRequests = pool.size - pool.used - 2 * connections
  let run = await measured(app, load, { seconds, connections, maxRequests })
  const ranOut = () =>
    run.result.responses >= maxRequests - connections && run.result.seconds < seconds * 0.95
  if (ranOut() && step.bodies.length < step.maxTokens) {
    // Faster than foreseen: a fresh, larger supply for this app, and the run again.
    const more = mintBodies(step.issuer, Math.min(step.maxTokens, step.bodies.length * 2))
    step.log(`  ${app.name}: ran out; minted ${more.bodies.length} more in ${more.seconds.toFixed(1)} s`)
    pool = new TokenPool(more.bodies)
    maxRequests = pool.size - 2 * connections
    run = await measured(app, load, { seconds, connections, maxRequests })
  }
  const problems: string[] = []
  if (ranOut())
    problems.push(`tokens ran out after ${run.result.seconds.toFixed(1)} s (raise BENCH_MAX_TOKENS)`)
  if (pool.overdrawn > 0) problems.push(`${pool.overdrawn} requests reused a token`)
  return { ...run, problems }
}
