// needs: build
// `npm start`'s code path as a process: `node dist/cli/main.js serve`, run in an empty directory as
// a fresh clone would (SQLite under ./data/ there), with --port 0, stopped with SIGTERM.
//
// The package is compiled here into a temp dir (tsc with the build settings, plus the client bundle
// from scripts/build-client.mjs), not taken from dist/: dist/ may be stale after an edit, and
// `npm run build` empties it first, which would pull it from under other tests running meanwhile.
// package.json is copied next to it (it makes the .js files ES modules and lets the app find its own
// client bundle by the package's name) and node_modules is linked, as in an installed package.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { bundleClient } from '../../scripts/build-client.mjs'

const root = fileURLToPath(new URL('../../', import.meta.url))
const START_MS = 15_000

let dir: string
let mainJs: string

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-serve-'))
  const out = join(dir, 'package')
  mkdirSync(join(out, 'dist/client'), { recursive: true })
  copyFileSync(join(root, 'package.json'), join(out, 'package.json'))
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir')
  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      ...['-p', join(root, 'tsconfig.build.json'), '--outDir', join(out, 'dist')],
      ...['--declaration', 'false', '--sourceMap', 'false'],
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`)
  writeFileSync(join(out, 'dist/client/jwks-bridge-client.min.js'), (await bundleClient()).iife)
  mainJs = join(out, 'dist/cli/main.js')
  // The app runs in its own empty directory, like a fresh clone.
  mkdirSync(join(dir, 'work'))
})

after(() => rmSync(dir, { recursive: true, force: true }))

interface Running {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

function serve(args: string[]): Running {
  // A clean environment: nothing from this machine's PORT, ISSUER_URL, DATABASE_URL, NODE_ENV...
  const child = spawn(process.execPath, [mainJs, 'serve', ...args], {
    cwd: join(dir, 'work'),
    env: { PATH: process.env.PATH ?? '', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** The URL from the start-up line, once it is printed; fails after a bounded time. */
async function listeningUrl(running: Running): Promise<string> {
  const deadline = Date.now() + START_MS
  for (;;) {
    const match = /^jwks-bridge reference app listening on (http:\/\/\S+)$/m.exec(running.stdout())
    if (match?.[1] !== undefined) return match[1]
    if (running.child.exitCode !== null) assert.fail(`serve exited early:\n${running.stderr()}`)
    if (Date.now() > deadline)
      assert.fail(`no "listening on" line within ${START_MS} ms:\n${running.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('jwks-bridge serve as a process (npm start)', () => {
  it('--port 0: prints the real URL, serves the page with the meta tags, stops on SIGTERM with exit 0', async () => {
    const running = serve(['--port', '0'])
    try {
      const url = await listeningUrl(running)
      const port = Number(new URL(url).port)
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(port > 0, true, 'the free port it picked, not 0')
      assert.match(running.stdout(), /development provider at http:\/\/127\.0\.0\.1:\d+\/dev-issuer/)

      const page = await fetch(`${url}/`)
      const html = await page.text()
      assert.equal(page.status, 200)
      // Booleans, not assert.match: a failure must not print the page's CSRF token.
      const has = (pattern: RegExp) => assert.equal(pattern.test(html), true, `the page has ${pattern}`)
      has(/<meta name="authentication-url" content="\/auth">/)
      has(/<meta name="has-session" content="false">/)
      has(/<meta name="csrf-token" content="[A-Za-z0-9_-]{43}">/)
      has(new RegExp(`<a id="sign-in" href="${url}/dev-issuer/sign-in\\?return_to=%2F">`))
      const bundle = await fetch(`${url}/assets/jwks-bridge-client.min.js`)
      assert.equal(bundle.status, 200)
      assert.equal((await bundle.text()).includes('JwksBridge'), true, 'the classic-script bundle')
      assert.equal((await fetch(`${url}/readyz`)).status, 200)
      assert.equal(existsSync(join(dir, 'work/data/jwks-bridge.sqlite')), true, 'SQLite under ./data/')

      running.child.kill('SIGTERM')
      const timer = setTimeout(() => running.child.kill('SIGKILL'), START_MS)
      const code = await running.exited
      clearTimeout(timer)
      assert.equal(code, 0, running.stderr())
      assert.match(running.stdout(), /^jwks-bridge serve: stopped$/m)
    } finally {
      if (running.child.exitCode === null) running.child.kill('SIGKILL')
    }
  })
})
