// needs: build
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { request } from './http.ts'
import { exitWithin, startServe } from './serve-process.ts'

const ROOT = join(import.meta.dirname, '..', '..')

/** Runs `source` (an ES module) in a fresh Node process with tsx; resolves with its exit and output. */
function runScript(
  dir: string,
  source: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(file, source)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error('the script did not finish in 20 s'))
    }, 20_000)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('the log destination: lines batched, none lost on the way out', () => {
  let dir: string
  const module = pathToFileURL(join(ROOT, 'src/app/log-destination.ts')).href

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-log-destination-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('writes every line in order, the last batch when the process ends on its own', async () => {
    const { code, stdout } = await runScript(
      dir,
      `import { createLogDestination } from '${module}'
const log = createLogDestination()
for (let i = 0; i < 1000; i++) log.write('{"n":' + i + '}\\n')
process.stdout.write('')
`,
    )
    assert.equal(code, 0)
    const numbers = stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { n: number }).n)
    assert.deepEqual(
      numbers,
      Array.from({ length: 1000 }, (_, i) => i),
    )
  })

  it('a crash (uncaught exception) still delivers the lines of the last batch', async () => {
    const { code, stdout, stderr } = await runScript(
      dir,
      `import { createLogDestination } from '${module}'
const log = createLogDestination()
log.write('{"msg":"before the crash"}\\n')
throw new Error('crash')
`,
    )
    assert.equal(code, 1, stderr)
    assert.equal(stdout, '{"msg":"before the crash"}\n')
  })

  it('process.exit() right after a write still delivers the line', async () => {
    const { code, stdout } = await runScript(
      dir,
      `import { createLogDestination } from '${module}'
const log = createLogDestination()
log.write('{"msg":"last words"}\\n')
process.exit(3)
`,
    )
    assert.equal(code, 3)
    assert.equal(stdout, '{"msg":"last words"}\n')
  })
})

describe('jwks-bridge serve logs through it: the access line of a request answered just before SIGTERM reaches stdout', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-log-shutdown-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('writes the line before it exits', async () => {
    const serve = await startServe(['--port', '0'], { SQLITE_PATH: join(dir, 'a.sqlite'), LOG_LEVEL: 'info' })
    try {
      const answer = await request(`${serve.url}/me`)
      serve.child.kill('SIGTERM')
      assert.equal(answer.status, 401)
      const id = String(answer.headers['x-request-id'])
      assert.equal(await exitWithin(serve, 8000), 0)
      const lines = serve
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
      const access = lines.filter((line) => line.reqId === id)
      assert.deepEqual(
        access.map((line) => [line.msg, (line.res as { statusCode?: number } | undefined)?.statusCode]),
        [['request completed', 401]],
      )
      assert.match(serve.stdout(), /jwks-bridge serve: stopped\n$/)
    } finally {
      serve.kill()
    }
  })
})
