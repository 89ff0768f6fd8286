// needs: postgres
// `jwks-bridge migrate` on a SQLite file in a temporary folder and on the real PostgreSQL
// (127.0.0.1:5432) in a throwaway schema given with --schema (dropped afterwards).
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { runCli } from '../../src/cli/main.ts'
import { MIGRATE_HELP } from '../../src/cli/migrate.ts'
import { POSTGRES_MIGRATIONS } from '../../src/stores/postgres/migrations.ts'
import { SQLITE_MIGRATIONS } from '../../src/stores/sqlite/migrations.ts'
import { closedPort, POSTGRES_URL, uniqueName } from '../stores/support.ts'

const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-migrate-'))
const run = (argv: string[], env: Record<string, string> = {}) =>
  runCli(['migrate', ...argv], { stdin: '', env })
const LATEST = SQLITE_MIGRATIONS.length
/** What `migrate` prints for each SQLite step it applies. */
const APPLIED_LINES = SQLITE_MIGRATIONS.map((m) => `applied ${m.version}: ${m.name}\n`).join('')
/** The `--status` lines of every SQLite step, applied (with its date) or pending. */
const statusLines = (state: 'applied' | 'pending') =>
  SQLITE_MIGRATIONS.map(
    (m) =>
      ` {2}${state} {2}${m.version} {2}${m.name}${state === 'applied' ? ' {2}\\(\\d{4}-\\d\\d-\\d\\dT[^)]+Z\\)' : ''}\\n`,
  ).join('')

after(() => rmSync(dir, { recursive: true, force: true }))

describe('jwks-bridge migrate: usage', () => {
  it('is a listed command with its own help', async () => {
    assert.deepEqual(await runCli(['help', 'migrate'], { stdin: '', env: {} }), {
      exitCode: 0,
      stdout: MIGRATE_HELP,
      stderr: '',
    })
    assert.equal((await run(['--help'])).stdout, MIGRATE_HELP)
    const main = await runCli(['--help'], { stdin: '', env: {} })
    assert.match(main.stdout, /\n {2}migrate +apply the stores' pending schema migrations/)
  })

  const usage: [string, string[], RegExp][] = [
    [
      'both targets',
      ['--sqlite', 'x.sqlite', '--database-url', 'postgres://h/db'],
      /give --sqlite or --database-url, not both/,
    ],
    ['--schema with SQLite', ['--sqlite', 'x.sqlite', '--schema', 'auth'], /--schema is for PostgreSQL/],
    ['--schema without PostgreSQL', ['--schema', 'auth'], /--schema is for PostgreSQL/],
    [
      'a bad schema name',
      ['--database-url', 'postgres://h/db', '--schema', 'a;b'],
      /--schema must be letters/,
    ],
    ['a positional argument', ['extra'], /migrate takes no arguments/],
    ['an unknown option', ['--force'], /unknown option --force/],
    ['a URL that is not one', ['--database-url', 'not a url with s3cret'], /--database-url is not a URL/],
    ['another scheme', ['--database-url', 'mysql://u:s3cret@h/db'], /must start with postgres:\/\//],
  ]
  for (const [what, argv, message] of usage) {
    it(`${what}: exit 2, the reason and the help, nothing touched`, async () => {
      const result = await run(argv)
      assert.equal(result.exitCode, 2)
      assert.match(result.stderr, message)
      assert.ok(result.stderr.endsWith(MIGRATE_HELP))
      assert.ok(!result.stderr.includes('s3cret'), 'the argument is not repeated')
      assert.equal(existsSync('x.sqlite'), false)
    })
  }
})

describe('jwks-bridge migrate: SQLite', () => {
  it('applies the migrations to a new file (folder created), prints each and the version; again: nothing', async () => {
    const path = join(dir, 'new', 'db.sqlite')
    const first = await run(['--sqlite', path])
    assert.deepEqual(first, {
      exitCode: 0,
      stdout: `${APPLIED_LINES}SQLite database ${path}: now at version ${LATEST}\n`,
      stderr: '',
    })
    const second = await run(['--sqlite', path])
    assert.deepEqual(second, {
      exitCode: 0,
      stdout: `SQLite database ${path}: nothing to apply, at version ${SQLITE_MIGRATIONS.length}\n`,
      stderr: '',
    })
    const db = new Database(path, { readonly: true })
    try {
      assert.equal(db.prepare('SELECT count(*) FROM identities').pluck().get(), 0)
    } finally {
      db.close()
    }
  })

  it('--status lists applied migrations with their date, and pending ones', async () => {
    const path = join(dir, 'status.sqlite')
    await run(['--sqlite', path])
    const applied = await run(['--sqlite', path, '--status'])
    assert.equal(applied.exitCode, 0)
    assert.match(
      applied.stdout,
      new RegExp(
        `^SQLite database .*: version ${LATEST} \\(latest ${LATEST}\\)\\n${statusLines('applied')}up to date\\n$`,
      ),
    )
    const missing = join(dir, 'never-created.sqlite')
    const pending = await run(['--sqlite', missing, '--status'])
    assert.equal(pending.exitCode, 0)
    assert.equal(pending.stderr, '')
    assert.match(
      pending.stdout,
      new RegExp(
        `^SQLite database .*: version 0 \\(latest ${LATEST}\\)\\n${statusLines('pending')}${LATEST} pending: run 'jwks-bridge migrate' to apply\\n$`,
      ),
    )
    assert.equal(existsSync(missing), false, '--status creates nothing')
  })

  it('a database migrated by a newer jwks-bridge: exit 1 with the code and why, nothing changed', async () => {
    const path = join(dir, 'newer.sqlite')
    await run(['--sqlite', path])
    const db = new Database(path)
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, 'future', 0)").run()
    db.close()
    for (const argv of [
      ['--sqlite', path],
      ['--sqlite', path, '--status'],
    ]) {
      const result = await run(argv)
      assert.equal(result.exitCode, 1)
      assert.match(
        result.stderr,
        new RegExp(
          `^ERR_STORE_UNAVAILABLE: the SQLite database schema is at version 7, newer than this jwks-bridge knows \\(${LATEST}\\); upgrade jwks-bridge`,
        ),
      )
    }
  })

  it('a file that is not a database: exit 1 with ERR_STORE_UNAVAILABLE', async () => {
    const path = join(dir, 'not-a-db.sqlite')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(path, 'this is not a database, just text '.repeat(200))
    const result = await run(['--sqlite', path])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /^ERR_STORE_UNAVAILABLE: SQLite store: .* failed \(SQLITE_NOTADB\)\n$/)
  })
})

