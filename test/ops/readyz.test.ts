// needs: redis, build
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { type Issuer, type OpsApp, serveIssuer, startOpsApp } from './fixture.ts'
import { request, until } from './http.ts'

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** A private Redis (never the machine's shared one: this test stops it). */
async function privateRedis(): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const failed = new Promise<never>((_, reject) => child.once('error', reject))
  const url = `redis://127.0.0.1:${port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await Promise.race([
      failed,
      until(
        () =>
          probe.connect().then(
            () => true,
            () => false,
          ),
        10_000,
        'the private Redis to answer',
      ),
    ])
  } finally {
    probe.disconnect()
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

describe('/healthz and /readyz', () => {
  let issuer: Issuer
  let redis: Awaited<ReturnType<typeof privateRedis>>
  let app: OpsApp

  before(async () => {
    issuer = await serveIssuer()
    redis = await privateRedis()
    app = await startOpsApp(issuer, { REDIS_URL: redis.url, REDIS_PREFIX: 'readyz-test:' })
  })
  after(async () => {
    await app?.close()
    await redis?.stop()
    await issuer?.served.close()
  })

  it('is alive and ready while SQLite and Redis answer', async () => {
    const health = await request(`${app.url}/healthz`)
    assert.equal(health.status, 200)
    assert.deepEqual(JSON.parse(health.text), { status: 'ok', pid: process.pid })
    const ready = await request(`${app.url}/readyz`)
    assert.equal(ready.status, 200)
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { sqlite: 'ok', redis: 'ok' } })
    assert.equal(ready.headers['cache-control'], 'no-store')
  })

  it('answers 503 naming Redis when it is gone, quickly, and stays alive', async () => {
    await redis.stop()
    const started = Date.now()
    const ready = await request(`${app.url}/readyz`, { timeoutMs: 5000 })
    assert.ok(Date.now() - started < 3000, 'readiness is bounded in time')
    assert.equal(ready.status, 503)
    assert.deepEqual(JSON.parse(ready.text), {
      status: 'unavailable',
      failed: ['redis'],
      checks: { sqlite: 'ok', redis: 'failed' },
    })
    assert.equal((await request(`${app.url}/healthz`)).status, 200)
  })
})
