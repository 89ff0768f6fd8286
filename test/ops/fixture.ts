// The reference app in-process for the operations tests: a served test issuer it trusts (real
// HTTP key set fetches), its own SQLite file in a temp dir, a free port on 127.0.0.1.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig } from '../../src/app/config.ts'
import type { LogStream } from '../../src/app/logging.ts'
import { type RunningApp, startApp } from '../../src/app/server.ts'
import { createTestIssuer, type ServedTestIssuer, type TestIssuer } from '../../src/testing/index.ts'
import { request } from './http.ts'

export interface Issuer {
  idp: TestIssuer
  served: ServedTestIssuer
  /** ISSUER_URL and JWKS_URI for the app. */
  env: Record<string, string>
}

export async function serveIssuer(): Promise<Issuer> {
  const idp = createTestIssuer()
  const served = await idp.serve()
  return { idp, served, env: { ISSUER_URL: served.issuer, JWKS_URI: served.jwksUri } }
}

export interface OpsApp {
  app: RunningApp
  url: string
  close(): Promise<void>
}

/** Starts the app trusting `issuer`, with SQLite in a temp dir unless `env` says otherwise. */
export async function startOpsApp(
  issuer: Issuer,
  env: Record<string, string> = {},
  logStream?: LogStream,
): Promise<OpsApp> {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-ops-'))
  let app: RunningApp
  try {
    const config = readConfig({ PORT: '0', SQLITE_PATH: join(dir, 'app.sqlite'), ...issuer.env, ...env })
    app = await startApp(config, logStream === undefined ? {} : { logger: { level: 'debug' }, logStream })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    app,
    url: app.url,
    async close() {
      try {
        await app.close()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/**
 * The value of one series of a Prometheus exposition, e.g. `findSample(text, 'x_total', { result: 'ok' })`,
 * or undefined when no series has that name and those labels.
 */
export function findSample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      found[pair[1] as string] = pair[2] as string
    }
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

/**
 * The value of one series; fails the test when the series is missing, so that an exposition that is
 * not one (a 401's JSON body, an empty answer) can never pass for zeros.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const value = findSample(text, name, labels)
  if (value === undefined) {
    assert.fail(`no series ${name}${JSON.stringify(labels)} in the exposition (${text.length} characters)`)
  }
  return value
}

/** GET /metrics: fails unless it answers 200 in the Prometheus text format; resolves the exposition. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await request(`${url}/metrics`, { headers })
  assert.equal(answer.status, 200, `/metrics answered ${answer.status}`)
  assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  return answer.text
}