describe('jwks-bridge migrate: PostgreSQL', () => {
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1, connectionTimeoutMillis: 3000 })
  admin.on('error', () => {})
  const schemas: string[] = []
  const schema = () => {
    const name = uniqueName('jb_test_cli')
    schemas.push(name)
    return name
  }
  before(async () => {
    try {
      await admin.query('SELECT 1')
    } catch (error) {
      throw new Error(
        `PostgreSQL is not reachable (${(error as Error).message}); these tests are never skipped`,
      )
    }
  })
  after(async () => {
    for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    await admin.end()
  })
  const shown = new URL(POSTGRES_URL)
  const place = `${shown.host}${shown.pathname}`

  it('--database-url with --schema: creates the schema, applies, prints; --status then lists it', async () => {
    const name = schema()
    const first = await run(['--database-url', POSTGRES_URL, '--schema', name])
    assert.deepEqual(first, {
      exitCode: 0,
      stdout: `applied 1: ${POSTGRES_MIGRATIONS[0]!.name}\nPostgreSQL database ${place}, schema "${name}": now at version 1\n`,
      stderr: '',
    })
    const tables = await admin.query(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [name],
    )
    assert.equal(tables.rows[0].n, 4)
    const again = await run(['--database-url', POSTGRES_URL, '--schema', name])
    assert.match(again.stdout, /: nothing to apply, at version 1\n$/)
    const status = await run(['--database-url', POSTGRES_URL, '--schema', name, '--status'])
    assert.equal(status.exitCode, 0)
    assert.match(
      status.stdout,
      /version 1 \(latest 1\)\n {2}applied {2}1 {2}identities, sessions and used_tokens {2}\(.*Z\)\nup to date\n$/,
    )
  })

  it('DATABASE_URL is used when no target is given; --status on an empty schema creates nothing', async () => {
    const name = schema()
    const status = await run(['--schema', name, '--status'], { DATABASE_URL: POSTGRES_URL })
    assert.equal(status.exitCode, 0)
    assert.match(status.stdout, /^PostgreSQL database .*: version 0 \(latest 1\)\n {2}pending {2}1 {2}/)
    const exists = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])
    assert.equal(exists.rowCount, 0)
    const applied = await run(['--schema', name], { DATABASE_URL: POSTGRES_URL })
    assert.match(applied.stdout, /now at version 1\n$/)
  })

  it('a server that is down: exit 1 promptly with ERR_STORE_UNAVAILABLE; the password is never printed', async () => {
    const url = `postgres://app:s3cret-pw@127.0.0.1:${await closedPort()}/app`
    const started = performance.now()
    for (const argv of [
      ['--database-url', url],
      ['--database-url', url, '--status'],
    ]) {
      const result = await run(argv)
      assert.equal(result.exitCode, 1)
      assert.match(result.stderr, /^ERR_STORE_UNAVAILABLE: PostgreSQL store: .* failed \(ECONNREFUSED\)\n$/)
      assert.ok(!`${result.stdout}${result.stderr}`.includes('s3cret-pw'))
    }
    assert.ok(performance.now() - started < 3000)
  })
})
