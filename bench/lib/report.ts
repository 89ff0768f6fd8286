// Turns the measured rounds into the printed report: machine, method, per-algorithm detail with
// ratios to every peer, the targets with PASS/MISS, and a Markdown table for the README.
import { type ExecFileSyncOptionsWithStringEncoding, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, platform, release } from 'node:os'
import type { BenchAlg } from './fixtures.js'
import { type CaseResult, median, pairedRatio, type Settings, spread } from './measure.js'

export interface AlgorithmRun {
  alg: BenchAlg
  results: CaseResult[]
  /** Case id → why it has no figures (unsupported, or failed its correctness check). */
  missing: Map<string, string>
  /** Per round: CPU time the process got / wall time. */
  cpuShare: number[]
}

export interface CaseLabel {
  id: string
  label: string
}

const ROOT = new URL('../../', import.meta.url)

function packageVersion(relativeDir: string): string {
  try {
    const text = readFileSync(new URL(`${relativeDir}package.json`, ROOT), 'utf8')
    return (JSON.parse(text) as { version?: string }).version ?? '?'
  } catch {
    return 'not installed'
  }
}

function gitState(): string {
  try {
    const opts: ExecFileSyncOptionsWithStringEncoding = {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], opts).trim() !== ''
    return dirty ? `git ${head} + uncommitted changes in src/` : `git ${head}`
  } catch {
    return 'not a git checkout'
  }
}

/**
 * How much of the wall time the benchmark had the CPU. A round well under 100% means other
 * processes competed for the cores: its figures are low and the comparison noisier.
 */
function cpuShareLine(runs: readonly AlgorithmRun[]): string {
  const shares = runs.flatMap((run) => run.cpuShare)
  if (shares.length === 0) return '- CPU share: nothing measured'
  const low = Math.min(...shares)
  const verdict =
    low >= 0.95
      ? 'the benchmark had a core to itself'
      : 'other processes took CPU time during some rounds: figures are low and noisier than usual'
  return `- CPU share (process CPU time / wall time, lowest and median round): ${(low * 100).toFixed(0)}%, ${(
    median(shares) * 100
  ).toFixed(0)}%; ${verdict}`
}

function methodLine(settings: Settings): string {
  const clock =
    settings.clock === 'cpu'
      ? 'ops/s counts CPU seconds of this process, not elapsed seconds (BENCH_CLOCK=cpu: time spent ' +
        'waiting, e.g. for the thread pool that runs WebCrypto for jose, is not counted); '
      : ''
  return (
    `- method: ${settings.warmupSeconds} s warm-up per case, then ${settings.rounds} rounds of ` +
    `${settings.seconds} s per case; within a round the cases take turns in slices of at most 100 ms, ` +
    'in an order that rotates each round; async APIs are awaited one call at a time (as a request ' +
    `handler would); ${clock}ops/s is the median over rounds, spread is (max - min) / median; ratios ` +
    'are the median of the per-round ratios'
  )
}

export function machineLines(
  settings: Settings,
  loadAtStart: number[],
  runs: readonly AlgorithmRun[],
): string[] {
  const cpu = cpus()
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(' ')
  return [
    `- machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} logical CPUs), ${platform()} ${release()}`,
    `- load average (1, 5, 15 min): ${load(loadAtStart)} at start, ${load(loadavg())} at end`,
    cpuShareLine(runs),
    `- Node.js ${process.version}, OpenSSL ${process.versions.openssl}, V8 ${process.versions.v8}`,
    `- jwks-bridge ${packageVersion('')} (dist/, ${gitState()}), jose ${packageVersion('node_modules/jose/')}, ` +
      `fast-jwt ${packageVersion('node_modules/fast-jwt/')}, jsonwebtoken ${packageVersion('node_modules/jsonwebtoken/')}`,
    methodLine(settings),
    "- bare `crypto.verify`: the token's signing input and signature as pre-made Buffers and a pre-imported " +
      'KeyObject, no parsing and no claim checks: the physical limit, not a usable verifier',
    '- every verifier checks signature, algorithm allowlist, issuer, audience, exp and nbf on the same token ' +
      '(iss, sub, aud, iat, nbf, exp and 8 profile claims; a 3-key JWKS for those that take one; fast-jwt and ' +
      'jsonwebtoken get the one key, as PEM and KeyObject); cache hits repeat that one token',
  ]
}

