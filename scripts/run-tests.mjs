#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in runner (tsx loads TypeScript), or the files whose
// path contains one of the arguments. Node 20's --test does not expand globs, so the files are listed
// here. First it makes sure the machine has what those files need (scripts/test-services.mjs):
// PostgreSQL and Redis (private instances on free loopback ports when none answer), Chromium.
//
//   node scripts/run-tests.mjs [--unit] [SUBSTRING ...]
//
// A test file that needs more than Node and this checkout says so in a line of its own near its top:
//   // needs: postgres, redis
// with any of: postgres, redis (the servers), chromium (a real browser), build (dist/, made by
// `npm run build`). `--unit` (npm run test:unit) runs only the files that need nothing; without it
// every file runs (npm test, what CI runs). SUBSTRINGs keep the files whose path contains one.
// TEST_TIMEOUT_MS and RUN_TIMEOUT_MS bound each test and the whole run (see below).
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { prepareServices, needsOf as servicesOf } from './test-services.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)

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

/**
 * For --unit: no `// needs:` line, and none of the servers or the browser that the file (or a test
 * module it imports) is seen to use (scripts/test-services.mjs), so that a file added without its
 * line still stays out of the unit run.
 */
function needsNothing(file) {
  if (needsOf(file).length > 0) return false
  const seen = servicesOf([file])
  return !seen.postgres && !seen.redis && !seen.chromium
}

const args = process.argv.slice(2)
const unit = args.includes('--unit')
const filters = args.filter((arg) => arg !== '--unit')
const files = collect('test', [])
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .filter((f) => !unit || needsNothing(f))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}

// Registered before any private server starts, so that this runs before private-services.ts's own
// handler (which stops those servers and exits): a signal sent to this process alone is passed on to
// the runner (Ctrl-C reaches both already: same process group).
let runner
let servicesStarted = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    runner?.kill(signal)
    if (!servicesStarted) process.exit(128 + constants.signals[signal])
  })
}

// Bounds, so that a stuck test fails with its name instead of holding CI until its own limit:
// - each test (and hook) gets TEST_TIMEOUT_MS;
// - a file whose tests have ended exits even if a socket, timer or child is left open (Node 20's
//   runner otherwise waits for that file forever, and prints nothing of the files after it);
// - the whole run gets RUN_TIMEOUT_MS, after which the test processes still running are named and
//   everything is stopped.
const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS ?? 600_000)
const RUN_TIMEOUT_MS = Number(process.env.RUN_TIMEOUT_MS ?? 25 * 60_000)
const [major, minor] = process.versions.node.split('.').map(Number)
const forceExit =
  major > 20 || (major === 20 && minor >= 14)
    ? // With the preload that makes each test process's stdout blocking: a forced exit would otherwise
      // drop the results still queued in the pipe to the runner (scripts/blocking-stdout.mjs).
      ['--test-force-exit', '--import', pathToFileURL(join(root, 'scripts/blocking-stdout.mjs')).href]
    : []

const services = await prepareServices(files, root)
servicesStarted = services.started() > 0
const nodeArgs = [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  `--test-timeout=${TEST_TIMEOUT_MS}`,
  ...forceExit,
  ...files,
]
runner = spawn(process.execPath, nodeArgs, { stdio: 'inherit', env: services.env })
const watchdog = setTimeout(() => {
  const running = spawnSync('ps', ['-o', 'pid=,etime=,args=', '--ppid', String(runner.pid)], {
    encoding: 'utf8',
  })
  console.error(
    `\nrun-tests: the run took longer than ${Math.round(RUN_TIMEOUT_MS / 1000)} s (RUN_TIMEOUT_MS); ` +
      `test processes still running:\n${running.stdout || '(none)'}`,
  )
  for (const line of running.stdout.trim().split('\n')) {
    const pid = Number.parseInt(line, 10)
    if (pid > 0) process.kill(pid, 'SIGKILL')
  }
  runner.kill('SIGTERM')
  setTimeout(() => runner.kill('SIGKILL'), 10_000).unref()
}, RUN_TIMEOUT_MS)
watchdog.unref()
runner.on('exit', async (code, signal) => {
  clearTimeout(watchdog)
  await services.stop()
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0))
})
