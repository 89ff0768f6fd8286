// needs: postgres, redis, build
// Two reference app instances, as behind a load balancer: one PostgreSQL (identities), one Redis
// (sessions, the replay guard, the key set cache), one identity provider. Real servers, a throwaway
// schema and key prefix per run, both removed at the end. An unreachable server fails this file.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import { POSTGRES, POSTGRES_URL, REDIS, TcpRelay, uniqueName } from '../stores/support.ts'
import { findSample, type Issuer, type OpsApp, sample, scrape, serveIssuer, startOpsApp } from './fixture.ts'
import { codeOf, csrfFor, handoff, request, signIn, until } from './http.ts'

describe('two instances sharing PostgreSQL and Redis', () => {
  const schema = uniqueName('ops_instances')
  const prefix = `jwks-bridge-test:${schema}:`
  let issuer: Issuer
  let redis: Redis
  let env: Record<string, string>
  const apps: OpsApp[] = []

  before(async () => {
    redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 })
    await redis.connect()
    issuer = await serveIssuer()
    env = {
      ...issuer.env,
      DATABASE_URL: POSTGRES_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`,
      REDIS_PREFIX: prefix,
    }
  })

  after(async () => {
    for (const app of apps) await app.close().catch(() => {})
    await issuer?.served.close()
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    try {
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    } finally {
      await client.end()
    }
    if (redis !== undefined) {
      let cursor = '0'
      for (let round = 0; round < 1000; round++) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
        if (keys.length > 0) await redis.del(...keys)
        cursor = next
        if (cursor === '0') break
      }
      redis.disconnect()
    }
  })

  it('signs in on A, is recognised on B, refuses the replay on B, and B reuses the key set A fetched', async () => {
    const a = await startOpsApp(issuer, env)
    apps.push(a)
    const token = issuer.idp.sign({ sub: 'two-instances', email: 'two@example.com' })
    const session = await signIn(a.url, token)
    assert.equal(issuer.served.requests(), 1, 'A fetched the key set once')
    // A shares what it fetched without waiting for Redis: wait until the entry is there.
    const cacheKey = `${prefix}jwks:${issuer.env.JWKS_URI}`
    await until(async () => (await redis.exists(cacheKey)) === 1, 5000, 'the key set in Redis')

    const b = await startOpsApp(issuer, env)
    apps.push(b)
    assert.equal(new URL(a.url).hostname, new URL(b.url).hostname)
    assert.notEqual(a.url, b.url)

    // The browser sends the same cookie to both (cookies are per host, not per port).
    const onA = await request(`${a.url}/me`, { headers: { cookie: session } })
    const onB = await request(`${b.url}/me`, { headers: { cookie: session } })
    assert.equal(onA.status, 200)
    assert.equal(onB.status, 200)
    const identity = JSON.parse(onB.text) as { id: string; subject: string; claims: Record<string, unknown> }
    assert.equal(identity.id, (JSON.parse(onA.text) as { id: string }).id)
    assert.equal(identity.subject, 'two-instances')
    assert.deepEqual(identity.claims, { email: 'two@example.com' })

    const replay = await handoff(b.url, token, await csrfFor(b.url))
    assert.equal(replay.status, 401)
    assert.equal(codeOf(replay), 'ERR_TOKEN_REPLAYED')

    // A fresh token on B verifies with the key set B took from Redis: the provider was asked once in all.
    const second = await signIn(b.url, issuer.idp.sign({ sub: 'two-instances' }))
    assert.equal(issuer.served.requests(), 1, 'B did not fetch the key set')
    const metricsB = await scrape(b.url)
    const iss = { issuer: issuer.served.issuer }
    assert.equal(sample(metricsB, 'jwks_bridge_keyset_shared_cache_hits_total', iss), 1)
    assert.equal(
      findSample(metricsB, 'jwks_bridge_keyset_fetches_total', { ...iss, reason: 'initial' }),
      undefined,
    )

    // Sign-out on B ends the session for A too.
    const csrf = await csrfFor(b.url)
    const signOut = await request(`${b.url}/auth`, {
      method: 'DELETE',
      headers: { origin: b.url, 'x-csrf-token': csrf.token, cookie: `${csrf.cookie}; ${session}` },
    })
    assert.equal(signOut.status, 204)
    assert.equal((await request(`${a.url}/me`, { headers: { cookie: session } })).status, 401)
    assert.equal((await request(`${a.url}/me`, { headers: { cookie: second } })).status, 200)

    // Everything the instances wrote is where the configuration says: the schema and the prefix.
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    try {
      const rows = await client.query(`SELECT count(*)::int AS n FROM ${schema}.identities`)
      assert.equal(rows.rows[0].n, 1)
    } finally {
      await client.end()
    }
    assert.ok((await redis.keys(`${prefix}{*}:session:*`)).length >= 1)

    const ready = JSON.parse((await request(`${b.url}/readyz`)).text)
    assert.deepEqual(ready, { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } })
  })

  it('/readyz names PostgreSQL when it cannot be reached', async () => {
    const relay = await new TcpRelay(POSTGRES).start()
    const through = new URL(POSTGRES_URL)
    through.port = String(relay.port)
    const c = await startOpsApp(issuer, { ...env, DATABASE_URL: through.href })
    apps.push(c)
    assert.equal((await request(`${c.url}/readyz`)).status, 200)
    await relay.cut()
    const started = Date.now()
    const answer = await request(`${c.url}/readyz`, { timeoutMs: 6000 })
    assert.ok(Date.now() - started < 3500, 'readiness is bounded in time')
    assert.equal(answer.status, 503)
    assert.deepEqual(JSON.parse(answer.text), {
      status: 'unavailable',
      failed: ['postgres'],
      checks: { postgres: 'failed', redis: 'ok' },
    })
  })
})
