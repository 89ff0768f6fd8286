// needs: build
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Issuer, sample, serveIssuer } from './fixture.ts'
import { request, signIn, until } from './http.ts'
import { exitWithin, type ServeProcess, startServe } from './serve-process.ts'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('jwks-bridge serve --workers (node:cluster)', () => {
  let issuer: Issuer
  let dir: string
  let serve: ServeProcess | undefined

  before(async () => {
    issuer = await serveIssuer()
    dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-cluster-'))
  })
  after(async () => {
    serve?.kill()
    await issuer?.served.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('shares one port and one SQLite file between two workers, replaces a crashed one, stops on SIGTERM', async () => {
    serve = await startServe(['--port', '0', '--workers', '2'], {
      ...issuer.env,
      SQLITE_PATH: join(dir, 'app.sqlite'),
    })
    assert.match(serve.stdout(), /with 2 worker\(s\) \(pids \d+, \d+\)/)
    const session = await signIn(serve.url, issuer.idp.sign({ sub: 'cluster-user' }))

    // Each request on a new connection: the primary hands connections to the workers in turn.
    const pids = new Set<string>()
    const ids = new Set<string>()
    const ME_REQUESTS = 20
    for (let i = 0; i < ME_REQUESTS; i++) {
      const me = await request(`${serve.url}/me`, { headers: { cookie: session } })
      assert.equal(me.status, 200)
      pids.add(String(me.headers['x-worker']))
      ids.add((JSON.parse(me.text) as { id: string }).id)
    }
    assert.equal(pids.size, 2, 'answers came from two worker processes')
    assert.equal(ids.size, 1, 'every worker found the same identity in the shared SQLite file')

    // /metrics on any worker covers the cluster: the primary sums every worker's counters.
    const metrics = await request(`${serve.url}/metrics`)
    assert.equal(metrics.status, 200)
    assert.equal(
      sample(metrics.text, 'jwks_bridge_session_validations_total', { result: 'valid' }),
      ME_REQUESTS,
    )
    assert.equal(sample(metrics.text, 'jwks_bridge_sessions_created_total'), 1)

    // A worker killed outright is replaced; the session survives (it lives in SQLite).
    const [victim] = [...pids].map(Number)
    process.kill(victim as number, 'SIGKILL')
    const seen = new Set<string>()
    await until(
      async () => {
        const me = await request(`${serve?.url}/me`, { headers: { cookie: session } }).catch(() => undefined)
        if (me?.status === 200) seen.add(String(me.headers['x-worker']))
        return [...seen].some((pid) => !pids.has(pid))
      },
      15_000,
      'a replacement worker to answer',
    )
    assert.match(serve.stderr(), /stopped \(signal SIGKILL\); starting another \(1 of 5 restarts/)

    const workers = [...new Set([...pids, ...seen])].map(Number).filter((pid) => pid !== victim)
    serve.child.kill('SIGTERM')
    assert.equal(await exitWithin(serve, 15_000), 0)
    assert.match(serve.stdout(), /jwks-bridge serve: stopped/)
    for (const pid of workers) assert.equal(alive(pid), false, 'no worker outlives the primary')
  })

  it('refuses several workers with the development provider, and says why', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', '2', '--port', '0'],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        env: { PATH: process.env.PATH ?? '', SQLITE_PATH: join(dir, 'dev.sqlite') },
        encoding: 'utf8',
        timeout: 15_000,
      },
    )
    assert.equal(result.status, 2)
    assert.match(
      result.stderr,
      /--workers 2 needs ISSUER_URL: the development identity provider keeps its signing keys/,
    )
    assert.equal(result.stdout, '')
  })

  it('stops the start-up at once when a worker cannot start (exit 1, no restart loop)', () => {
    const started = Date.now()
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', '2', '--port', '0'],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        env: {
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'silent',
          ISSUER_URL: issuer.env.ISSUER_URL as string,
          // Nothing listens on port 1: every worker fails to open its stores.
          DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
        },
        encoding: 'utf8',
        timeout: 20_000,
      },
    )
    assert.equal(result.status, 1)
    assert.match(result.stderr, /ERR_STORE_UNAVAILABLE: PostgreSQL store: migrate failed \(ECONNREFUSED\)/)
    assert.match(result.stderr, /a worker could not start \(exit code 1\); see its output above\. Stopping\./)
    assert.doesNotMatch(result.stderr, /starting another/)
    assert.ok(Date.now() - started < 15_000)
  })

  it('refuses a bad worker count', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', 'many'],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
        timeout: 15_000,
      },
    )
    assert.equal(result.status, 2)
    assert.match(result.stderr, /--workers takes a number from 1 to 256, or 0 or auto/)
  })
})
