// RFC 9449 §11.1: a DPoP proof is single use across instances. Two resource servers share a session
// store (the real SQLite, PostgreSQL and Redis); a proof accepted by one is refused by the other.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { ReplayStore } from '../../src/resource-server/options.ts'
import { createPostgresStores } from '../../src/stores/postgres/stores.ts'
import { createRedisStores } from '../../src/stores/redis/stores.ts'
import { createSqliteStores } from '../../src/stores/sqlite/stores.ts'
import { POSTGRES_URL, REDIS, uniqueName } from '../stores/support.ts'
import { accessToken, clientKey, codeOf, dpopProof, makeApi } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

async function replayAcrossInstances(store: ReplayStore): Promise<void> {
  // Real time: the stores compare expiries with their own clocks.
  const nowMs = () => Date.now()
  const first = makeApi({ replayStore: store, nowMs })
  const second = makeApi({ replayStore: store, nowMs })
  const key = clientKey()
  const now = Math.floor(Date.now() / 1000)
  const token = accessToken({ iat: now, exp: now + 600 }, {}, key)
  const proof = dpopProof(key, token, { claims: { iat: now } })
  const request = {
    method: 'GET',
    url: 'https://api.example.com/things/42',
    headers: { authorization: `DPoP ${token}`, dpop: proof },
  }
  assert.equal((await first.authenticate(request)).scheme, 'DPoP')
  assert.equal(await codeOf(second.authenticate(request)), 'ERR_DPOP_PROOF_REPLAYED')
  assert.equal(await codeOf(first.authenticate(request)), 'ERR_DPOP_PROOF_REPLAYED')
  // A new proof by the same client passes.
  const fresh = {
    ...request,
    headers: { ...request.headers, dpop: dpopProof(key, token, { claims: { iat: now } }) },
  }
  assert.equal((await second.authenticate(fresh)).scheme, 'DPoP')
}

describe('RFC 9449 §11.1: a proof replayed to another instance is refused (shared session store)', () => {
  it('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jb-dpop-'))
    const stores = await createSqliteStores({ path: join(dir, 'replay.sqlite') })
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => stores.close(),
    )
    await replayAcrossInstances(stores.sessions)
  })

  it('PostgreSQL', async () => {
    const schema = uniqueName('jb_test_dpop')
    const stores = await createPostgresStores({ connectionString: POSTGRES_URL, migrate: true, schema })
    cleanups.push(async () => {
      const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 })
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.end()
    })
    cleanups.push(() => stores.close())
    await replayAcrossInstances(stores.sessions)
  })

  it('Redis', async () => {
    const client = new Redis({ ...REDIS, lazyConnect: false, maxRetriesPerRequest: 1 })
    cleanups.push(async () => {
      client.disconnect()
    })
    const stores = createRedisStores({ client, prefix: `${uniqueName('jb-test-dpop')}:` })
    await replayAcrossInstances(stores.sessions)
  })
})
