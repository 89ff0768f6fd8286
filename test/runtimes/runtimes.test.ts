// Bun and Deno, installed from the npm registry as dev dependencies (the `bun` and `deno` packages
// ship their binaries), run test/runtimes/suite.runtime.mjs against the built package (dist/, which
// `npm ci` builds through `prepare`): the adapter conformance suite on Bun.serve and Deno.serve, the
// verifier with a remote key set, a real sign-in over HTTP with the memory, PostgreSQL, Redis and the
// runtime's own SQLite stores, and the store conformance suites on that SQLite.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const SUITE = './test/runtimes/suite.runtime.mjs'

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' }
    delete env.NODE_OPTIONS
    const child = spawn(join(root, 'node_modules/.bin', command), args, { cwd: root, env })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** What the runtime's run must show: each part of the suite ran (names as the suite prints them). */
function assertRan(output: string, runtime: 'Bun' | 'Deno', sqlite: string): void {
  for (const part of [
    `Adapter conformance: fetch on ${runtime}.serve`,
    `Adapter conformance: Hono on ${runtime}.serve`,
    'an oversized chunked body (no Content-Length) is refused with 413 while it is read',
    'follows a rotation to a new kid',
    `SessionStore conformance: ${sqlite} on ${runtime}`,
    `SignInTransaction conformance: ${sqlite} on ${runtime}`,
    'memory: PUT /auth',
    `${sqlite}: PUT /auth`,
    'PostgreSQL: PUT /auth',
    'Redis: PUT /auth',
    'Bearer and DPoP access tokens on the runtime server',
  ]) {
    assert.ok(output.includes(part), `the ${runtime} run shows "${part}"`)
  }
}

describe('the package on Bun and Deno (from the npm registry’s bun and deno packages)', () => {
  it('dist/ is built (npm ci runs prepare; locally: npm run build)', () => {
    assert.ok(existsSync(join(root, 'dist/adapters/fetch.js')), 'dist/adapters/fetch.js: run npm run build')
  })

  it('Bun: bun test runs the runtime suite, every test passing', async () => {
    const { code, output } = await run('bun', ['test', SUITE])
    assert.equal(code, 0, output.slice(-4000))
    assert.match(output, /^ 0 fail$/m)
    assertRan(output, 'Bun', 'bun:sqlite')
  })

  it('Deno: deno test runs the runtime suite, every test passing', async () => {
    const { code, output } = await run('deno', ['test', '--allow-all', '--no-check', SUITE])
    assert.equal(code, 0, output.slice(-4000))
    assert.match(output, /\| 0 failed/)
    assertRan(output, 'Deno', 'node:sqlite')
  })
})
