// The SQLite stores (better-sqlite3 12) on a real file in a temporary folder: the conformance suite,
// the pragmas, the migrations, several processes sharing one file, and failures.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { isJwksBridgeError } from '../../src/errors.ts'
import type { Migration } from '../../src/stores/migrations.ts'
import { startCheckpointer } from '../../src/stores/sqlite/checkpointer.ts'
import { migrateSqlite, sqliteMigrationStatus } from '../../src/stores/sqlite/migrate.ts'
import { SQLITE_MIGRATIONS } from '../../src/stores/sqlite/migrations.ts'
import { createSqliteStores, type SqliteStores } from '../../src/stores/sqlite/stores.ts'
import type { SessionRecord } from '../../src/stores/types.ts'
import {
  describeIdentityStoreConformance,
  describeSessionStoreConformance,
  describeSignInTransactionConformance,
} from '../../src/testing/store-conformance.ts'
import { rejectsUnknownOption } from '../helpers/unknown-option.ts'

const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-sqlite-'))
const opened: SqliteStores[] = []
const open = async (name: string, options: Parameters<typeof createSqliteStores>[0] = {}) => {
  const stores = await createSqliteStores({ path: join(dir, name), ...options })
  opened.push(stores)
  return stores
}
after(async () => {
  for (const stores of opened) await stores.close()
  rmSync(dir, { recursive: true, force: true })
})

describeIdentityStoreConformance('SQLite', async () => (await open('identities.sqlite')).identities)
describeSessionStoreConformance('SQLite', async () => {
  const { identities, sessions } = await open('sessions.sqlite')
  return { identities, sessions }
})
describeSignInTransactionConformance('SQLite', async () => {
  const { identities, sessions } = await open('sign-in-conformance.sqlite')
  return { identities, sessions }
})

function sessionRecord(id: string, identityId: string): SessionRecord {
  const nowMs = Date.now()
  return {
    id,
    secretHash: new Uint8Array(32).fill(7),
    identityId,
    issuer: 'https://tx.example',
    providerSessionId: null,
    createdAtMs: nowMs,
    expiresAtMs: nowMs + 3_600_000,
    lastSeenAtMs: nowMs,
  }
}

const failure = (code: string, reason?: RegExp) => (error: unknown) => {
  assert.ok(isJwksBridgeError(error), 'a JwksBridgeError')
  assert.equal(error.code, code)
  if (reason !== undefined) assert.match(error.reason ?? '', reason)
  return true
}

describe('SQLite stores: file, pragmas, lifecycle', () => {
  it('creates the folder of a new file, opens it in WAL mode with NORMAL sync and a busy timeout', async () => {
    const path = join(dir, 'nested', 'deeper', 'db.sqlite')
    const stores = await createSqliteStores({ path, busyTimeoutMs: 1234 })
    await stores.ping()
    await stores.close()
    const db = new Database(path)
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal', 'WAL is persistent in the file')
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all()
      assert.deepEqual(tables, ['identities', 'schema_migrations', 'sessions', 'used_tokens'])
    } finally {
      db.close()
    }
    const again = await createSqliteStores({ path, busyTimeoutMs: 1234 })
    try {
      const db = again.database
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL')
      assert.equal(db.pragma('busy_timeout', { simple: true }), 1234)
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1)
    } finally {
      await again.close()
    }
  })

  it('a database passed in stays open after close(); one opened from a path is closed', async () => {
    const db = new Database(join(dir, 'given.sqlite'))
    const given = await createSqliteStores({ database: db })
    await given.close()
    assert.equal(db.open, true)
    assert.equal(db.prepare('SELECT count(*) FROM identities').pluck().get(), 0)
    db.close()
    const own = await open('closed.sqlite')
    await own.close()
    await assert.rejects(own.ping(), failure('ERR_STORE_UNAVAILABLE'))
    await assert.rejects(
      own.identities.upsert({ issuer: 'https://i', subject: 's', claims: {}, nowMs: 1 }),
      failure('ERR_STORE_UNAVAILABLE'),
    )
  })

  it('path and database together are refused', async () => {
    const db = new Database(':memory:')
    await assert.rejects(
      createSqliteStores({ path: join(dir, 'x.sqlite'), database: db }),
      failure('ERR_INVALID_OPTIONS'),
    )
    db.close()
  })

  it('a write blocked by another connection past busyTimeoutMs fails as ERR_STORE_UNAVAILABLE and writes nothing', async () => {
    const path = join(dir, 'locked.sqlite')
    const stores = await open('locked.sqlite', { busyTimeoutMs: 50 })
    const holder = new Database(path)
    holder.exec('BEGIN IMMEDIATE')
    try {
      const started = performance.now()
      await assert.rejects(
        stores.identities.upsert({ issuer: 'https://i', subject: 'blocked', claims: {}, nowMs: 1 }),
        failure('ERR_STORE_UNAVAILABLE', /^SQLITE_BUSY/),
      )
      await assert.rejects(
        stores.sessions.markTokenUsed('k', Date.now() + 1000),
        failure('ERR_STORE_UNAVAILABLE'),
      )
      assert.ok(performance.now() - started < 2000, 'the busy timeout bounds the wait')
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
    }
    assert.equal(await stores.identities.findBySubject('https://i', 'blocked'), undefined)
    assert.equal(await stores.sessions.markTokenUsed('k', Date.now() + 1000), true)
  })

  it('a session for an identity that does not exist is refused (foreign key) and not stored', async () => {
    const stores = await open('fk.sqlite')
    const session = {
      id: 'orphan',
      secretHash: new Uint8Array(32),
      identityId: 'no-such-identity',
      issuer: 'https://i',
      providerSessionId: null,
      createdAtMs: 1,
      expiresAtMs: 2,
      lastSeenAtMs: 1,
    }
    await assert.rejects(stores.sessions.create(session), failure('ERR_STORE_UNAVAILABLE', /CONSTRAINT/))
    assert.equal(await stores.sessions.get('orphan'), undefined)
  })
})

