// One measured step of an HTTP benchmark on one app: warm-up, then the measured run with the log
// bytes the app wrote meanwhile. Handoffs use up tokens: a step that runs out of them mints a larger
// supply and runs again, and says so when even that ran out.
import type { TestIssuer } from '../../src/testing/index.ts'
import type { AppProcess } from './children.ts'
import { type LoadResult, runLoad, type Scenario } from './load.ts'
import { type ClientState, type ScenarioName, scenarioFor } from './session-client.ts'
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
async function runStep(app: AppProcess, load: Scenario, settings: StepSettings): Promise<StepResult> {
  const { seconds, warmupSeconds, connections } = settings
  if (warmupSeconds > 0) await runLoad(app, load, { seconds: warmupSeconds, connections })
  return { ...(await measured(app, load, { seconds, connections })), problems: [] }
}

/**
 * Handoff tokens for one issuer's steps, each step's minted before any app runs (minting takes no
 * CPU from a run): enough for the fastest handoff rate seen so far over warm-up and run, with a
 * margin. Every app has its own database, so each app may use each token of a step once.
 */
export class HandoffSupply {
  /** Handoffs per second: a guess before the first step, then the fastest seen. */
  #rate = 4000

  constructor(
    readonly issuer: TestIssuer,
    readonly maxTokens: number,
    readonly log: (line: string) => void,
  ) {}

  mint(settings: StepSettings): string[] {
    const perRunSeconds = settings.warmupSeconds + settings.seconds
    const wanted = Math.ceil(this.#rate * perRunSeconds * 1.5) + 20 * settings.connections
    const minted = mintBodies(this.issuer, Math.min(this.maxTokens, wanted))
    this.log(`  ${this.issuer.alg}: minted ${minted.bodies.length} tokens in ${minted.seconds.toFixed(1)} s`)
    return minted.bodies
  }

  seen(result: LoadResult): void {
    this.#rate = Math.max(this.#rate, result.requestsPerSecond)
  }
}

export interface ScenarioStep {
  client: ClientState
  supply: HandoffSupply
  /** The step's handoff tokens (supply.mint); empty for the other scenarios. */
  bodies: string[]
  /** The next bad-signature body. */
  invalidBody(): string
}

/** One scenario on one app: warm-up, then the measured run. */
export function runScenarioStep(
  app: AppProcess,
  scenario: ScenarioName,
  step: ScenarioStep,
  settings: StepSettings,
): Promise<StepResult> {
  if (scenario === 'handoff') return runHandoffStep(app, step, settings)
  const body = scenario === 'invalid' ? step.invalidBody : undefined
  return runStep(app, scenarioFor(scenario, step.client, body), settings)
}

/** The handoff: each request a fresh token, never one used before on this app. */
async function runHandoffStep(
  app: AppProcess,
  step: ScenarioStep,
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
  const { supply } = step
  if (ranOut() && step.bodies.length < supply.maxTokens) {
    // Faster than foreseen: a fresh, larger supply for this app, and the run again.
    const more = mintBodies(supply.issuer, Math.min(supply.maxTokens, step.bodies.length * 2))
    supply.log(`  ${app.name}: ran out; minted ${more.bodies.length} more in ${more.seconds.toFixed(1)} s`)
    pool = new TokenPool(more.bodies)
    maxRequests = pool.size - 2 * connections
    run = await measured(app, load, { seconds, connections, maxRequests })
  }
  const problems: string[] = []
  if (ranOut())
    problems.push(`tokens ran out after ${run.result.seconds.toFixed(1)} s (raise BENCH_MAX_TOKENS)`)
  if (pool.overdrawn > 0) problems.push(`${pool.overdrawn} requests reused a token`)
  supply.seen(run.result)
  return { ...run, problems }
}
