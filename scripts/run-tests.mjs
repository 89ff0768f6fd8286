#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in runner (tsx loads TypeScript), or the files whose
// path contains one of the arguments. Node 20's --test does not expand globs, so the files are listed
// here. First it makes sure the machine has what those files need (scripts/test-services.mjs):
// PostgreSQL and Redis (private instances on free loopback ports when none answer), Chromium.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareServices } from './test-services.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) collect(path, out)
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

const filters = process.argv.slice(2)
const files = collect('test', []).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
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

const services = await prepareServices(files, root)
servicesStarted = services.started() > 0
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', ...files]
runner = spawn(process.execPath, args, { stdio: 'inherit', env: services.env })
runner.on('exit', async (code, signal) => {
  await services.stop()
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0))
})