describe('SQLite: WAL checkpoints off the event loop', () => {
  const walPages = (db: Database.Database | SqliteStores['database']) =>
    db.pragma('wal_autocheckpoint', { simple: true })

  it('background (default): automatic checkpoints are off, a worker checkpoints the log into the file', async () => {
    // Why: SQLite's automatic checkpoint copies and fsyncs inside whichever commit fills the log, on
    // the event loop: half the mean time of a sign-in and all of its p99 (bench:stores, bench:http).
    const path = join(dir, 'background.sqlite')
    const stores = await createSqliteStores({ path, checkpointIntervalMs: 20 })
    try {
      assert.equal(walPages(stores.database), 0, 'the connection never checkpoints in a commit')
      const before = statSync(path).size
      const { identity } = await stores.identities.upsert({
        issuer: 'https://wal.example',
        subject: 'wal',
        claims: {},
        nowMs: Date.now(),
      })
      for (let i = 0; i < 300; i++) {
        await stores.sessions.create(sessionRecord(`wal-${i}`, identity.id))
      }
      // Only a checkpoint moves pages from the log into the database file.
      const deadline = Date.now() + 10_000
      while (statSync(path).size <= before && Date.now() < deadline) await delay(20)
      assert.ok(statSync(path).size > before, 'the database file grew: the worker checkpointed')
    } finally {
      await stores.close()
    }
    assert.equal(
      existsSync(`${path}-wal`),
      false,
      'closing the last connection checkpointed and removed the log',
    )
  })

  it('under steady writes the log starts over: it stays bounded instead of growing with every write', async () => {
    // A background PASSIVE checkpoint alone never lets the log start over while writes keep coming
    // (a write restarts it only when every frame was copied back): measured, 2.4 GB after 100,000
    // sign-ins. The stores' thread now copies the last few frames when the worker asks.
    const path = join(dir, 'bounded.sqlite')
    const stores = await createSqliteStores({ path, checkpointIntervalMs: 10 })
    try {
      const { identity } = await stores.identities.upsert({
        issuer: 'https://wal.example',
        subject: 'bounded',
        claims: {},
        nowMs: Date.now(),
      })
      let largestWalBytes = 0
      // At least 3 pages of 4 KiB per insert (table, index, random leaf): 20,000 inserts write more
      // than 240 MB of log, far past the 64 MiB the log is cut back to when it starts over.
      for (let i = 0; i < 20_000; i++) {
        await stores.sessions.create(sessionRecord(`bounded-${i}`, identity.id))
        if (i % 50 === 0) {
          await new Promise((resolve) => setImmediate(resolve))
          largestWalBytes = Math.max(largestWalBytes, statSync(`${path}-wal`).size)
        }
      }
      // Bounded, not exact: on a loaded machine the worker's checkpoints lag the writes and the log
      // overshoots its 64 MiB (117 MB seen with both cores busy), but one that never started over
      // would hold every frame written, past 240 MB.
      assert.ok(
        largestWalBytes < 160 * 1024 * 1024,
        `log stayed under 160 MiB (largest ${largestWalBytes} bytes)`,
      )
    } finally {
      await stores.close()
    }
  })

  it('a worker that stops hands checkpoints back to SQLite; one that cannot start never takes them', async () => {
    // Either way the log must stay bounded: with automatic checkpoints off and no worker, it would grow
    // with every write.
    const path = join(dir, 'worker-stops.sqlite')
    await (await createSqliteStores({ path })).close()
    const db = new Database(path)
    try {
      const checkpointer = await startCheckpointer(db, path, { intervalMs: 20 })
      assert.equal(walPages(db), 0)
      await checkpointer.thread.terminate()
      await delay(10)
      assert.equal(walPages(db), 1000, 'automatic checkpoints are back')
      await checkpointer.stop()

      await assert.rejects(startCheckpointer(db, join(dir, 'missing', 'none.sqlite'), { intervalMs: 20 }))
      assert.equal(walPages(db), 1000, 'untouched by a worker that never started')
    } finally {
      db.close()
    }
  })

  it("'automatic' leaves SQLite's own checkpoints on; a database passed in is left as configured", async () => {
    const automatic = await open('automatic.sqlite', { checkpoint: 'automatic' })
    assert.equal(walPages(automatic.database), 1000)
    const db = new Database(join(dir, 'mine.sqlite'))
    db.pragma('journal_mode = WAL')
    db.pragma('wal_autocheckpoint = 77')
    const mine = await createSqliteStores({ database: db })
    try {
      assert.equal(walPages(db), 77)
    } finally {
      await mine.close()
      db.close()
    }
  })

  it('bad checkpoint options are refused when the stores are created', async () => {
    for (const options of [
      { checkpoint: 'sometimes' as 'automatic' },
      { checkpointIntervalMs: 0 },
      { checkpointIntervalMs: 1.5 },
    ]) {
      await assert.rejects(open('refused.sqlite', options), failure('ERR_INVALID_OPTIONS'))
    }
  })
})

