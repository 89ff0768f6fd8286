// What the selected test files need from the machine (PostgreSQL, Redis, Chromium), and making it
// so before they run: `npm test` must pass by itself on a fresh machine.
//
// - PostgreSQL and Redis: the machine's own when they answer at TEST_DATABASE_URL / TEST_REDIS_URL
//   (default 127.0.0.1:5432 and :6379); otherwise a private instance of each, started from the
//   installed binaries on a free loopback port (test/helpers/private-services.ts, as the fault tests
//   do), whose URL is handed to the tests in the same variables. TEST_SERVICES=private always
//   starts private instances (how the start-up itself is tested without stopping the machine's).
// - Chromium: Debian's, at /usr/bin/chromium (playwright-core downloads no browser).
// - Missing programs: installed with apt-get when running as root (said so on stderr); otherwise the
//   run stops at once with one line naming what is missing and the command that installs it.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { dirname, join, resolve } from 'node:path'

export const CHROMIUM = '/usr/bin/chromium'
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

// What a file's text says it uses. The files that define these names are not read themselves
// (their importers name what they use).
const MARKERS = {
  postgresServer: /\bPOSTGRES(_URL)?\b/,
  postgresBinaries: /\bstartPrivatePostgres\b/,
  redisServer: /\bREDIS\b/,
  redisBinary: /\bstartPrivateRedis\b|'redis-server'/,
  chromium: /\blaunchChromium\b/,
}
const DEFINERS = new Set([
  'test/stores/support.ts',
  'test/helpers/private-services.ts',
  'test/helpers/browser.ts',
])

/** Which of MARKERS the test files, and the test/ modules they import (transitively), use. */
export function needsOf(files) {
  const needs = Object.fromEntries(Object.keys(MARKERS).map((name) => [name, false]))
  const seen = new Set()
  const visit = (file) => {
    const key = file.split('\\').join('/')
    if (seen.has(key) || !existsSync(file)) return
    seen.add(key)
    if (DEFINERS.has(key)) return
    const text = readFileSync(file, 'utf8')
    for (const [name, marker] of Object.entries(MARKERS)) if (marker.test(text)) needs[name] = true
    for (const match of text.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g)) {
      const target = join(dirname(file), match[1])
      if (target.startsWith('test')) visit(target)
    }
  }
  for (const file of files) visit(file)
  return {
    postgres: needs.postgresServer || needs.postgresBinaries,
    postgresServer: needs.postgresServer,
    redis: needs.redisServer || needs.redisBinary,
    redisServer: needs.redisServer,
    chromium: needs.chromium,
  }
}

/** PostgreSQL's server programs: $PG_BIN, or the newest /usr/lib/postgresql/<version>/bin. */
function postgresBinariesFound() {
  const has = (bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))
  if (process.env.PG_BIN !== undefined) return has(process.env.PG_BIN)
  const root = '/usr/lib/postgresql'
  return existsSync(root) && readdirSync(root).some((version) => has(join(root, version, 'bin')))
}

function onPath(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0
}

/** Whether PostgreSQL answers a query at `url` (the database exists, the user may connect). */
async function postgresAnswers(url) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/** Whether Redis answers PING at `url`. */
function redisAnswers(url) {
  const { hostname, port } = new URL(url)
  return new Promise((done) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) })
    let answer = ''
    const finish = (ok) => {
      socket.destroy()
      done(ok)
    }
    socket.setTimeout(2000, () => finish(false))
    socket.once('error', () => finish(false))
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      if (answer.includes('\r\n')) finish(answer.startsWith('+PONG'))
    })
    socket.once('connect', () => socket.write('PING\r\n'))
  })
}

const say = (line) => process.stderr.write(`npm test: ${line}\n`)

/**
 * Installs what is missing when it can (root with apt-get), or stops the process with one line.
 * `missing` lists { what, apt } with `apt` the Debian package.
 */
function installOrStop(missing) {
  const packages = missing.map((item) => item.apt)
  const names = missing.map((item) => item.what).join(', ')
  const command = `apt-get install -y ${packages.join(' ')}`
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    say(`${names} not installed: installing the Debian packages ${packages.join(' ')} with apt-get (as root)`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const update = spawnSync('apt-get', ['update'], { stdio: ['ignore', 2, 2], env })
    const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
      stdio: ['ignore', 2, 2],
      env,
    })
    if (update.status === 0 && install.status === 0) return
    say(`apt-get failed; install ${names} yourself: ${command}`)
    process.exit(1)
  }
  say(`missing ${names}; install with: sudo apt-get update && sudo ${command} (Debian/Ubuntu)`)
  process.exit(1)
}

/**
 * Makes sure what `files` need is there, and starts private PostgreSQL and Redis when the machine's
 * do not answer. Returns the environment for the test processes and a stop() for what it started.
 */
export async function prepareServices(files, root) {
  const needs = needsOf(files)
  const env = { ...process.env }
  const forcePrivate = process.env.TEST_SERVICES === 'private'
  if (process.env.TEST_SERVICES !== undefined && !['private', 'auto'].includes(process.env.TEST_SERVICES)) {
    say(
      `TEST_SERVICES must be "auto" (the default) or "private", not ${JSON.stringify(process.env.TEST_SERVICES)}`,
    )
    process.exit(1)
  }
  const databaseUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL
  const redisUrl = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL
  const privatePostgres =
    needs.postgres && needs.postgresServer && (forcePrivate || !(await postgresAnswers(databaseUrl)))
  const privateRedis = needs.redis && needs.redisServer && (forcePrivate || !(await redisAnswers(redisUrl)))

  const missing = []
  if ((privatePostgres || (needs.postgres && !needs.postgresServer)) && !postgresBinariesFound()) {
    missing.push({ what: 'PostgreSQL (initdb, pg_ctl)', apt: 'postgresql' })
  }
  if ((privateRedis || (needs.redis && !needs.redisServer)) && !onPath('redis-server')) {
    missing.push({ what: 'Redis (redis-server)', apt: 'redis-server' })
  }
  if (needs.chromium && !existsSync(CHROMIUM))
    missing.push({ what: `Chromium (${CHROMIUM})`, apt: 'chromium' })
  if (missing.length > 0) installOrStop(missing)

  const started = []
  const stop = async () => {
    for (const service of started.splice(0)) await service.stop().catch(() => {})
  }
  if (privatePostgres || privateRedis) {
    // The same helper the fault tests use: TypeScript, loaded through tsx.
    const { register } = await import('tsx/esm/api')
    register()
    const helpers = await import(resolve(root, 'test/helpers/private-services.ts'))
    try {
      if (privatePostgres) {
        const postgres = await helpers.startPrivatePostgres()
        started.push(postgres)
        env.TEST_DATABASE_URL = postgres.url
        say(
          `${why(forcePrivate, 'PostgreSQL', databaseUrl)}: started a private PostgreSQL at ${postgres.url}`,
        )
      }
      if (privateRedis) {
        const redis = await helpers.startPrivateRedis()
        started.push(redis)
        env.TEST_REDIS_URL = redis.url
        say(`${why(forcePrivate, 'Redis', redisUrl)}: started a private Redis at ${redis.url}`)
      }
    } catch (error) {
      await stop()
      say(`could not start a private server: ${String(error.message).split('\n', 1)[0]}`)
      process.exit(1)
    }
  }
  return { env, stop, started: () => started.length }
}

function why(forced, what, url) {
  if (forced) return `TEST_SERVICES=private`
  return `no ${what} answered at ${url.replace(/\/\/[^@/]*@/, '//')}`
}
