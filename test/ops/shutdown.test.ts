// needs: build
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { request, until } from './http.ts'
import { exitWithin, type ServeProcess, startServe } from './serve-process.ts'

/**
 * Opens a connection and sends a PUT /auth whose body is announced but held back: the request is in
 * flight (headers read, handler waiting for the body) until `finish()` sends the rest.
 */
async function slowRequest(url: string) {
  const { hostname, port } = new URL(url)
  const socket: Socket = connect(Number(port), hostname)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let answer = ''
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('utf8')
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const body = JSON.stringify({ jwt: 'x'.repeat(40) })
  socket.write(
    `PUT /auth HTTP/1.1\r\nHost: ${hostname}:${port}\r\nOrigin: ${url}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  )
  return {
    finish: () => socket.write(body.slice(10)),
    answer: () => answer,
    closed,
    destroy: () => socket.destroy(),
  }
}

describe('graceful shutdown of jwks-bridge serve (SIGTERM)', () => {
  let dir: string
  const running: ServeProcess[] = []

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-shutdown-'))
  })
  after(() => {
    for (const serve of running) serve.kill()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stops accepting, lets an in-flight request finish, closes the stores and exits 0', async () => {
    const serve = await startServe(['--port', '0'], { SQLITE_PATH: join(dir, 'a.sqlite') })
    running.push(serve)
    const slow = await slowRequest(serve.url)
    // The server has the request's headers once Fastify has started on it: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200))
    serve.child.kill('SIGTERM')

    // New connections are refused once the listening socket is closed…
    await until(
      () =>
        request(`${serve.url}/healthz`, { timeoutMs: 500 }).then(
          () => false,
          (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
        ),
      5000,
      'the listening socket to close',
    )
    assert.equal(slow.answer(), '', 'the in-flight request has not been answered yet')
    assert.equal(serve.child.exitCode, null, 'serve waits for the in-flight request')

    // …while the request in flight is answered in full (the bridge refuses it: no CSRF token).
    slow.finish()
    await slow.closed
    assert.match(slow.answer(), /^HTTP\/1\.1 403 /)
    assert.match(slow.answer(), /"code":"ERR_CSRF_TOKEN_INVALID"/)

    assert.equal(await exitWithin(serve, 5000), 0)
    assert.match(serve.stdout(), /jwks-bridge serve: stopped/)
  })

  it('gives up after SHUTDOWN_TIMEOUT_SECONDS, cuts what is left and exits 1', async () => {
    const serve = await startServe(['--port', '0'], {
      SQLITE_PATH: join(dir, 'b.sqlite'),
      SHUTDOWN_TIMEOUT_SECONDS: '0.5',
    })
    running.push(serve)
    const stuck = await slowRequest(serve.url)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const signalled = Date.now()
    serve.child.kill('SIGTERM')
    try {
      assert.equal(await exitWithin(serve, 6000), 1)
      const took = Date.now() - signalled
      assert.ok(took >= 400 && took < 5000, `exited ${took} ms after the signal`)
      assert.match(serve.stderr(), /still running 0\.5 s after the stop signal/)
      await stuck.closed
      assert.equal(stuck.answer(), '', 'the stuck request was cut, not answered')
    } finally {
      stuck.destroy()
    }
  })
})
