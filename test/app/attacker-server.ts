// Another site, for the login-CSRF scenario: pages on their own origin (another port of 127.0.0.1,
// or localhost) that try to make the visitor's browser hand a token to the app, the way a real attack
// page would: a form that submits itself, and a fetch in no-cors mode (no preflight, opaque answer).
// The token is the attacker's own valid one (identity-providers.md §4.1: sign the victim into the
// attacker's account). It lives only in the pages this server sends.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Text for an HTML attribute value or a JS string in a page. */
const attr = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export class AttackerSite {
  readonly #server: Server
  #port = 0
  /** The app's handoff URL the pages aim at. */
  target = ''
  /** The token the pages carry. */
  token = ''

  constructor() {
    this.#server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0]
      const page = this.#page(path)
      if (page === undefined) {
        // Browsers ask for /favicon.ico; an empty answer keeps their consoles quiet.
        response.writeHead(path === '/favicon.ico' ? 204 : 404).end()
        return
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      response.end(page)
    })
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.#port = (this.#server.address() as AddressInfo).port
  }

  /** The site on 127.0.0.1 (same site as an app on 127.0.0.1, another origin: another port). */
  get origin(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  /** The same server as http://localhost:port: another site altogether for an app on 127.0.0.1. */
  get localhostOrigin(): string {
    return `http://localhost:${this.#port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections()
      this.#server.close(() => resolve())
    })
  }

  #page(path: string | undefined): string | undefined {
    if (path === '/form') {
      // A plain HTML form needs no CORS at all: the classic login-CSRF vector.
      return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>win a prize</title></head>
<body><form method="post" action="${attr(this.target)}" enctype="application/x-www-form-urlencoded">
<input type="hidden" name="jwt" value="${attr(this.token)}"></form>
<script>document.forms[0].submit()</script></body></html>`
    }
    if (path === '/fetch') {
      // no-cors: the browser sends a "simple" POST without asking the app first, and hides the answer.
      return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>win a prize</title></head>
<body><script>
fetch(${JSON.stringify(this.target)}, {
  method: 'POST', mode: 'no-cors', credentials: 'include',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: 'jwt=' + encodeURIComponent(${JSON.stringify(this.token)}),
}).then(() => { document.title = 'sent' }, () => { document.title = 'failed' })
</script></body></html>`
    }
    return undefined
  }
}
