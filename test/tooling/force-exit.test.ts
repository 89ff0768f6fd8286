// The test runner's own configuration: with --test-force-exit, no test result may go missing.
// nodejs/node#64833: a test file's process reports through a non-blocking pipe, and the forced
// process.exit() dropped what was still queued, so a green run could count fewer tests than ran (a
// whole describe of test/rules/weak-keys.test.ts was missing from one fresh-clone CI run here).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const PRELOAD = join(root, 'scripts/blocking-stdout.mjs')
const FILES = 8
const TESTS_PER_FILE = 200

function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_TEST_CONTEXT
  return env
}

/** Runs FILES files of TESTS_PER_FILE passing tests (long names: much to report) as the runner does. */
function countReported(extraArgs: string[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-force-exit-'))
  try {
    const files: string[] = []
    for (let f = 1; f <= FILES; f++) {
      const file = join(dir, `f${f}.test.mjs`)
      writeFileSync(
        file,
        `import { test } from 'node:test'\nfor (let i = 1; i <= ${TESTS_PER_FILE}; i++) test(\`t\${i} \${'x'.repeat(2000)}\`, () => {})\n`,
      )
      files.push(file)
    }
    const run = spawnSync(
      process.execPath,
      ['--test', '--test-concurrency=2', '--test-force-exit', '--test-reporter=tap', ...extraArgs, ...files],
      // Without NODE_TEST_CONTEXT (set in test processes), which would make this run report to a parent
      // runner in its own format instead of printing TAP.
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, env: withoutTestContext() },
    )
    assert.equal(run.status, 0, run.stderr)
    const total = /^# tests (\d+)$/m.exec(run.stdout)
    assert.ok(total, 'the run printed its total')
    return Number(total[1])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
const hasForceExit = major > 20 || (major === 20 && minor >= 14)

describe('npm test with --test-force-exit loses no result (nodejs/node#64833)', {
  skip: !hasForceExit && 'no --test-force-exit before Node 20.14',
}, () => {
  it('every test of every file is reported, with the blocking-stdout preload', () => {
    assert.equal(countReported(['--import', pathToFileURL(PRELOAD).href]), FILES * TESTS_PER_FILE)
  })

  it('scripts/run-tests.mjs passes the preload wherever it passes --test-force-exit', () => {
    const source = readFileSync(join(root, 'scripts/run-tests.mjs'), 'utf8')
    assert.match(
      source,
      /\['--test-force-exit', '--import', pathToFileURL\(join\(root, 'scripts\/blocking-stdout\.mjs'\)\)\.href\]/,
    )
  })
})
