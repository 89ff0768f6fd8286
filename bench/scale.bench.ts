// `npm run bench:scale`: figures at scale. (1) Session validation, the work the bridge does on every
// request, with one million sessions in SQLite and in PostgreSQL: bulk-filled stores, validations of
// random sessions one at a time, p50/p99 (and, for contrast, of sessions drawn from only the first
// thousand, which stay in every cache). (2) The verified-token cache under one million distinct
// tokens, with its default bound (1000 entries) and a large one (100,000): the heap after a full
// collection must stop growing once the cache is full. A benchmark, not a test: it prints Markdown
// tables; it exits 1 only if a validation fails or the cache outgrows its bound.
// PostgreSQL runs in a private instance (initdb in a temporary folder, removed afterwards), or in a
// throwaway schema of SCALE_DATABASE_URL. The machine may be shared: figures are indicative.
//
// Environment:
//   SCALE_SESSIONS            sessions per store (default 1000000; 1000 to 5000000)
//   SCALE_SECONDS             timed seconds per validation case (default 5; 1 to 60)
//   SCALE_STORES              comma-separated sqlite,postgres (default both; "none" to skip)
//   SCALE_DATABASE_URL        use this PostgreSQL (a throwaway schema) instead of a private instance
//   SCALE_TOKENS              distinct tokens per cache size (default 1000000; 1000 to 5000000)
//   SCALE_TOKEN_CACHE_SIZES   comma-separated maxEntries (default 1000,100000; "none" to skip)
//   SCALE_TOKEN_SECONDS       time cap per cache size, seconds (default 600; 10 to 3600)
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPostgresStores } from '../src/stores/postgres/stores.ts'
import { createSqliteStores } from '../src/stores/sqlite/stores.ts'
import { type PrivateService, startPrivatePostgres } from '../test/helpers/private-services.ts'
import { numberFromEnv } from './lib/env.ts'
import type { LatencyResult } from './lib/stores-measure.ts'
import { fillPostgres, fillSqlite, measureValidation, SessionSpace } from './scale/sessions.ts'
import { measureTokenCache, type TokenCacheResult } from './scale/token-cache.ts'

// The heap figures need global.gc: start again with --expose-gc if it is missing.
if ((globalThis as { gc?: unknown }).gc === undefined) {
  const self = fileURLToPath(import.meta.url)
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}

function listFromEnv(name: string, fallback: string[]): string[] {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  if (raw.trim() === 'none') return []
  return raw.split(',').map((s) => s.trim())
}

const log = (line: string) => console.log(line)
const SESSIONS = numberFromEnv('SCALE_SESSIONS', 1_000_000, 1000, 5_000_000, { integer: true })
const SECONDS = numberFromEnv('SCALE_SECONDS', 5, 1, 60, { integer: true })
const STORES = listFromEnv('SCALE_STORES', ['sqlite', 'postgres'])
for (const store of STORES)
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`SCALE_STORES: ${store}?`)
const TOKENS = numberFromEnv('SCALE_TOKENS', 1_000_000, 1000, 5_000_000, { integer: true })
const CACHE_SIZES = listFromEnv('SCALE_TOKEN_CACHE_SIZES', ['1000', '100000']).map((s) => {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new Error(`SCALE_TOKEN_CACHE_SIZES: ${s}?`)
  return n
})
const TOKEN_SECONDS = numberFromEnv('SCALE_TOKEN_SECONDS', 600, 10, 3600, { integer: true })
const SESSIONS_PER_IDENTITY = 10

interface StoreRow {
  store: string
  where: string
  insertSeconds: number
  all: LatencyResult
  hot: LatencyResult
  sizeMb: number
}

const us = (value: number) => value.toFixed(0)

