// The reference app started in-process for a test file: its own SQLite file in a temp dir, a free
// port on 127.0.0.1, no log output. Row counts are read from the SQLite file itself, so a test sees
// what the app really stored, not what an API says; and every exchange is recorded as the app's own
// HTTP server saw it (request headers that matter, status, Set-Cookie), which a browser does not
// always show (an opaque no-cors answer hides both).
import { mkdtempSync, rmSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { readConfig } from '../../src/app/config.ts'
import { type RunningApp, type StartOptions, startApp } from '../../src/app/server.ts'

/** One request as the app's server received and answered it. Never a body. */
export interface Exchange {
  method: string
  /** Path and query. */
  url: string
  origin: string | undefined
  secFetchSite: string | undefined
  status: number
  setCookie: string[]
}

export interface TestApp {
  app: RunningApp
  /** The app's origin, e.g. http://127.0.0.1:40123 */
  url: string
  /** Rows in a table of the app's SQLite file (sessions, identities, used_tokens). */
  rows(table: 'sessions' | 'identities' | 'used_tokens'): number
  /** Answered requests, in order of their answers. */
  exchanges: Exchange[]
  close(): Promise<void>
}

export async function startTestApp(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-app-'))
  const sqlitePath = join(dir, 'app.sqlite')
  let app: RunningApp
  try {
    app = await startApp(
      readConfig({ PORT: '0', SQLITE_PATH: sqlitePath, LOG_LEVEL: 'silent', ...env }),
      options,
    )
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const exchanges: Exchange[] = []
  // A second 'request' listener on the app's node:http server: it only reads, Fastify answers.
  app.fastify.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    response.on('finish', () => {
      const cookies = response.getHeader('set-cookie')
      exchanges.push({
        method: request.method ?? '',
        url: request.url ?? '',
        origin: request.headers.origin,
        secFetchSite: request.headers['sec-fetch-site'] as string | undefined,
        status: response.statusCode,
        setCookie: cookies === undefined ? [] : Array.isArray(cookies) ? cookies : [String(cookies)],
      })
    })
  })
  return {
    app,
    url: app.url,
    exchanges,
    rows(table) {
      const db = new Database(sqlitePath, { readonly: true, fileMustExist: true })
      try {
        return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
      } finally {
        db.close()
      }
    },
    async close() {
      try {
        await app.close()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
