// The database drivers are optional peer dependencies: importing the package must load none of
// them, and each store loads only its own. Checked in a fresh process (the test runner's own
// process has loaded them already), through Node's CommonJS module cache, where all three land.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'

const PROBE = `
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const loaded = () =>
  [...new Set(Object.keys(require.cache).map((k) => /node_modules[\\\\/](better-sqlite3|pg|ioredis)[\\\\/]/.exec(k)?.[1]).filter(Boolean))].sort()
const index = await import('./src/index.ts')
await import('./src/testing/index.ts')
const afterImport = loaded()
const sqlite = await index.createSqliteStores({ path: ':memory:' })
await sqlite.close()
const afterSqlite = loaded()
index.createRedisStores({ client: { hgetall() {}, set() {}, eval() {}, evalsha() {}, ping() {} } })
const afterRedis = loaded()
const postgres = await index.createPostgresStores({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })
await postgres.close()
process.stdout.write(JSON.stringify({ afterImport, afterSqlite, afterRedis, afterPostgres: loaded() }))
`

describe('optional drivers are loaded lazily', () => {
  it("import 'jwks-bridge' and 'jwks-bridge/testing' load no driver; each store loads only its own", () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.deepEqual(JSON.parse(out), {
      afterImport: [],
      afterSqlite: ['better-sqlite3'],
      // The Redis store is handed a client: it never imports ioredis itself.
      afterRedis: ['better-sqlite3'],
      afterPostgres: ['better-sqlite3', 'pg'],
    })
  })
})
