// `npm run bench`: verifications per second of jwks-bridge against bare crypto.verify and its peers
// (jose, fast-jwt, jsonwebtoken), for RS256, ES256 and EdDSA. A benchmark, not a test: it prints
// figures and asserts nothing about them. It measures the built package (dist/), as users get it.
//
// Environment:
//   BENCH_SECONDS  seconds per case per round (default 1)
//   BENCH_ROUNDS   timed rounds (default 5)
//   BENCH_ALGS     comma-separated subset of RS256,ES256,EdDSA (default all)
//   BENCH_CASES    comma-separated subset of case ids (default all; see bench/lib/cases.ts)
//   BENCH_CLOCK    wall (default): ops per elapsed second; cpu: ops per second of CPU time the
//                  process got, steadier when other processes share the cores
import { loadavg } from 'node:os'
import { CASES } from './lib/cases.js'
import { numberFromEnv } from './lib/env.ts'
import { BENCH_ALGORITHMS, type BenchAlg, makeFixture } from './lib/fixtures.js'
import { type BenchCase, measure, type Settings } from './lib/measure.js'
import { type AlgorithmRun, detailTable, machineLines, readmeTable, targetTable } from './lib/report.js'

function listFromEnv<T extends string>(name: string, allowed: readonly T[]): T[] {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return [...allowed]
  const items = raw.split(',').map((s) => s.trim())
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new Error(`${name}: ${JSON.stringify(item)} is not one of ${allowed.join(', ')}`)
    }
  }
  return allowed.filter((a) => items.includes(a))
}

function choiceFromEnv<T extends string>(name: string, choices: readonly [T, ...T[]]): T {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return choices[0]
  const found = choices.find((choice) => choice === raw)
  if (found === undefined) throw new Error(`${name} must be one of ${choices.join(', ')}`)
  return found
}

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

async function runAlgorithm(
  alg: BenchAlg,
  caseIds: readonly string[],
  settings: Settings,
): Promise<AlgorithmRun> {
  const fixture = makeFixture(alg)
  const missing = new Map<string, string>()
  const cases: BenchCase[] = []
  for (const spec of CASES) {
    if (!caseIds.includes(spec.id)) continue
    const built = spec.build(fixture)
    if (built === undefined) {
      missing.set(spec.id, spec.missing ?? 'unsupported')
      continue
    }
    // One untimed call first: a case that does not verify the token would measure an error path.
    try {
      if (!spec.accept(await built.run())) throw new Error('the result does not carry the expected claims')
      cases.push(built)
    } catch (error) {
      const why = `failed its check: ${(error as Error).message}`
      missing.set(spec.id, why)
      progress(`${alg} ${spec.id}: ${why}`)
    }
  }
  progress(`${alg}: ${cases.length} cases, warming up`)
  const { results, cpuShare } = await measure(cases, settings, (line) => progress(`${alg}: ${line}`))
  return { alg, results, missing, cpuShare }
}

async function main(): Promise<void> {
  const seconds = numberFromEnv('BENCH_SECONDS', 1, 0.05, 60)
  const settings: Settings = {
    seconds,
    rounds: Math.round(numberFromEnv('BENCH_ROUNDS', 5, 1, 50)),
    warmupSeconds: Math.min(1, Math.max(0.2, seconds)),
    clock: choiceFromEnv('BENCH_CLOCK', ['wall', 'cpu'] as const),
  }
  const algs = listFromEnv('BENCH_ALGS', BENCH_ALGORITHMS)
  const caseIds = listFromEnv(
    'BENCH_CASES',
    CASES.map((c) => c.id),
  )
  const loadAtStart = loadavg()
  const runs: AlgorithmRun[] = []
  for (const alg of algs) runs.push(await runAlgorithm(alg, caseIds, settings))

  const labels = CASES.filter((c) => caseIds.includes(c.id))
  const targets = targetTable(runs)
  const out = [
    '## Verifier benchmark',
    '',
    ...machineLines(settings, loadAtStart, runs),
    '',
    ...runs.flatMap((run) => [...detailTable(run, labels), '']),
    '### Targets',
    '',
    ...targets.lines,
    '',
    '### For the README',
    '',
    ...readmeTable(runs, labels),
    '',
  ]
  process.stdout.write(`${out.join('\n')}\n`)
  const failed = runs.some((run) => [...run.missing.values()].some((why) => why.startsWith('failed')))
  if (failed) {
    process.stderr.write('some cases failed their correctness check: their figures are missing\n')
    process.exitCode = 1
  }
}

await main()
