#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in runner (tsx loads TypeScript).
// Node 20's --test does not expand globs, so the files are listed here.
//
//   node scripts/run-tests.mjs [--unit] [SUBSTRING ...]
//
// A test file that needs more than Node and this checkout says so in a line of its own near its top:
//   // needs: postgres, redis
// with any of: postgres, redis (the servers on 127.0.0.1), chromium (a real browser), build (dist/,
// made by `npm run build`). `--unit` (npm run test:unit) runs only the files that need nothing; without
// it every file runs (npm test, what CI runs). SUBSTRINGs keep the files whose path contains one.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const NEEDS = /^\/\/ needs: ([a-z]+(?:, [a-z]+)*)$/m
const KNOWN_NEEDS = new Set(['postgres', 'redis', 'chromium', 'build'])

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) collect(path, out)
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

/** What a test file says it needs (its `// needs:` line, in the first 2,000 characters). */
function needsOf(file) {
  const match = NEEDS.exec(readFileSync(file, 'utf8').slice(0, 2000))
  if (match === null) return []
  const needs = match[1].split(', ')
  for (const need of needs) {
    // A misspelt need would quietly put a service test into the unit run.
    if (!KNOWN_NEEDS.has(need)) {
      console.error(`${file}: unknown need "${need}" (known: ${[...KNOWN_NEEDS].join(', ')})`)
      process.exit(2)
    }
  }
  return needs
}

const args = process.argv.slice(2)
const unit = args.includes('--unit')
const filters = args.filter((arg) => arg !== '--unit')
const files = collect('test', [])
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .filter((f) => !unit || needsOf(f).length === 0)
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const nodeArgs = ['--import', 'tsx', '--test', '--test-concurrency=2', ...files]
const result = spawnSync(process.execPath, nodeArgs, { stdio: 'inherit' })
process.exit(result.status ?? 1)
