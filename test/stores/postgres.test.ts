// needs: postgres
// The PostgreSQL stores against the real server (POSTGRES_URL: 127.0.0.1:5432 or npm test's own), each run in its own schemas
// (dropped afterwards): the conformance suite, migrations, and a database that is down, goes away,
// hangs, or drops connections. An unreachable server fails this file (in CI and outside it).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { isJwksBridgeError } from '../../src/errors.ts'
import type { Migration } from '../../src/stores/migrations.ts'
import { migratePostgres, postgresMigrationStatus } from '../../src/stores/postgres/migrate.ts'
import { POSTGRES_MIGRATIONS } from '../../src/stores/postgres/migrations.ts'
import { createPostgresStores, type PostgresStores } from '../../src/stores/postgres/stores.ts'
import {
  describeIdentityStoreConformance,
  describeSessionStoreConformance,
  describeSignInTransactionConformance,
} from '../../src/testing/store-conformance.ts'
import { rejectsUnknownOption } from '../helpers/unknown-option.ts'
import { BlackHole, closedPort, POSTGRES, POSTGRES_URL, TcpRelay, timed, uniqueName } from './support.ts'

const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 3, connectionTimeoutMillis: 3000 })
admin.on('error', () => {})
const schemas: string[] = []
const opened: PostgresStores[] = []
const schema = (label: string): string => {
  const name = uniqueName(`jb_test_${label}`)
  schemas.push(name)
  return name
}
const open = async (options: Partial<Parameters<typeof createPostgresStores>[0]> = {}) => {
  const stores = await createPostgresStores({ connectionString: POSTGRES_URL, migrate: true, ...options })
  opened.push(stores)
  return stores
}

