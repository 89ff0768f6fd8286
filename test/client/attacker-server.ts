// Another origin on loopback, for the HTML-injection tests of the browser script: the server an
// injected `<base href>` or a hostile issuer URL points at. It answers the way a real attacker would,
// so that a request the script should never make completes and shows up here: CORS preflights are
// allowed for every method and header the script uses, and GET /issuer/token hands out the
// attacker's own JWT-shaped token (signing the victim in as the attacker). Every request is recorded.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The attacker's token: JWT-shaped, with no serial number the fake bridge would count as its own. */
export const ATTACKER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.attacker.c2lnbmF0dXJl'

export interface ReceivedRequest {
  /** "METHOD /path" */
  route: string
  csrf: string | undefined
  body: string
}

export class AttackerServer {
  readonly #server: Server
  origin = ''
  /** Every request that reached this origin, in order. */
  received: ReceivedRequest[] = []

  constructor() {
    this.#server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const path = new URL(req.url ?? '/', 'http://attacker').pathname
        const route = `${req.method} ${path}`
        const csrf = req.headers['x-csrf-token']
        this.received.push({ route, csrf: Array.isArray(csrf) ? csrf.join(',') : csrf, body })
        const cors = {
          'access-control-allow-origin': req.headers.origin ?? '*',
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'GET, POST, PUT, DELETE',
          'access-control-allow-headers': 'accept, content-type, x-csrf-token',
        }
        if (route === 'GET /issuer/token') {
          res.writeHead(200, { ...cors, 'content-type': 'application/json' })
          res.end(JSON.stringify({ jwt: ATTACKER_TOKEN }))
        } else {
          res.writeHead(204, cors).end()
        }
      })
    })
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    // Another port of 127.0.0.1: another origin than the fake bridge's.
    this.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      if (text.length < 10_000) text += chunk
    })
    req.on('end', () => resolve(text))
    req.on('error', () => resolve(text))
  })
}
