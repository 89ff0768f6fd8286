import type { LoadedKeySet } from './jwks-fetch.js'
import { type KeyRow, type KeySetReport, printable, quote } from './jwks-report.js'

/**
 * The two outputs of `jwks-bridge jwks`: a table for people, one JSON object for tools. Strings from
 * the document are escaped (a kid can hold terminal control characters) and only public identifiers
 * are shown; the report itself carries no key material.
 */

/** The JSON output: `{ url, discovery, keys, problems, cache }`. */
export function renderJson(loaded: LoadedKeySet, report: KeySetReport): string {
  const { bounds, ...cache } = report.cache
  const document = {
    url: loaded.url,
    discovery: loaded.discovery ?? null,
    usableKeys: report.usableKeys,
    keys: report.keys,
    problems: report.problems,
    cache: { ...cache, minSeconds: bounds.minSeconds, maxSeconds: bounds.maxSeconds },
  }
  return `${JSON.stringify(document)}\n`
}

const PLAIN_CELL = /^[\x21-\x7e]{1,40}$/

function cell(value: string | null): string {
  if (value === null) return '-'
  return PLAIN_CELL.test(value) ? value : quote(value)
}

function sizeOrCurve(row: KeyRow): string {
  if (row.size !== null) return String(row.size)
  return cell(row.crv)
}

function table(rows: readonly KeyRow[]): string[] {
  const header = ['#', 'STATUS', 'KID', 'KTY', 'ALG', 'SIZE/CRV', 'USE', 'KEY_OPS']
  const cells = rows.map((row) => [
    String(row.index),
    row.status,
    cell(row.kid),
    cell(row.kty),
    cell(row.alg),
    sizeOrCurve(row),
    cell(row.use),
    row.key_ops === null ? '-' : row.key_ops.map((op) => cell(op)).join(','),
  ])
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => (line[column] as string).length)),
  )
  return [header, ...cells].map((line) =>
    line
      .map((text, column) => (column === line.length - 1 ? text : text.padEnd(widths[column] as number)))
      .join('  '),
  )
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

/** The readable report: source, keys, problems, cache, verdict. */
export function renderTable(loaded: LoadedKeySet, report: KeySetReport): string {
  const lines = [`Key set: ${loaded.url}`]
  if (loaded.discovery !== undefined) {
    lines.push(`Discovered from: ${loaded.discovery.url} (issuer ${quote(loaded.discovery.issuer)})`)
  }
  lines.push('')
  if (report.keys.length === 0) lines.push('No keys.')
  else lines.push(...table(report.keys))
  lines.push('')
  if (report.problems.length === 0) lines.push('Problems: none')
  else {
    lines.push(`Problems (${report.problems.length}):`)
    for (const problem of report.problems) {
      const code = problem.code === undefined ? '' : `${problem.code}: `
      lines.push(printable(`  ${problem.level.padEnd(7)}  ${code}${problem.message}`))
    }
  }
  const cache = report.cache
  const present = (value: boolean) => (value ? 'present' : 'absent')
  lines.push(
    '',
    'Cache:',
    `  Cache-Control  ${cache.cacheControl === null ? 'absent' : quote(cache.cacheControl)}`,
    `  ETag           ${present(cache.etag)}`,
    `  Last-Modified  ${present(cache.lastModified)}`,
    `  Freshness      ${cache.freshnessSeconds} s (jwks-bridge keeps a set fresh ${cache.bounds.minSeconds}-${cache.bounds.maxSeconds} s)`,
    '',
    `${plural(report.usableKeys, 'usable key')} of ${report.keys.length}.`,
  )
  return `${lines.join('\n')}\n`
}