before(async () => {
  try {
    await admin.query('SELECT 1')
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL.replace(/\/\/[^@]*@/, '//')} (${(error as Error).message}); ` +
        'these tests need the real server: run them with `npm test` (it starts a private one), never skipped',
    )
  }
})
after(async () => {
  for (const stores of opened) await stores.close()
  for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
  await admin.end()
})

const identitySchema = schema('identities')
const sessionSchema = schema('sessions')
describeIdentityStoreConformance(
  'PostgreSQL',
  async () => (await open({ schema: identitySchema })).identities,
)
describeSessionStoreConformance('PostgreSQL', async () => {
  const { identities, sessions } = await open({ schema: sessionSchema })
  return { identities, sessions }
})
const signInSchema = schema('sign_in')
describeSignInTransactionConformance('PostgreSQL', async () => {
  const { identities, sessions } = await open({ schema: signInSchema, migrate: true })
  return { identities, sessions }
})

describe('PostgreSQL: a sign-in is one statement', () => {
  it('a failure at the session insert writes nothing: no replay record, no identity', async () => {
    // Before the single statement, the replay record and the identity were committed before the
    // session insert, so a failure there left an identity without a session and the token spent.
    const name = schema('sign_in_fail')
    const stores = await open({ schema: name, migrate: true })
    await stores.pool.query(`CREATE FUNCTION "${name}".refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'disk trouble' USING ERRCODE = '53100'; END $$`)
    await stores.pool.query(
      `CREATE TRIGGER refuse BEFORE INSERT ON "${name}".sessions FOR EACH ROW EXECUTE FUNCTION "${name}".refuse()`,
    )
    const nowMs = Date.now()
    const { identityId: _identityId, ...session } = sessionFor('-')
    const write = {
      usedToken: { key: 'fail-key', expiresAtMs: nowMs + 60_000 },
      identity: { issuer: 'https://issuer.example', subject: 'fail', claims: {}, nowMs },
      session,
    }
    await assert.rejects(stores.sessions.signInTransaction!.signIn(write), unavailable('53100'))
    const counts = await stores.pool.query(
      `SELECT (SELECT count(*) FROM "${name}".identities)::int AS identities,
              (SELECT count(*) FROM "${name}".used_tokens)::int AS used,
              (SELECT count(*) FROM "${name}".sessions)::int AS sessions`,
    )
    assert.deepEqual(counts.rows[0], { identities: 0, used: 0, sessions: 0 })
    await stores.pool.query(`DROP TRIGGER refuse ON "${name}".sessions`)
    const outcome = await stores.sessions.signInTransaction!.signIn(write)
    assert.equal(outcome.replayed, false, 'the token was not spent by the failed attempt')
  })
})

const unavailable = (reason?: RegExp | string) => (error: unknown) => {
  assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'), `ERR_STORE_UNAVAILABLE, got ${String(error)}`)
  if (typeof reason === 'string') assert.equal(error.reason, reason)
  else if (reason !== undefined) assert.match(error.reason ?? '', reason)
  return true
}

const sessionFor = (identityId: string, id = uniqueName('s')) => ({
  id,
  secretHash: new Uint8Array(32).fill(7),
  identityId,
  issuer: 'https://issuer.example',
  providerSessionId: null,
  createdAtMs: Date.now(),
  expiresAtMs: Date.now() + 60_000,
  lastSeenAtMs: Date.now(),
})

async function countRows(
  name: string,
  table: string,
  where = 'true',
  values: unknown[] = [],
): Promise<number> {
  const result = await admin.query(`SELECT count(*)::int AS n FROM "${name}".${table} WHERE ${where}`, values)
  return result.rows[0].n
}

describe('PostgreSQL migrations', () => {
  it('creates the schema and tables; running again applies nothing', async () => {
    const name = schema('migrate')
    const stores = await open({ schema: name, migrate: false })
    const before = await stores.migrationStatus()
    assert.deepEqual([before.currentVersion, before.pending.length], [0, POSTGRES_MIGRATIONS.length])
    const exists = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])
    assert.equal(exists.rowCount, 0, 'status creates nothing, not even the schema')
    const applied: number[] = []
    const first = await stores.migrate({ onApplied: (m) => applied.push(m.version) })
    assert.deepEqual(
      applied,
      POSTGRES_MIGRATIONS.map((m) => m.version),
    )
    assert.equal(first.version, POSTGRES_MIGRATIONS.length)
    const second = await stores.migrate({ onApplied: () => assert.fail('nothing is pending') })
    assert.deepEqual([second.applied.length, second.version], [0, POSTGRES_MIGRATIONS.length])
    const tables = await admin.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [name],
    )
    assert.deepEqual(
      tables.rows.map((r) => r.table_name),
      ['identities', 'schema_migrations', 'sessions', 'used_tokens'],
    )
    const indexes = await admin.query(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
      [name],
    )
    for (const index of [
      'sessions_expires_at_idx',
      'sessions_identity_id_idx',
      'sessions_provider_session_idx',
    ]) {
      assert.ok(
        indexes.rows.some((r) => r.indexname === index),
        index,
      )
    }
  })

  it('three instances migrating at once: the advisory lock lets one apply, the others find nothing to do', async () => {
    const name = schema('race')
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 })
    try {
      const results = await Promise.all([1, 2, 3].map(() => migratePostgres(pool, { schema: name })))
      assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, 0, POSTGRES_MIGRATIONS.length])
      assert.equal(await countRows(name, 'schema_migrations'), POSTGRES_MIGRATIONS.length)
    } finally {
      await pool.end()
    }
  })

  it('a failing step rolls back the whole run: no schema, no table, no version recorded', async () => {
    const name = schema('rollback')
    const broken: Migration[] = [
      { version: 1, name: 'good', sql: 'CREATE TABLE one (x int);' },
      { version: 2, name: 'bad', sql: 'CREATE TABLE two (x int); INSERT INTO nowhere VALUES (1);' },
    ]
    await assert.rejects(migratePostgres(admin, { schema: name }, broken), (error: unknown) => {
      assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'))
      assert.equal(error.message, 'PostgreSQL store: migration 2 (bad) failed (42P01); nothing was applied')
      return true
    })
    const exists = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])
    assert.equal(exists.rowCount, 0)
    const status = await postgresMigrationStatus(admin, name, broken)
    assert.deepEqual([status.currentVersion, status.pending.length], [0, 2])
  })

  it('a schema migrated by a newer version is refused by migrate and status', async () => {
    const name = schema('newer')
    await open({ schema: name })
    await admin.query(
      `INSERT INTO "${name}".schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`,
    )
    const newer = (error: unknown) => {
      assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'))
      assert.match(
        error.message,
        new RegExp(`schema "${name}" schema is at version 99, newer than this jwks-bridge knows \\(1\\)`),
      )
      return true
    }
    await assert.rejects(
      createPostgresStores({ connectionString: POSTGRES_URL, schema: name, migrate: true }),
      newer,
    )
    await assert.rejects(migratePostgres(admin, { schema: name }), newer)
    await assert.rejects(postgresMigrationStatus(admin, name), newer)
  })

  it('without migrations, operations fail with a message that says to run migrate', async () => {
    const stores = await open({ schema: schema('empty'), migrate: false })
    await assert.rejects(stores.identities.get('x'), (error: unknown) => {
      assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'))
      assert.match(error.message, /the tables are missing; run 'jwks-bridge migrate'/)
      return true
    })
  })
})

describe('PostgreSQL stores: options', () => {
  it('refuses a schema name that is not a plain identifier, and pool with connectionString', async () => {
    for (const bad of ['a"b', 'public; DROP TABLE x', '1abc', '', 'x'.repeat(64)]) {
      await assert.rejects(
        createPostgresStores({ connectionString: POSTGRES_URL, schema: bad }),
        (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
      )
    }
    await assert.rejects(
      createPostgresStores({ connectionString: POSTGRES_URL, pool: admin }),
      (error: unknown) => isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )
    await assert.rejects(createPostgresStores({}), (error: unknown) =>
      isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    )
  })

  it('a pool passed in stays open after close()', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 })
    try {
      const stores = await createPostgresStores({ pool, schema: schema('given'), migrate: true })
      await stores.ping()
      await stores.close()
      assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1)
    } finally {
      await pool.end()
    }
  })
})

describe('PostgreSQL down: ERR_STORE_UNAVAILABLE, promptly, nothing half-written', () => {
  const MARKER = 'secret-marker-5f3a'

  it('a pool pointing at a closed port: every operation fails fast with ECONNREFUSED', async () => {
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: await closedPort(),
      user: 'postgres',
      connectionTimeoutMillis: 1000,
    })
    pool.on('error', () => {})
    try {
      const stores = await createPostgresStores({ pool, schema: 'anything' })
      const operations: (() => Promise<unknown>)[] = [
        () => stores.ping(),
        () => stores.identities.upsert({ issuer: 'https://i', subject: MARKER, claims: {}, nowMs: 1 }),
        () => stores.identities.findBySubject('https://i', MARKER),
        () => stores.sessions.create(sessionFor('i', MARKER)),
        () => stores.sessions.get(MARKER),
        () => stores.sessions.markTokenUsed(MARKER, Date.now() + 1000),
        () => stores.sessions.deleteExpired(Date.now(), 1000),
        () => stores.migrate(),
      ]
      for (const operation of operations) {
        const { ms, error } = await timed(operation())
        assert.ok(ms < 2000, `failed within the bound (${Math.round(ms)} ms)`)
        unavailable('ECONNREFUSED')(error)
        const text = `${(error as Error).message} ${(error as JwksBridgeErrorLike).reason}`
        assert.ok(!text.includes(MARKER), 'no value of the operation in the error')
        assert.equal((error as Error).cause, undefined, 'no driver error attached')
      }
    } finally {
      await pool.end()
    }
  })

  it('a connection string at a closed port with migrate: true rejects the factory promptly', async () => {
    const { ms, error } = await timed(
      createPostgresStores({
        connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
        migrate: true,
      }),
    )
    unavailable('ECONNREFUSED')(error)
    assert.ok(ms < 2000)
  })

  it('a server that never answers: the connection timeout bounds every operation', async () => {
    const hole = await new BlackHole().start()
    try {
      const stores = await createPostgresStores({
        connectionString: `postgres://postgres@127.0.0.1:${hole.port}/test`,
        connectionTimeoutMs: 300,
      })
      opened.push(stores)
      const { ms, error } = await timed(stores.sessions.get('x'))
      // node-postgres words it either way, depending on where the connect attempt was when it gave up.
      unavailable(
        /^(timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/,
      )(error)
      assert.ok(ms >= 250 && ms < 2000, `about the timeout (${Math.round(ms)} ms)`)
    } finally {
      await hole.stop()
    }
  })

  it('the database goes away mid-life: ERR_STORE_UNAVAILABLE, and nothing of the failed calls is stored', async () => {
    const name = schema('goes_away')
    await open({ schema: name }) // migrated directly
    const relay = await new TcpRelay(POSTGRES).start()
    const stores = await createPostgresStores({
      connectionString: `postgres://postgres@127.0.0.1:${relay.port}/test`,
      schema: name,
      connectionTimeoutMs: 1000,
    })
    opened.push(stores)
    const { identity } = await stores.identities.upsert({
      issuer: 'https://i',
      subject: 'before',
      claims: {},
      nowMs: 1,
    })
    await stores.sessions.create(sessionFor(identity.id, 'session-before'))
    await relay.cut()
    const failing: (() => Promise<unknown>)[] = [
      () => stores.identities.upsert({ issuer: 'https://i', subject: 'during', claims: {}, nowMs: 2 }),
      () => stores.sessions.create(sessionFor(identity.id, 'session-during')),
      () => stores.sessions.markTokenUsed('jti-during', Date.now() + 60_000),
      () => stores.sessions.delete('session-before'),
    ]
    for (const operation of failing) {
      const { ms, error } = await timed(operation())
      unavailable()(error)
      assert.ok(ms < 2000, `failed within the bound (${Math.round(ms)} ms)`)
    }
    assert.equal(await countRows(name, 'identities', 'subject = $1', ['during']), 0)
    assert.equal(await countRows(name, 'sessions', 'id = $1', ['session-during']), 0)
    assert.equal(await countRows(name, 'sessions', 'id = $1', ['session-before']), 1)
    assert.equal(await countRows(name, 'used_tokens'), 0)
  })

  it('the server drops the connections (pg_terminate_backend): the process survives, the next calls work', async () => {
    const name = schema('terminated')
    const application = uniqueName('jb_terminate')
    const stores = await open({
      schema: name,
      connectionString: `${POSTGRES_URL}?application_name=${application}`,
    })
    await stores.ping()
    const killed = await admin.query(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [application],
    )
    assert.ok(killed.rows[0].n >= 1, 'the pooled connection was terminated')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const { created } = await stores.identities.upsert({
      issuer: 'https://i',
      subject: 'after',
      claims: {},
      nowMs: 1,
    })
    assert.equal(created, true)
  })
})

interface JwksBridgeErrorLike {
  reason?: string
}

describe('createPostgresStores: options', () => {
  it('issue #13: a misspelt option is refused before any connection, naming the nearest known one', async () => {
    await rejectsUnknownOption(
      () => createPostgresStores({ connectionString: POSTGRES_URL, queryTimoutMs: 100 } as never),
      'createPostgresStores',
      'queryTimoutMs',
      'queryTimeoutMs',
    )
  })
})
