// The baseline for the HTTP benchmark: the sign-in handoff written "the usual way" in Node.js, as a
// competent developer would write it from the libraries' own documentation: Express 5,
// express-session with a session store in SQLite (not MemoryStore, which leaks and cannot be shared
// by processes), jose's createRemoteJWKSet + jwtVerify, and better-sqlite3 for identities with
// prepared statements and WAL.
//
// Security gaps it has, on purpose (this is what the usual assembly does; the reference app closes
// them, and the benchmark must compare like with like in work done, not in safety):
// - no login-CSRF guard: any site can make a browser PUT an attacker's token here (no Origin /
//   Sec-Fetch-Site check, no CSRF token), signing the victim into the attacker's account;
// - no replay guard: a stolen token opens sessions for its whole lifetime (no single use, no age
//   limit on `iat`);
// - no token profile: any token the issuer signs for anyone (an access token for another API, a
//   logout token) signs someone in;
// - with request logging on, pino-http's defaults log every request's headers, the session cookie
//   included (its documentation shows `redact` as an option, not a default).
//
// Request logging, when on, is pino-http with its defaults (one JSON line per response at `info`, to
// stdout through pino's default destination), the usual way to log in Express.
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Database from 'better-sqlite3'
import express, { type NextFunction, type Request, type Response } from 'express'
import session, { type SessionData } from 'express-session'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { pinoHttp } from 'pino-http'

declare module 'express-session' {
  interface SessionData {
    identityId: number
  }
}

export interface BaselineOptions {
  issuer: string
  jwksUri: string
  sqlitePath: string
  /** false: the session store has no `touch`, so express-session writes nothing on reads. Default true. */
  touch?: boolean
  /** The accepted algorithm (default RS256). */
  algorithm?: 'RS256' | 'ES256'
  /** true: pino-http request logging at `info` to stdout. Default false. */
  log?: boolean
}

export interface RunningBaseline {
  url: string
  close(): Promise<void>
}

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * A session store in SQLite, shaped like the published ones (connect-sqlite3, better-sqlite3-session-store,
 * connect-pg-simple): one row per session holding its JSON, an expiry column, and `touch` updating
 * the expiry on every request that does not save (which is how express-session keeps a rolling
 * idle timeout with `resave: false`).
 */
class SqliteSessionStore extends session.Store {
  readonly #get: Database.Statement<[string, number], { sess: string }>
  readonly #set: Database.Statement<[string, string, number]>
  readonly #destroy: Database.Statement<[string]>
  readonly #touch: Database.Statement<[number, string]>

  constructor(db: Database.Database, touch: boolean) {
    super()
    db.exec(
      'CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, sess TEXT NOT NULL, expires INTEGER NOT NULL)',
    )
    this.#get = db.prepare('SELECT sess FROM sessions WHERE sid = ? AND expires > ?')
    this.#set = db.prepare(
      'INSERT INTO sessions (sid, sess, expires) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET sess = excluded.sess, expires = excluded.expires',
    )
    this.#destroy = db.prepare('DELETE FROM sessions WHERE sid = ?')
    this.#touch = db.prepare('UPDATE sessions SET expires = ? WHERE sid = ?')
    if (!touch) (this as { touch?: unknown }).touch = undefined
  }

  static expiry(sess: SessionData): number {
    const expires = sess.cookie?.expires
    return expires ? new Date(expires).getTime() : Date.now() + DAY_MS
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    try {
      const row = this.#get.get(sid, Date.now())
      callback(null, row ? (JSON.parse(row.sess) as SessionData) : null)
    } catch (error) {
      callback(error)
    }
  }

  override set(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    try {
      this.#set.run(sid, JSON.stringify(sess), SqliteSessionStore.expiry(sess))
      callback?.()
    } catch (error) {
      callback?.(error)
    }
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    try {
      this.#destroy.run(sid)
      callback?.()
    } catch (error) {
      callback?.(error)
    }
  }

  override touch(sid: string, sess: SessionData, callback?: () => void): void {
    this.#touch.run(SqliteSessionStore.expiry(sess), sid)
    callback?.()
  }
}

interface IdentityRow {
  id: number
  issuer: string
  subject: string
  created_at: number
  last_sign_in_at: number
}

export async function startBaseline(options: BaselineOptions): Promise<RunningBaseline> {
  const db = new Database(options.sqlitePath)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE IF NOT EXISTS identities (
    id INTEGER PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL,
    created_at INTEGER NOT NULL, last_sign_in_at INTEGER NOT NULL, UNIQUE (issuer, subject))`)
  // Find or create in one statement (atomic, one round trip into SQLite).
  const upsertIdentity = db.prepare<[string, string, number, number], { id: number }>(
    `INSERT INTO identities (issuer, subject, created_at, last_sign_in_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (issuer, subject) DO UPDATE SET last_sign_in_at = excluded.last_sign_in_at RETURNING id`,
  )
  const identityById = db.prepare<[number], IdentityRow>('SELECT * FROM identities WHERE id = ?')

  // jose caches the key set and refetches on an unknown kid (with a cooldown), like the bridge.
  const jwks = createRemoteJWKSet(new URL(options.jwksUri))
  const algorithms = [options.algorithm ?? 'RS256']
  const app = express()
  app.disable('x-powered-by')
  if (options.log === true) app.use(pinoHttp())
  app.use(
    session({
      store: new SqliteSessionStore(db, options.touch ?? true),
      secret: randomBytes(32).toString('base64url'),
      resave: false,
      saveUninitialized: false,
      // secure: true in production behind TLS; the benchmark runs on plain-http loopback.
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 7 * DAY_MS },
    }),
  )

  app.put(
    '/auth',
    express.json({ limit: '16kb' }),
    async (req: Request, res: Response, next: NextFunction) => {
      const token = (req.body as { jwt?: unknown } | undefined)?.jwt
      if (typeof token !== 'string') {
        res.status(400).json({ error: 'jwt missing' })
        return
      }
      let subject: string
      let issuer: string
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer, algorithms })
        if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('no subject')
        subject = payload.sub
        issuer = payload.iss as string
      } catch {
        res.status(401).json({ error: 'invalid token' })
        return
      }
      try {
        const now = Date.now()
        const identity = upsertIdentity.get(issuer, subject, now, now)
        // A new session id at sign-in (session fixation), as express-session's documentation shows.
        // express-session saves the session before the response is sent; an explicit save() here
        // would write it twice (the id changed since the request began).
        req.session.regenerate((error) => {
          if (error) return next(error)
          req.session.identityId = identity!.id
          res.sendStatus(204)
        })
      } catch (error) {
        next(error)
      }
    },
  )

  app.get('/me', (req: Request, res: Response) => {
    const id = req.session.identityId
    const row = id === undefined ? undefined : identityById.get(id)
    res.set('cache-control', 'no-store')
    if (row === undefined) {
      res.status(401).json({ error: 'not signed in' })
      return
    }
    res.json({
      id: row.id,
      issuer: row.issuer,
      subject: row.subject,
      createdAt: new Date(row.created_at).toISOString(),
      lastSignInAt: new Date(row.last_sign_in_at).toISOString(),
    })
  })

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    )
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
      db.close()
    },
  }
}
