// The HTTP benchmarks' report: numbers formatted alike, one measured run per table row (requests/s,
// latency, statuses, CPU, log), and the run that stands for several rounds.
import { cpus } from 'node:os'
import type { LoadResult } from './load.ts'
import { EXPECTED_STATUS, type ScenarioName } from './session-client.ts'
import type { StepResult } from './steps.ts'

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a'

export const pct = (share: number) => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a')

// CPU time per request is far less sensitive than requests/s to what else the machine is running.
export const cpuPerRequestUs = (r: LoadResult) => (r.serverCpuShare * r.seconds * 1e6) / r.responses

/** A step's result as a table row. */
export interface MeasuredRow extends StepResult {
  scenario: ScenarioName
  /** Information only. */
  notes: string[]
}

/** Whether the run measured what it should: every status the expected one, no problem. */
export const clean = (row: MeasuredRow) => row.result.unexpected === 0 && row.problems.length === 0

function non2xx(row: MeasuredRow): string {
  const r = row.result
  const other = Object.entries(r.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0)
  const parts = [fmt(other)]
  if (row.scenario === 'invalid' && r.unexpected === 0) parts[0] = `${fmt(other)} (all 401, expected)`
  else if (r.unexpected > 0) {
    const detail = Object.entries(r.statuses)
      .filter(([status]) => Number(status) !== EXPECTED_STATUS[row.scenario])
      .map(([status, count]) => `${fmt(count)}× ${status}`)
      .join(', ')
    parts.push(`unexpected: ${detail}`)
  }
  if (r.errors > 0 || r.timeouts > 0) parts.push(`${r.errors} errors, ${r.timeouts} timeouts`)
  return [...parts, ...row.problems, ...row.notes].join('; ')
}

/** The detail table's heading; `eventLoop` names what the event loop column covers. */
export function detailHeader(eventLoop = 'event loop'): string[] {
  return [
    `| scenario | app | requests/s | p50 ms | p99 ms | non-2xx | server CPU (loader) | ${eventLoop}: on CPU / waiting | server CPU µs/request | log bytes/request |`,
    '|---|---|---:|---:|---:|---|---:|---:|---:|---:|',
  ]
}

export function detailRow(scenarioLabel: string, appLabel: string, row: MeasuredRow): string {
  const r = row.result
  return `| ${scenarioLabel} | ${appLabel} | ${fmt(r.requestsPerSecond)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${non2xx(row)} | ${pct(r.serverCpuShare)} (${pct(r.loaderCpuShare)}) | ${pct(r.mainCpuShare)} / ${pct(r.mainWaitShare)} | ${fmt(cpuPerRequestUs(r))} | ${fmt(row.logBytesPerRequest)} |`
}

/**
 * With several rounds, the median run (by requests/s) stands for them, carrying every round's
 * problems and, as a note, each round's requests/s.
 */
export function medianRun<R extends MeasuredRow>(runs: readonly R[]): R | undefined {
  const sorted = [...runs].sort((a, b) => a.result.requestsPerSecond - b.result.requestsPerSecond)
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  if (median === undefined) return undefined
  const problems = [...new Set(runs.flatMap((run) => run.problems))]
  const notes: string[] = []
  if (runs.length > 1)
    notes.push(
      `median of ${runs.length}: ${sorted.map((run) => fmt(run.result.requestsPerSecond)).join(', ')}/s`,
    )
  return { ...median, problems, notes }
}

/** The report's first lines: the machine, and how busy it was before and after. */
export function machineHeader(loadBefore: readonly number[], loadAfter: readonly number[]): string[] {
  const cpu = cpus()
  const loads = (values: readonly number[]) => values.map((l) => l.toFixed(2)).join(', ')
  return [
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores (shared with other processes), Node ${process.version}, ${process.platform}`,
    `- Load average (1, 5, 15 min) before: ${loads(loadBefore)}; after: ${loads(loadAfter)}`,
  ]
}
