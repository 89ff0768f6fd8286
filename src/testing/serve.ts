/**
 * A real HTTP server for a test issuer: the OpenID discovery document and the key set, on 127.0.0.1
 * with a port the system picks, so that tests exercise `jwksUri` and discovery exactly as against a
 * provider. Documents are built per request, so rotations show up at once.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface IssuerDocuments {
  /** Path → JSON document, computed per request. */
  routes(): ReadonlyMap<string, () => unknown>
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** GET requests answered so far (any path). */
  requests(): number
  close(): Promise<void>
}

export async function startIssuerServer(documents: IssuerDocuments): Promise<RunningServer> {
  const sockets = new Set<Socket>()
  let requests = 0
  const server: Server = createServer((req, res) => {
    requests += 1
    const path = (req.url ?? '/').split('?', 1)[0] as string
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed')
      return
    }
    const document = documents.routes().get(path)
    if (document === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    const body = JSON.stringify(document())
    // Short freshness, like SuperTokens' backend SDK default (60 s when core sends none).
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'max-age=60',
      'content-length': Buffer.byteLength(body),
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // Loopback only: a test issuer's keys must never be reachable from another machine.
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return closed
    },
  }
}
