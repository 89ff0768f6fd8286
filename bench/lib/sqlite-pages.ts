// How many pages of the SQLite write-ahead log a sign-in writes, with random session ids and with the
// ids the bridge makes (time first): a count, not a timing, so it is the same on any machine. Each
// page is a 4 KiB frame written with two `pwrite` calls on the thread that commits.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSessionToken } from '../../src/bridge/session-token.ts'
import { randomBase64url } from '../../src/random.ts'
import { createSqliteStores } from '../../src/stores/sqlite/stores.ts'
import type { SignInWrite } from '../../src/stores/types.ts'

/** A WAL frame: 24-byte header and one page (SQLite's default 4 KiB). */
const FRAME_BYTES = 24 + 4096
const SUBJECTS = 1000
const BATCH = 4

export interface LogPagesResult {
  ids: 'random' | 'time first'
  pagesPerSignIn: number
}

/**
 * `warm` sign-ins, then `measured` more, `BATCH` at a time (one commit each, as under load), subjects
 * cycling over 1000, into a fresh file; the log's growth over the measured ones, in frames.
 */
export async function logPagesPerSignIn(
  ids: LogPagesResult['ids'],
  warm = 20_000,
  measured = 5_000,
): Promise<LogPagesResult> {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-log-pages-'))
  const path = join(dir, 'pages.sqlite')
  // SQLite's own checkpoints, turned off below: the log only grows, so its size counts every frame.
  const stores = await createSqliteStores({ path, checkpoint: 'automatic' })
  try {
    stores.database.pragma('wal_autocheckpoint = 0')
    const signIn = stores.sessions.signInTransaction
    if (signIn === undefined) throw new Error('the SQLite stores have no sign-in transaction')
    let count = 0
    let nowMs = Date.UTC(2026, 11, 2)
    const write = (): SignInWrite => {
      count++
      nowMs += 1
      const id = ids === 'random' ? randomBase64url(16) : generateSessionToken(nowMs).id
      const key = createHash('sha256').update(`token ${count} ${ids}`).digest('base64url')
      return {
        usedToken: { key, expiresAtMs: nowMs + 3_600_000 },
        identity: {
          issuer: 'https://issuer.example',
          subject: `user-${count % SUBJECTS}`,
          claims: { email: `user-${count % SUBJECTS}@example.com` },
          nowMs,
        },
        session: {
          id,
          secretHash: new Uint8Array(32),
          issuer: 'https://issuer.example',
          providerSessionId: null,
          createdAtMs: nowMs,
          expiresAtMs: nowMs + 86_400_000,
          lastSeenAtMs: nowMs,
        },
      }
    }
    const run = async (signIns: number) => {
      for (let done = 0; done < signIns; done += BATCH)
        await Promise.all(Array.from({ length: BATCH }, () => signIn.signIn(write())))
    }
    await run(warm)
    stores.database.pragma('wal_checkpoint(TRUNCATE)')
    const before = statSync(`${path}-wal`).size
    await run(measured)
    const after = statSync(`${path}-wal`).size
    return { ids, pagesPerSignIn: (after - before) / FRAME_BYTES / measured }
  } finally {
    await stores.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
