// The runnable examples (issue #13, "a complete, runnable example per framework"): examples/express
// and examples/fastify, each copied out of the repo with the packed tarball beside it, installed with
// npm as a user would (`file:../jwks-bridge.tgz`), started on a free loopback port, and signed in and
// out in Chromium through the development provider they mount. docs/express.md and docs/fastify.md show
// these files verbatim, and the README excerpts of them: test/docs/snippets.test.ts keeps both so.
//
// Installing: from npm's cache first (--prefer-offline), with --ignore-scripts: better-sqlite3's
// native build would download headers or prebuilt binaries (no network here but the registry) and
// take minutes, so the addon built by this repo's own install of the same version is copied in.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { freePort } from '../../src/app/free-port.ts'
import { launchChromium, skipWithoutBrowser as skip } from '../helpers/browser.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLES = ['express', 'fastify'] as const
const STEP_MS = 5000

/** Without the npm_* variables `npm test` exports (they would point a child npm back at this repo). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'NODE_ENV') env[name] = value
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`
  return { ...env, ...extra }
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${output}`))
    })
  })
}

interface Started {
  url: string
  child: ChildProcess
  output: () => string
}

/** `npm start` of an example on a free port; resolves once it says it listens. */
async function start(dir: string): Promise<Started> {
  const port = await freePort('127.0.0.1')
  const child = spawn('npm', ['start'], {
    cwd: dir,
    env: cleanEnv({ PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm and node are stopped together
  })
  let output = ''
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 15 s:\n${output}`)), 15_000)
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.includes('listening on')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', read)
    child.stderr?.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the example exited (${code}) at start:\n${output}`))
    })
  })
  await started
  return { url: `http://127.0.0.1:${port}`, child, output: () => output }
}

function stop(started: Started | undefined): void {
  if (started?.child.pid === undefined || started.child.exitCode !== null) return
  try {
    process.kill(-started.child.pid, 'SIGTERM')
  } catch {
    // Already gone.
  }
}

describe('examples/express and examples/fastify: installed from the tarball, signed in and out in Chromium', {
  skip,
  timeout: 120_000,
}, () => {
  let work: string
  let browser: Browser
  const running = new Map<string, Started>()

  before(async () => {
    assert.ok(existsSync(join(root, 'dist/index.js')), 'dist/ is missing: run `npm run build` first')
    work = mkdtempSync(join(tmpdir(), 'jwks-bridge-examples-'))
    const packed = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      root,
      30_000,
    )
    const [report] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string }[]
    assert.ok(report, 'npm pack printed no report')
    // Where the examples' package.json looks for it: "jwks-bridge": "file:../jwks-bridge.tgz".
    renameSync(join(work, report.filename), join(work, 'jwks-bridge.tgz'))
    const ours = JSON.parse(readFileSync(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8'))
    await Promise.all(
      EXAMPLES.map(async (name) => {
        const dir = join(work, name)
        cpSync(join(root, 'examples', name), dir, { recursive: true })
        // The driver's major follows the Node.js line (better-sqlite3 12 on Node 20, 13 on 22 and
        // later, as docs/install.md says; CI swaps in 13 on those lines): the copy asks for the
        // version this checkout built, whose compiled addon is copied in below.
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
        manifest.dependencies['better-sqlite3'] = ours.version
        writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
        await run(
          'npm',
          ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'],
          dir,
          90_000,
        )
        const theirs = JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8'))
        assert.equal(
          theirs.version,
          ours.version,
          'the example resolved another better-sqlite3 than the repo built',
        )
        // The compiled driver as this checkout has it (a build/Release addon for 12, a prebuilds/
        // folder for 13): the whole package folder, so either layout loads.
        const driver = join(dir, 'node_modules/better-sqlite3')
        rmSync(driver, { recursive: true, force: true })
        cpSync(join(root, 'node_modules/better-sqlite3'), driver, { recursive: true })
      }),
    )
    const [started] = await Promise.all([
      Promise.all(EXAMPLES.map(async (name) => running.set(name, await start(join(work, name))))),
      launchChromium().then((launched) => {
        browser = launched
      }),
    ])
    assert.ok(started)
  })

  after(async () => {
    for (const started of running.values()) stop(started)
    await browser?.close()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  for (const name of EXAMPLES) {
    it(`${name}: sign in on the provider's page, the script hands the token over, /me answers; sign out ends both`, async () => {
      const { url } = running.get(name) as Started
      const context = await browser.newContext()
      context.setDefaultTimeout(STEP_MS)
      context.setDefaultNavigationTimeout(STEP_MS)
      const problems: string[] = []
      try {
        const page = await context.newPage()
        page.on('console', (message) => {
          if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
        })
        page.on('pageerror', (error) => problems.push(error.message))
        page.on('response', (response) => {
          if (response.status() >= 400)
            problems.push(`${response.status()} ${new URL(response.url()).pathname}`)
        })
        await page.goto(`${url}/`)
        await page.click('#sign-in')
        await page.waitForURL((u) => u.pathname === '/dev-issuer/sign-in')
        await page.fill('#username', `${name}-user`)
        await page.click('button[type="submit"]')
        // Back on the page: app.js PUTs the token to /auth (with X-CSRF-Token), then reloads.
        await page.waitForSelector('#subject')
        assert.equal(await page.textContent('#subject'), `${name}-user`)
        const me = await page.request.get(`${url}/me`)
        assert.equal(me.status(), 200)
        assert.equal(((await me.json()) as { subject: string }).subject, `${name}-user`)

        await page.click('#sign-out')
        await page.waitForSelector('#signed-out')
        // Signed out of the provider too: a new visit does not sign the browser back in.
        await page.goto(`${url}/`)
        await page.waitForTimeout(300)
        assert.ok(await page.isVisible('#signed-out'))
        assert.equal((await page.request.get(`${url}/me`)).status(), 401)
        assert.deepEqual(problems, [], 'console errors or warnings on the example page')
      } finally {
        await context.close()
      }
    })
  }
})
