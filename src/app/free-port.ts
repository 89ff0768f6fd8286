import { createServer } from 'node:net'

/**
 * A free port on `host`, for PORT=0: the development provider's issuer URL must name the port, and
 * with `--workers` the primary picks it once for every worker to bind.
 */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, host, () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}
