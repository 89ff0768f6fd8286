// needs: postgres, build
// Issue 6 item 4, on a small scale: PostgreSQL (identities, sessions, replay guard) stopped and started
// again while the reference app serves a mixed load. While it is away, requests fail fast with 503
// ERR_STORE_UNAVAILABLE; nothing is lost or half-written; the app recovers by itself, without a restart.
import { after, before, describe, it } from 'node:test'
import { type PrivateService, startPrivatePostgres } from '../helpers/private-services.ts'
import { type FaultApp, startFaultApp } from './harness/app.ts'
import { type IssuerHost, startIssuerHost } from './harness/issuer-host.ts'
import { readPostgresState } from './harness/ledger.ts'
import { assertFailsFastAndRecovers, storeOutage } from './harness/store-outage.ts'

describe('PostgreSQL restarted mid-load', () => {
  let postgres: PrivateService | undefined
  let host: IssuerHost | undefined
  let fault: FaultApp | undefined

  before(async () => {
    postgres = await startPrivatePostgres()
    host = await startIssuerHost()
    fault = await startFaultApp(host, { DATABASE_URL: postgres.url })
  })

  after(async () => {
    await fault?.close()
    await host?.close()
    await postgres?.stop()
  })

  it('fails fast with 503 ERR_STORE_UNAVAILABLE, loses and half-writes nothing, recovers by itself', async (t) => {
    const server = postgres as PrivateService
    const idp = host as IssuerHost
    const result = await storeOutage({
      app: fault as FaultApp,
      host: idp,
      server,
      label: 'PostgreSQL',
      outageMs: 1000,
      readState: () => readPostgresState(server.url, idp.issuer),
    })
    for (const note of result.notes) t.diagnostic(note)
    assertFailsFastAndRecovers(result)
  })
})
