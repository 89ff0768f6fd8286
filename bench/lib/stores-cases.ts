// The stores the benchmark runs against, each set up fresh and torn down after: memory (the
// reference), SQLite on a file in a temporary folder, PostgreSQL in a throwaway schema, Redis under
// a throwaway key prefix, a Redis Cluster of three primaries started for the run (redis-server from
// the machine, as the tests start it). And the two operations measured.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { createPostgresStores } from '../../src/stores/postgres/stores.ts'
import { createRedisStores } from '../../src/stores/redis/stores.ts'
import { createSqliteStores } from '../../src/stores/sqlite/stores.ts'
import type { IdentityStore, SessionStore } from '../../src/stores/types.ts'

export const STORE_NAMES = ['memory', 'SQLite', 'PostgreSQL', 'Redis', 'Redis Cluster'] as const
export type StoreName = (typeof STORE_NAMES)[number]

export interface BenchStores {
  name: StoreName
  sessions: SessionStore
  /** Redis holds no identities. */
  identities: IdentityStore | undefined
  /** What was measured against, for the report. */
  where: string
  teardown(): Promise<void>
}

export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const tag = `${process.pid}_${randomBytes(4).toString('hex')}`

export async function openStores(name: StoreName): Promise<BenchStores> {
  switch (name) {
    case 'memory': {
      const { identities, sessions } = createMemoryStores()
      return { name, identities, sessions, where: 'in process', teardown: async () => {} }
    }
    case 'SQLite': {
      const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-bench-'))
      const stores = await createSqliteStores({ path: join(dir, 'bench.sqlite') })
      return {
        name,
        identities: stores.identities,
        sessions: stores.sessions,
        where: 'file in a temporary folder, WAL, synchronous=NORMAL',
        async teardown() {
          await stores.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
    case 'PostgreSQL': {
      const schema = `jb_bench_${tag}`
      const stores = await createPostgresStores({
        connectionString: POSTGRES_URL,
        schema,
        migrate: true,
        connectionTimeoutMs: 2000,
      })
      return {
        name,
        identities: stores.identities,
        sessions: stores.sessions,
        where: `${new URL(POSTGRES_URL).host}, schema ${schema}`,
        async teardown() {
          await stores.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
          await stores.close()
        },
      }
    }
    case 'Redis': {
      const client = new Redis({
        host: '127.0.0.1',
        port: 6379,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
      })
      client.on('error', () => {})
      const prefix = `jwks-bridge-bench:${tag}:`
      const stores = createRedisStores({ client, prefix })
      await stores.ping()
      return {
        name,
        identities: undefined,
        sessions: stores.sessions,
        where: `127.0.0.1:6379, prefix ${prefix}`,
        async teardown() {
          const keys = await client.keys(`${prefix}*`)
          for (let i = 0; i < keys.length; i += 1000) await client.del(...keys.slice(i, i + 1000))
          client.disconnect()
        },
      }
    }
    case 'Redis Cluster': {
      const { startPrivateRedisCluster } = await import('../../test/helpers/private-services.ts')
      const { openRedisClient } = await import('../../src/app/redis-client.ts')
      const cluster = await startPrivateRedisCluster(3)
      try {
        // The reference app's own client and options (REDIS_CLUSTER_NODES).
        const opened = await openRedisClient({ seeds: cluster.seeds })
        await opened.connect()
        const stores = createRedisStores({ client: opened.client, prefix: `jwks-bridge-bench:${tag}:` })
        await stores.ping()
        return {
          name,
          identities: undefined,
          sessions: stores.sessions,
          where: `3 primaries on 127.0.0.1:${cluster.seeds.map((seed) => seed.port).join(',')}, no replicas`,
          async teardown() {
            opened.disconnect()
            await cluster.stop()
          },
        }
      } catch (error) {
        await cluster.stop()
        throw error
      }
    }
  }
}

const SESSIONS = 1000

/**
 * Prepares SESSIONS sessions and returns the bridge's validation of one: look the session up by
 * id, hash the presented secret, compare in constant time. Throws if a validation ever fails.
 */
export async function sessionValidation(stores: BenchStores): Promise<(i: number) => Promise<boolean>> {
  const issuer = 'https://bench.example'
  const identityId =
    stores.identities === undefined
      ? 'bench-identity'
      : (await stores.identities.upsert({ issuer, subject: 'bench', claims: {}, nowMs: Date.now() })).identity
          .id
  const tokens: { id: string; secret: Buffer }[] = []
  const now = Date.now()
  for (let i = 0; i < SESSIONS; i++) {
    const id = randomBytes(16).toString('base64url')
    const secret = randomBytes(32)
    await stores.sessions.create({
      id,
      secretHash: createHash('sha256').update(secret).digest(),
      identityId,
      issuer,
      providerSessionId: null,
      createdAtMs: now,
      expiresAtMs: now + 3_600_000,
      lastSeenAtMs: now,
    })
    tokens.push({ id, secret })
  }
  return async (i) => {
    const token = tokens[i % SESSIONS]!
    const session = await stores.sessions.get(token.id)
    if (session === undefined) throw new Error('a session went missing')
    const presented = createHash('sha256').update(token.secret).digest()
    if (!timingSafeEqual(presented, session.secretHash)) throw new Error('a session secret did not match')
    return true
  }
}

/** Sign-ins of SESSIONS subjects in turn: the first round creates them, later ones update. */
export function identityUpsert(identities: IdentityStore): (i: number) => Promise<boolean> {
  const issuer = 'https://bench.example'
  return async (i) => {
    const subject = `user-${i % SESSIONS}`
    await identities.upsert({
      issuer,
      subject,
      claims: { email: `${subject}@example.com` },
      nowMs: Date.now(),
    })
    return true
  }
}

/**
 * The whole handoff through the bridge core (`bridge.handle` of a PUT /auth): request guard, body,
 * ES256 verification, profile, replay guard (markTokenUsed), identity upsert, new session, cookie.
 * Tokens are minted ahead (each with its own jti), one per call; `count` bounds how many.
 */
export async function handoff(stores: BenchStores, count: number): Promise<(i: number) => Promise<boolean>> {
  const { createBridge } = await import('../../src/bridge/bridge.ts')
  const { createTestIssuer } = await import('../../src/testing/test-issuer.ts')
  const { createMemoryStores } = await import('../../src/stores/memory/stores.ts')
  const issuer = createTestIssuer({ issuer: 'https://bench-idp.example', alg: 'ES256' })
  const bridge = createBridge({
    verifier: { ...issuer.verifierOptions(), tokenCache: false },
    // Redis keeps no identities: pair it with in-process identities, as an app would with SQL.
    identities: stores.identities ?? createMemoryStores().identities,
    sessions: stores.sessions,
    // Off, explicitly (the default is on): this measures the stores under a handoff, not the guard.
    csrf: false,
  })
  const bodies = Array.from({ length: count }, (_, n) =>
    Buffer.from(JSON.stringify({ jwt: issuer.sign({ sub: `user-${n % SESSIONS}` }) })),
  )
  const headers = {
    host: 'localhost:3000',
    origin: 'http://localhost:3000',
    'sec-fetch-site': 'same-origin',
    'content-type': 'application/json',
  }
  return async (i) => {
    const body = bodies[i]
    if (body === undefined) throw new Error('out of pre-minted tokens: raise the count')
    // A connection from this machine: plain http is allowed only then (the request guard).
    const response = await bridge.handle({
      method: 'PUT',
      path: '/auth',
      headers,
      body,
      secure: false,
      loopback: true,
    })
    if (response?.status !== 204) throw new Error(`handoff answered ${response?.status}`)
    return true
  }
}
