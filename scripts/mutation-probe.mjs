#!/usr/bin/env node
// Mutation probe for SECURITY.md (security issue #10): each mutant removes or weakens one rule that a
// SECURITY.md row promises, then runs only the tests that row names. A mutant that no named test kills
// means the row names the wrong tests, no test covers the rule, or the rule is not in the code.
//
// Not part of `npm test` (it rewrites src/ files while it runs and takes a while). Run it on a clean
// work tree:
//   node scripts/mutation-probe.mjs                 every mutant
//   node scripts/mutation-probe.mjs tv-alg ks-      mutants whose id starts with one of these
// `timeoutMs` on a mutant bounds its run (default 10 minutes); a run cut off by it counts as killed.
// Each mutated file is restored byte for byte after its run (also on Ctrl-C). A mutant whose `find`
// text no longer occurs exactly once is reported as STALE: update the table with the code.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MUTANTS } from './mutation-probe-table.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)

const TIMEOUT_MS = 10 * 60 * 1000
// --check: only confirm that every `find` text occurs exactly once (no tests run).
const checkOnly = process.argv.includes('--check')
const filters = process.argv.slice(2).filter((a) => a !== '--check')
const chosen = MUTANTS.filter((m) => filters.length === 0 || filters.some((f) => m.id.startsWith(f)))

// Originals of the files currently mutated, restored on exit whatever happens.
const originals = new Map()
function restore() {
  for (const [file, text] of originals) writeFileSync(file, text)
  originals.clear()
}
process.on('exit', restore)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    restore()
    process.exit(130)
  })
}

function apply(mutant) {
  for (const edit of mutant.edits) {
    const text = originals.get(edit.file) ?? readFileSync(edit.file, 'utf8')
    const current = readFileSync(edit.file, 'utf8')
    const count = current.split(edit.find).length - 1
    if (count !== 1) return `STALE (${edit.file}: find text occurs ${count} times)`
    if (!originals.has(edit.file)) originals.set(edit.file, text)
    writeFileSync(
      edit.file,
      current.replace(edit.find, () => edit.replace),
    )
  }
  return undefined
}

function run(command, args, timeoutMs = TIMEOUT_MS) {
  const started = Date.now()
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 })
  const seconds = Math.round((Date.now() - started) / 1000)
  return { ...result, seconds }
}

if (checkOnly) {
  let stale = 0
  for (const mutant of chosen) {
    for (const e of mutant.edits) {
      const count = readFileSync(e.file, 'utf8').split(e.find).length - 1
      if (count !== 1) {
        stale++
        console.log(`${mutant.id}: ${e.file}: find text occurs ${count} times`)
      }
    }
  }
  console.log(`${chosen.length} mutants, ${stale} stale edits`)
  process.exit(stale === 0 ? 0 : 1)
}

// The reference app's tests serve the client bundle from dist/: without it they fail in a hook, which
// would count every mutant they run as killed. Built once from the unmutated sources.
if (
  !existsSync('dist/client/jwks-bridge-client.min.js') &&
  run('npm', ['run', '--silent', 'build']).status !== 0
) {
  console.error('npm run build failed: fix the build before probing')
  process.exit(2)
}

// Each run's test output, for a look at why a mutant was killed (or not).
const logDir = join(tmpdir(), 'mutation-probe')
mkdirSync(logDir, { recursive: true })

const rows = []
for (const mutant of chosen) {
  const stale = apply(mutant)
  let verdict
  let seconds = 0
  if (stale !== undefined) {
    verdict = stale
  } else {
    let buildFailed = false
    if (mutant.build) buildFailed = run('npm', ['run', '--silent', 'build']).status !== 0
    const result = buildFailed
      ? undefined
      : run(process.execPath, ['scripts/run-tests.mjs', ...mutant.tests], mutant.timeoutMs)
    seconds = result?.seconds ?? 0
    if (result) writeFileSync(join(logDir, `${mutant.id}.log`), `${result.stdout}\n${result.stderr}`)
    if (buildFailed) verdict = 'killed (build fails)'
    else if (result.error?.code === 'ETIMEDOUT') verdict = 'killed (timeout)'
    else if (result.status !== 0) {
      const failed = [...result.stdout.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1]).slice(-3)
      verdict = `killed${failed.length ? `: ${failed.join('; ')}` : ''}`
    } else verdict = 'SURVIVED'
  }
  restore()
  rows.push({ id: mutant.id, row: mutant.row, rule: mutant.rule, tests: mutant.tests.join(', '), verdict })
  console.log(`${mutant.id}\t${verdict.startsWith('killed') ? 'killed' : verdict}\t${seconds}s`)
}
if (chosen.some((m) => m.build)) run('npm', ['run', '--silent', 'build'])

console.log('\n| id | row | mutation | named tests | result |\n| --- | --- | --- | --- | --- |')
for (const r of rows) console.log(`| ${r.id} | ${r.row} | ${r.rule} | ${r.tests} | ${r.verdict} |`)
process.exitCode = rows.some((r) => !r.verdict.startsWith('killed')) ? 1 : 0
