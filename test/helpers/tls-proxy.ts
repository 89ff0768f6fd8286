// A TLS-terminating reverse proxy on loopback, as production puts in front of an app server: https in,
// plain http to the app on 127.0.0.1 with X-Forwarded-Proto: https (the client's own copy overwritten).
// Its certificate is self-signed for 127.0.0.1 and localhost, made with openssl at test time.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TlsProxy {
  /** https://127.0.0.1:PORT */
  url: string
  close(): Promise<void>
}

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-tls-'))
  try {
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1']
        .concat(['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'])
        .concat(['-keyout', key, '-out', cert]),
      { stdio: 'ignore' },
    )
    return { key: readFileSync(key), cert: readFileSync(cert) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Listens on 127.0.0.1 (a free port) and forwards every request to http://127.0.0.1:`targetPort`. */
export async function startTlsProxy(targetPort: number): Promise<TlsProxy> {
  const server: Server = createServer(selfSignedCertificate(), (incoming, outgoing) => {
    // The proxy says what it saw; a client's own X-Forwarded-* must never pass (trustProxy reads them).
    const headers = { ...incoming.headers }
    for (const name of Object.keys(headers)) if (name.startsWith('x-forwarded-')) delete headers[name]
    headers['x-forwarded-proto'] = 'https'
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, method: incoming.method, path: incoming.url, headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
        answer.pipe(outgoing)
      },
    )
    upstream.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
    incoming.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
