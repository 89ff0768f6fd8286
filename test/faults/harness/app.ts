// The reference app (src/app/server.ts) started in this process for a fault scenario, configured from
// the environment variables an operator would set: ISSUER_URL and JWKS_URI at the scenario's key set
// host, DATABASE_URL / REDIS_URL at private servers, SQLite in a temporary folder otherwise.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig } from '../../../src/app/config.ts'
import { type RunningApp, startApp } from '../../../src/app/server.ts'
import type { IssuerHost } from './issuer-host.ts'
import { AppClient, type Session, type SessionPool, sendOne } from './load.ts'

export interface FaultApp {
  app: RunningApp
  client: AppClient
  /** The SQLite file (identities, and sessions unless Redis holds them). */
  sqlitePath: string
  close(): Promise<void>
}

export async function startFaultApp(
  host: IssuerHost,
  env: Record<string, string>,
  options: { nowMs?: () => number } = {},
): Promise<FaultApp> {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-faults-'))
  const sqlitePath = join(dir, 'app.sqlite')
  let app: RunningApp
  try {
    const config = readConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SQLITE_PATH: sqlitePath,
      ISSUER_URL: host.issuer,
      JWKS_URI: host.jwksUri,
      ...env,
    })
    app = await startApp(config, options.nowMs === undefined ? {} : { nowMs: options.nowMs })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    app,
    client: new AppClient(app.url, { timeoutMs: 10_000 }),
    sqlitePath,
    async close() {
      try {
        await app.close()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/** Signs `count` subjects in, one after another; throws unless every handoff succeeds. */
export async function signInMany(
  fault: FaultApp,
  host: IssuerHost,
  pool: SessionPool,
  count: number,
  subjectPrefix: string,
): Promise<Session[]> {
  const opened: Session[] = []
  for (let i = 0; i < count; i++) {
    const outcome = await sendOne({ client: fault.client, host, sessions: pool, subjectPrefix }, 'handoff')
    if (outcome.code !== 'OK') throw new Error(`warm-up sign-in failed: ${outcome.code}`)
    opened.push({
      cookie: outcome.cookie as string,
      sessionId: outcome.sessionId as string,
      identityId: outcome.identityId as string,
      subject: outcome.subject as string,
    })
  }
  return opened
}