async function sqliteRow(space: SessionSpace): Promise<StoreRow> {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-scale-'))
  const path = join(dir, 'scale.sqlite')
  const stores = await createSqliteStores({ path })
  try {
    log(`SQLite: inserting ${SESSIONS} sessions…`)
    const { insertSeconds } = fillSqlite(stores.database as never, space, Date.now(), (n) =>
      log(`  ${n} sessions`),
    )
    stores.database.pragma('wal_checkpoint(TRUNCATE)')
    const sizeMb = statSync(path).size / 1024 / 1024
    log('SQLite: validating…')
    const all = await measureValidation(stores, space, SECONDS)
    const hot = await measureValidation(stores, space, SECONDS, 1000)
    return { store: 'SQLite', where: 'file in a temporary folder, WAL', insertSeconds, all, hot, sizeMb }
  } finally {
    await stores.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function postgresRow(space: SessionSpace): Promise<StoreRow> {
  let server: PrivateService | undefined
  let url = process.env.SCALE_DATABASE_URL
  if (url === undefined || url === '') {
    log('PostgreSQL: starting a private instance…')
    server = await startPrivatePostgres()
    url = server.url
  }
  const schema = `jb_scale_${process.pid}_${randomBytes(4).toString('hex')}`
  try {
    const stores = await createPostgresStores({
      connectionString: url,
      schema,
      migrate: true,
      connectionTimeoutMs: 5000,
    })
    try {
      log(`PostgreSQL: inserting ${SESSIONS} sessions…`)
      const client = await stores.pool.connect()
      let insertSeconds: number
      try {
        ;({ insertSeconds } = await fillPostgres(client, schema, space, Date.now(), (n) =>
          log(`  ${n} sessions`),
        ))
      } finally {
        client.release()
      }
      const size = (await stores.pool.query(
        `SELECT (pg_total_relation_size('"${schema}".sessions') + pg_total_relation_size('"${schema}".identities')) AS bytes`,
      )) as { rows: { bytes: string }[] }
      log('PostgreSQL: validating…')
      const all = await measureValidation(stores, space, SECONDS)
      const hot = await measureValidation(stores, space, SECONDS, 1000)
      const where =
        server === undefined ? `${new URL(url).host}, throwaway schema` : 'private instance, default settings'
      return {
        store: 'PostgreSQL',
        where,
        insertSeconds,
        all,
        hot,
        sizeMb: Number(size.rows[0]?.bytes ?? 0) / 1024 / 1024,
      }
    } finally {
      await stores.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
      await stores.close()
    }
  } finally {
    await server?.stop()
  }
}

log(`# Scale: ${new Date().toISOString()}`)
log('')
log(
  `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at start. The machine may be shared with other work: figures are indicative.`,
)
log('')
let ok = true
if (STORES.length > 0) {
  const space = new SessionSpace(SESSIONS, SESSIONS_PER_IDENTITY)
  const rows: StoreRow[] = []
  for (const store of STORES) {
    try {
      rows.push(store === 'sqlite' ? await sqliteRow(space) : await postgresRow(space))
    } catch (error) {
      ok = false
      log(`${store}: failed: ${(error as Error).message}`)
    }
  }
  log('')
  log(
    `## Session validation with ${SESSIONS.toLocaleString('en')} sessions (${space.identities.toLocaleString('en')} identities)`,
  )
  log('')
  log(
    'validateSession (session by id, SHA-256 of the secret, constant-time compare, expiry, identity by id), one call at a time, random sessions; "hot": drawn from only 1,000 of them.',
  )
  log('')
  log(
    '| store | bulk insert | size | validations/s | p50 (µs) | p99 (µs) | hot p50 (µs) | hot p99 (µs) | CPU share |',
  )
  log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of rows) {
    log(
      `| ${r.store} (${r.where}) | ${r.insertSeconds.toFixed(1)} s | ${r.sizeMb.toFixed(0)} MB | ${Math.round(r.all.opsPerSecond).toLocaleString('en')} | ${us(r.all.p50Us)} | ${us(r.all.p99Us)} | ${us(r.hot.p50Us)} | ${us(r.hot.p99Us)} | ${r.all.cpuShare.toFixed(2)} |`,
    )
  }
}

if (CACHE_SIZES.length > 0) {
  log('')
  log(`Token cache: ${TOKENS.toLocaleString('en')} distinct EdDSA tokens per cache size…`)
  const results: TokenCacheResult[] = []
  for (const size of CACHE_SIZES) results.push(await measureTokenCache(size, TOKENS, TOKEN_SECONDS, log))
  log('')
  log(`## Verified-token cache under ${TOKENS.toLocaleString('en')} distinct tokens`)
  log('')
  log(
    'Heap used after a full collection, over the verifier\'s own before the first token. "Full": once 2 × maxEntries tokens were verified.',
  )
  log('')
  log(
    '| maxEntries | tokens verified | time | heap when full | heap at the end | most after full | per entry | bounded |',
  )
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const r of results) {
    // Bounded: nothing after the cache filled grows by more than 10% of what the full cache costs
    // (or 2 MB, for the small cache, where collector noise dominates).
    const bounded = r.maxAfterFullMb <= r.fullMb + Math.max(2, r.fullMb * 0.1)
    if (!bounded) ok = false
    const perEntry = Math.round((r.endMb * 1024 * 1024) / Math.min(r.maxEntries, r.tokens))
    log(
      `| ${r.maxEntries.toLocaleString('en')} | ${r.tokens.toLocaleString('en')} | ${r.seconds.toFixed(0)} s | +${r.fullMb.toFixed(1)} MB | +${r.endMb.toFixed(1)} MB | +${r.maxAfterFullMb.toFixed(1)} MB | ~${perEntry} B | ${bounded ? 'yes' : 'NO'} |`,
    )
  }
  log('')
  for (const r of results) {
    log(
      `maxEntries ${r.maxEntries}: ${r.points.map((p) => `${p.tokens.toLocaleString('en')} → +${p.heapMb.toFixed(1)} MB`).join(', ')}`,
    )
  }
}
log('')
log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end.`,
)
process.exitCode = ok ? 0 : 1
