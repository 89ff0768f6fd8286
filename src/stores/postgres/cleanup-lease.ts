/**
 * The PostgreSQL cleanup lease: a session-level advisory lock (pg_try_advisory_lock) held on one
 * pooled connection for the length of a cleanup tick. Of several instances sharing the database,
 * only one gets it; the others skip their tick instead of deleting the same rows at the same time.
 * The lock dies with the connection, so a crashed holder never blocks the others for long.
 */
import { guarded } from '../failure.js'
import type { CleanupLease } from '../types.js'
import type { PgPool } from './driver.js'

// One lock per schema: two apps in two schemas of one database clean independently.
const TRY_LOCK =
  "SELECT pg_try_advisory_lock(hashtext('jwks-bridge cleanup ' || coalesce($1, current_schema()))) AS held"
const UNLOCK = "SELECT pg_advisory_unlock(hashtext('jwks-bridge cleanup ' || coalesce($1, current_schema())))"

export async function acquirePostgresCleanupLease(
  pool: PgPool,
  schema: string | undefined,
): Promise<CleanupLease | undefined> {
  const client = await guarded('PostgreSQL', 'take the cleanup lease', () => pool.connect())
  let held = false
  try {
    const result = await client.query(TRY_LOCK, [schema ?? null])
    held = (result.rows[0] as { held: boolean } | undefined)?.held === true
  } catch (error) {
    // The lock's state is unknown on this connection: discard it, which drops any lock it held.
    client.release(error instanceof Error ? error : true)
    return guarded('PostgreSQL', 'take the cleanup lease', () => Promise.reject(error))
  }
  if (!held) {
    client.release()
    return undefined
  }
  let released = false
  return {
    async release() {
      if (released) return
      released = true
      try {
        await client.query(UNLOCK, [schema ?? null])
        client.release()
      } catch (error) {
        // Discarding the connection ends its session, and with it the lock.
        client.release(error instanceof Error ? error : true)
      }
    },
  }
}
