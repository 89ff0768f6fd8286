// needs: postgres
// A PostgreSQL that hangs (every server process stopped with SIGSTOP): the TCP connections stay open
// and nothing answers, so only the client-side query timeout (queryTimeoutMs, pg's query_timeout)
// ends the wait. The query fails as ERR_STORE_UNAVAILABLE, the connection that timed out is
// discarded rather than pooled, and the store works again once the server resumes. Uses a private
// server: stopping the shared one would hang every other test on the machine.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createPostgresStores, type PostgresStores } from '../../src/stores/postgres/stores.ts'
import { type PrivateService, startPrivatePostgres } from '../helpers/private-services.ts'
import { POSTGRES_URL } from './support.ts'

/** The postmaster and its children (backends, checkpointer, ...): all of them must freeze. */
function serverProcesses(postmaster: number): number[] {
  let children: number[] = []
  try {
    children = execFileSync('ps', ['--ppid', String(postmaster), '-o', 'pid='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isSafeInteger(pid) && pid > 0)
  } catch {
    // ps exits 1 when there are no children.
  }
  return [postmaster, ...children]
}

function signalAll(pids: readonly number[], signal: 'SIGSTOP' | 'SIGCONT'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // Gone already (a backend that exited): nothing to freeze or resume.
    }
  }
}

describe('PostgreSQL stores: a hung server', () => {
  let server: PrivateService | undefined
  let stores: PostgresStores | undefined
  // Resumed here too: a test that times out never reaches its finally, and a server left stopped
  // would hang close() and pg_ctl stop.
  let frozen: number[] = []

  before(async () => {
    server = await startPrivatePostgres()
  })
  after(async () => {
    signalAll(frozen, 'SIGCONT')
    await stores?.close()
    await server?.stop()
  })

  it('refuses a queryTimeoutMs that is not a positive integer', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(
        createPostgresStores({ connectionString: POSTGRES_URL, queryTimeoutMs: bad }),
        (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
      )
    }
  })

  it('a query on a pooled connection fails with ERR_STORE_UNAVAILABLE within the limit, then recovers', {
    timeout: 20_000,
  }, async () => {
    const service = server as PrivateService
    const opened = await createPostgresStores({
      connectionString: service.url,
      migrate: true,
      queryTimeoutMs: 500,
      connectionTimeoutMs: 1000,
      maxConnections: 1,
    })
    stores = opened
    const pool = opened.pool as unknown as pg.Pool
    assert.equal(await opened.sessions.get('absent'), undefined)
    assert.equal(pool.idleCount, 1, 'one pooled connection before the hang')

    const postmaster = service.pid()
    assert.ok(postmaster !== undefined, 'the private server runs')
    frozen = serverProcesses(postmaster)
    assert.ok(frozen.length > 1, 'the postmaster has backends to freeze')
    signalAll(frozen, 'SIGSTOP')
    try {
      const started = Date.now()
      await assert.rejects(opened.sessions.get('absent'), (error: unknown) => {
        assert.ok(
          isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'),
          `ERR_STORE_UNAVAILABLE, got ${String(error)}`,
        )
        assert.equal(error.reason, 'Query read timeout')
        return true
      })
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 400 && elapsed < 2000, `failed after ${elapsed} ms, expected about 500`)
      // pg destroys a connection released with an error that still has a query in flight: the pool
      // holds nothing that could hand the late answer of the old query to the next one.
      assert.equal(pool.totalCount, 0, 'the timed-out connection was discarded')
    } finally {
      signalAll(frozen, 'SIGCONT')
    }

    const deadline = Date.now() + 5000
    let recovered = false
    for (let attempt = 0; attempt < 50 && Date.now() < deadline; attempt++) {
      try {
        assert.equal(await opened.sessions.get('absent'), undefined)
        recovered = true
        break
      } catch {
        await sleep(100)
      }
    }
    assert.ok(recovered, 'the store answers again within 5 s of the server resuming')
    await opened.ping()
  })
})
