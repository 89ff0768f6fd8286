// needs: redis, build
// Issue 6 item 4, on a small scale: Redis (sessions and the replay guard; identities in SQLite) stopped
// and started again while the reference app serves a mixed load. While it is away, requests fail fast
// with 503 ERR_STORE_UNAVAILABLE (the app's client has no offline queue and bounded timeouts); nothing
// is lost or half-written; the app reconnects by itself.
//
// The private Redis keeps an append-only file, as a Redis holding sessions must in production: one that
// keeps nothing forgets every session and every used token when it restarts (see README.md).
import { after, before, describe, it } from 'node:test'
import { type PrivateService, startPrivateRedis } from '../helpers/private-services.ts'
import { type FaultApp, startFaultApp } from './harness/app.ts'
import { type IssuerHost, startIssuerHost } from './harness/issuer-host.ts'
import { readRedisSessions, readSqliteIdentities } from './harness/ledger.ts'
import { assertFailsFastAndRecovers, storeOutage } from './harness/store-outage.ts'

describe('Redis restarted mid-load', () => {
  let redis: PrivateService | undefined
  let host: IssuerHost | undefined
  let fault: FaultApp | undefined

  before(async () => {
    redis = await startPrivateRedis({ persistent: true })
    host = await startIssuerHost()
    fault = await startFaultApp(host, { REDIS_URL: redis.url })
  })

  after(async () => {
    await fault?.close()
    await host?.close()
    await redis?.stop()
  })

  it('fails fast with 503 ERR_STORE_UNAVAILABLE, loses and half-writes nothing, recovers by itself', async (t) => {
    const server = redis as PrivateService
    const idp = host as IssuerHost
    const app = fault as FaultApp
    const result = await storeOutage({
      app,
      host: idp,
      server,
      label: 'Redis',
      outageMs: 1000,
      readState: async () => ({
        identities: readSqliteIdentities(app.sqlitePath, idp.issuer),
        // The app's key prefix (src/app/stores.ts).
        sessions: await readRedisSessions(server.url, 'jwks-bridge:'),
      }),
    })
    for (const note of result.notes) t.diagnostic(note)
    assertFailsFastAndRecovers(result)
  })
})