describe('SQLite: one transaction per sign-in', () => {
  const write = (key: string, sessionId: string, presented?: { id: string }) => {
    const nowMs = Date.now()
    const { identityId: _identityId, ...session } = sessionRecord(sessionId, '-')
    return {
      usedToken: { key, expiresAtMs: nowMs + 60_000 },
      identity: { issuer: 'https://tx.example', subject: 'tx', claims: { n: 1 }, nowMs },
      presented,
      session,
    }
  }

  it('sign-ins of one turn share a commit, each in its own savepoint: one failing rolls back alone', async () => {
    const stores = await open('sign-in-group.sqlite')
    const transaction = stores.sessions.signInTransaction!
    const taken = await transaction.signIn(write('group-0', 'group-taken'))
    assert.ok(!taken.replayed)
    const results = await Promise.allSettled([
      transaction.signIn(write('group-1', 'group-a')),
      // Its session id is taken: the insert fails after its replay record and upsert were written.
      transaction.signIn(write('group-2', 'group-taken')),
      transaction.signIn(write('group-3', 'group-b')),
      // The same token twice in one commit: the second sees the first's record.
      transaction.signIn(write('group-3', 'group-c')),
    ])
    assert.deepEqual(
      results.map((r) =>
        r.status === 'fulfilled' ? (r.value.replayed ? 'replayed' : 'signed in') : r.reason.code,
      ),
      ['signed in', 'ERR_STORE_UNAVAILABLE', 'signed in', 'replayed'],
    )
    assert.equal((await stores.sessions.get('group-a'))?.issuer, 'https://tx.example')
    assert.equal((await stores.sessions.get('group-b'))?.issuer, 'https://tx.example')
    assert.equal(await stores.sessions.get('group-c'), undefined)
    assert.equal(
      await stores.sessions.markTokenUsed('group-2', Date.now() + 60_000),
      true,
      'the failed one spent nothing',
    )
  })
})