const ops = (value: number): string => Math.round(value).toLocaleString('en-US')
const times = (value: number): string => `${value.toFixed(2)}×`
const percent = (value: number): string => `${(value * 100).toFixed(1)}%`

function samplesOf(run: AlgorithmRun, id: string): number[] | undefined {
  return run.results.find((r) => r.id === id)?.samples
}

function ratio(run: AlgorithmRun, a: string, b: string): number | undefined {
  const x = samplesOf(run, a)
  const y = samplesOf(run, b)
  return x && y ? pairedRatio(x, y) : undefined
}

export function detailTable(run: AlgorithmRun, labels: readonly CaseLabel[]): string[] {
  const lines = [
    `### ${run.alg}`,
    '',
    '| case | ops/s (median) | spread | × bare | jwks-bridge (cache off) ÷ case | jwks-bridge (hit) ÷ case |',
    '|---|---:|---:|---:|---:|---:|',
  ]
  for (const { id, label } of labels) {
    const samples = samplesOf(run, id)
    if (samples === undefined) {
      const why = run.missing.get(id)
      if (why !== undefined) lines.push(`| ${label} | ${why} | | | | |`)
      continue
    }
    const cell = (r: number | undefined): string => (r === undefined ? 'n/a' : times(r))
    lines.push(
      `| ${label} | ${ops(median(samples))} | ${percent(spread(samples))} | ${cell(ratio(run, id, 'bare'))} | ` +
        `${cell(ratio(run, 'jwks-bridge', id))} | ${cell(ratio(run, 'jwks-bridge-hit', id))} |`,
    )
  }
  return lines
}

interface Target {
  name: string
  a: string
  b: string
  min: number
  /** Algorithms the target applies to; for the others the ratio is shown for information. */
  algs: readonly BenchAlg[]
}

const TARGETS: readonly Target[] = [
  {
    name: 'jwks-bridge (cache off) / bare `crypto.verify`',
    a: 'jwks-bridge',
    b: 'bare',
    min: 0.85,
    algs: ['RS256', 'ES256', 'EdDSA'],
  },
  { name: 'jwks-bridge (cache off) / jose', a: 'jwks-bridge', b: 'jose', min: 2.5, algs: ['RS256'] },
  {
    name: 'jwks-bridge cache hit / fast-jwt cache hit',
    a: 'jwks-bridge-hit',
    b: 'fast-jwt-hit',
    min: 1,
    algs: ['RS256', 'ES256', 'EdDSA'],
  },
]

export function targetTable(runs: readonly AlgorithmRun[]): { lines: string[]; missed: number } {
  let missed = 0
  const lines = [
    `| target | ${runs.map((r) => r.alg).join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
  ]
  for (const target of TARGETS) {
    const cells = runs.map((run) => {
      const r = ratio(run, target.a, target.b)
      if (r === undefined) return 'n/a'
      if (!target.algs.includes(run.alg)) return `${times(r)} (no target)`
      if (r < target.min) missed++
      return `${times(r)} ${r >= target.min ? 'PASS' : 'MISS'}`
    })
    lines.push(`| ${target.name} ≥ ${target.min} | ${cells.join(' | ')} |`)
  }
  return { lines, missed }
}

/** One row per case, one column per algorithm: median ops/s and the ratio to bare crypto.verify. */
export function readmeTable(runs: readonly AlgorithmRun[], labels: readonly CaseLabel[]): string[] {
  const lines = [
    `| verifier | ${runs.map((r) => `${r.alg} ops/s (× bare)`).join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
  ]
  for (const { id, label } of labels) {
    const cells = runs.map((run) => {
      const samples = samplesOf(run, id)
      if (samples === undefined) return run.missing.get(id) ?? 'not run'
      const r = ratio(run, id, 'bare')
      return r === undefined ? ops(median(samples)) : `${ops(median(samples))} (${times(r)})`
    })
    if (cells.every((c) => c === 'not run')) continue
    lines.push(`| ${label} | ${cells.join(' | ')} |`)
  }
  return lines
}
