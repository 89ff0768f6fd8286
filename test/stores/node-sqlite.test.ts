// node:sqlite's DatabaseSync (Node 22.5 and later) through the SQLite stores' driver seam: the store
// conformance suites on it where this Node has it (CI runs the suite on Node 22 and 24 too). On a Node
// line without it, the file checks that the import fails as the README says, and that the seam
// refuses what is not a database.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toSqliteDatabase } from '../../src/stores/sqlite/portable-driver.ts'
import { createSqliteStores } from '../../src/stores/sqlite/stores.ts'
import {
  describeIdentityStoreConformance,
  describeSessionStoreConformance,
  describeSignInTransactionConformance,
} from '../../src/testing/store-conformance.ts'

type DatabaseSyncClass = new (path: string) => object
const nodeSqlite = (await import('node:sqlite' as string).catch(() => undefined)) as
  | { DatabaseSync: DatabaseSyncClass }
  | undefined

if (nodeSqlite !== undefined) {
  const open = async () => createSqliteStores({ database: new nodeSqlite.DatabaseSync(':memory:') as never })
  describeIdentityStoreConformance('node:sqlite', async () => (await open()).identities)
  describeSessionStoreConformance('node:sqlite', async () => {
    const { identities, sessions } = await open()
    return { identities, sessions }
  })
  describeSignInTransactionConformance('node:sqlite', async () => {
    const { identities, sessions } = await open()
    return { identities, sessions }
  })

  describe('node:sqlite through the seam', () => {
    it('foreign keys are on: ending an identity’s row would cascade, as with better-sqlite3', async () => {
      const stores = await open()
      assert.equal(stores.database.pragma('foreign_keys', { simple: true }), 1)
    })

    it('a transaction that throws leaves nothing written; a nested one is a savepoint', async () => {
      const { database: db } = await open()
      db.exec('CREATE TABLE t (v INTEGER)')
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
      const inner = db.transaction((v: number) => {
        insert.run(v)
        throw new Error('inner fails')
      })
      db.transaction(() => {
        insert.run(1)
        assert.throws(() => inner(2), /inner fails/)
      }).immediate()
      assert.throws(
        () =>
          db.transaction(() => {
            insert.run(3)
            throw new Error('outer fails')
          })(),
        /outer fails/,
      )
      assert.deepEqual(
        db
          .prepare('SELECT v FROM t')
          .all()
          .map((row) => (row as { v: number }).v),
        [1],
      )
      assert.equal(db.prepare('SELECT v FROM t WHERE v = 99').get(), undefined)
    })
  })
} else {
  describe('node:sqlite is absent on this Node line', () => {
    it('Node before 22.5 has no node:sqlite: the import fails (better-sqlite3 is the SQLite driver here)', async () => {
      const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
      assert.ok(
        major < 22 || (major === 22 && minor < 5),
        `Node ${process.versions.node} should have node:sqlite`,
      )
      await assert.rejects(import('node:sqlite' as string))
    })
  })
}

describe('the SQLite driver seam', () => {
  it('refuses what is not a database (ERR_INVALID_OPTIONS)', () => {
    for (const value of [null, 'db.sqlite', {}, { prepare() {} }]) {
      assert.throws(
        () => toSqliteDatabase(value),
        (error: unknown) => (error as { code?: string }).code === 'ERR_INVALID_OPTIONS',
      )
    }
  })
})