describe('SQLite migrations', () => {
  it('a new file is migrated to the latest version; running again applies nothing', async () => {
    const stores = await open('migrate.sqlite')
    const status = await stores.migrationStatus()
    assert.equal(status.currentVersion, SQLITE_MIGRATIONS.length)
    assert.equal(status.pending.length, 0)
    assert.deepEqual(
      status.applied.map((m) => m.version),
      SQLITE_MIGRATIONS.map((m) => m.version),
    )
    const applied: number[] = []
    const result = await stores.migrate({ onApplied: (m) => applied.push(m.version) })
    assert.deepEqual(
      { applied, version: result.version, count: result.applied.length },
      {
        applied: [],
        version: SQLITE_MIGRATIONS.length,
        count: 0,
      },
    )
  })

  it('migrate: false on an empty file refuses to start with a clear error', async () => {
    await assert.rejects(open('empty.sqlite', { migrate: false }), (error: unknown) => {
      assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'))
      assert.match(
        error.message,
        new RegExp(
          `version 0, this jwks-bridge needs ${SQLITE_MIGRATIONS.length}; run 'jwks-bridge migrate'`,
        ),
      )
      return true
    })
  })

  it('a database migrated by a newer version is refused, with and without migrate', async () => {
    const path = join(dir, 'newer.sqlite')
    await (await createSqliteStores({ path })).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future')
    db.close()
    for (const migrate of [true, false]) {
      await assert.rejects(createSqliteStores({ path, migrate }), (error: unknown) => {
        assert.ok(isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE'))
        assert.match(
          error.message,
          new RegExp(`at version 99, newer than this jwks-bridge knows \\(${SQLITE_MIGRATIONS.length}\\)`),
        )
        return true
      })
    }
  })

  it('a failing step rolls back every step of the run: no table, no recorded version', () => {
    const db = new Database(join(dir, 'rollback.sqlite'))
    try {
      const broken: Migration[] = [
        { version: 1, name: 'good', sql: 'CREATE TABLE one (x INTEGER) STRICT;' },
        {
          version: 2,
          name: 'bad',
          sql: 'CREATE TABLE two (x INTEGER) STRICT; INSERT INTO nowhere VALUES (1);',
        },
      ]
      assert.throws(
        () => migrateSqlite(db, {}, broken),
        (error: unknown) =>
          isJwksBridgeError(error, 'ERR_STORE_UNAVAILABLE') &&
          error.message === 'SQLite store: migration 2 (bad) failed (SQLITE_ERROR); nothing was applied',
      )
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
      assert.deepEqual(tables, [])
      assert.equal(sqliteMigrationStatus(db, broken).currentVersion, 0)
      const applied: string[] = []
      migrateSqlite(db, { onApplied: (m) => applied.push(m.name) }, broken.slice(0, 1))
      assert.deepEqual(applied, ['good'])
      assert.deepEqual(
        sqliteMigrationStatus(db, broken).pending.map((m) => m.version),
        [2],
      )
    } finally {
      db.close()
    }
  })

  it('status reads without creating anything', () => {
    const db = new Database(join(dir, 'status.sqlite'))
    try {
      const status = sqliteMigrationStatus(db)
      assert.equal(status.currentVersion, 0)
      assert.equal(status.pending.length, SQLITE_MIGRATIONS.length)
      assert.equal(db.prepare('SELECT count(*) FROM sqlite_master').pluck().get(), 0)
    } finally {
      db.close()
    }
  })
})

// Several processes on one file: each migrates at start (they race), then all race the same first
// upsert and the same token. One connection per process is what makes this a real race; inside one
// process better-sqlite3 runs statements one at a time.
const CHILD = `
import { createSqliteStores } from './src/stores/sqlite/stores.ts'
const [path, subject, key, until] = process.argv.slice(-4)
const stores = await createSqliteStores({ path, busyTimeoutMs: 5000 })
let created = 0
let marked = 0
for (let i = 0; i < 30; i++) {
  const r = await stores.identities.upsert({ issuer: 'https://race.example', subject, claims: { i }, nowMs: Date.now() })
  if (r.created) created++
  if (await stores.sessions.markTokenUsed(key, Number(until))) marked++
}
await stores.close()
process.stdout.write(JSON.stringify({ created, marked }))
`

function runChild(args: string[]): Promise<{ created: number; marked: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD, '--', ...args],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    const timer = setTimeout(() => child.kill(), 20_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(out))
      else reject(new Error(`child exited ${code}: ${err.slice(0, 500)}`))
    })
  })
}

describe('SQLite: several processes sharing one file', () => {
  it('3 processes migrating and racing: one identity created, the token marked once', async () => {
    const path = join(dir, 'shared.sqlite')
    const args = [path, 'shared-subject', 'shared-jti', String(Date.now() + 60_000)]
    const results = await Promise.all([runChild(args), runChild(args), runChild(args)])
    assert.equal(
      results.reduce((sum, r) => sum + r.created, 0),
      1,
    )
    assert.equal(
      results.reduce((sum, r) => sum + r.marked, 0),
      1,
    )
    const db = new Database(path, { readonly: true })
    try {
      assert.equal(db.prepare('SELECT count(*) FROM identities').pluck().get(), 1)
      assert.equal(
        db.prepare('SELECT count(*) FROM schema_migrations').pluck().get(),
        SQLITE_MIGRATIONS.length,
      )
    } finally {
      db.close()
    }
  })
})

describe('createSqliteStores: options', () => {
  it('issue #13: a misspelt option (`pth`) is refused, naming the nearest known one', async () => {
    // With a database given, so that the old behaviour (the typo ignored) opens no file of its own.
    const database = new Database(':memory:')
    await rejectsUnknownOption(
      () => createSqliteStores({ database, pth: join(dir, 'typo.sqlite') } as never),
      'createSqliteStores',
      'pth',
      'path',
    )
    database.close()
  })
})
