// What the HTTP benchmarks send: a browser page's state (the CSRF pair, then a session from one
// sign-in), and the scenarios built on it, GET /me with the session and PUT /auth with a token.
import type { TestIssuer } from '../../src/testing/index.ts'
import type { AppProcess } from './children.ts'
import type { Scenario } from './load.ts'
import { mintPool } from './tokens.ts'

export const ALL_SCENARIOS = ['me', 'handoff', 'invalid'] as const
export type ScenarioName = (typeof ALL_SCENARIOS)[number]

export const SCENARIO_LABEL: Record<ScenarioName, string> = {
  me: 'GET /me, valid session',
  handoff: 'handoff: PUT /auth, fresh token',
  invalid: 'PUT /auth, bad signature',
}

export const EXPECTED_STATUS: Record<ScenarioName, number> = { me: 200, handoff: 204, invalid: 401 }

/** What a browser page of the app would send with PUT /auth: same-origin headers and the CSRF pair. */
export interface ClientState {
  putHeaders: Record<string, string>
  sessionCookie: string
}

export function cookiePairs(response: Response): string[] {
  // Set-Cookie values whose Max-Age is not 0 (a cleared cookie is not kept), as name=value.
  return response.headers
    .getSetCookie()
    .filter((cookie) => !/;\s*max-age=0(?:;|$)/i.test(cookie))
    .map((cookie) => cookie.split(';', 1)[0]!)
}

/**
 * Signs in once and checks GET /me with the session. `csrfFromPage`: take the CSRF pair from the
 * app's page (the reference app checks it); otherwise send a made-up pair of the same size (the
 * baseline ignores it, and parses requests as large as the reference app's).
 */
export async function prepareClient(
  issuer: TestIssuer,
  app: AppProcess,
  csrfFromPage: boolean,
): Promise<ClientState> {
  let csrfCookie = `jwks-bridge-session-csrf=${'x'.repeat(43)}`
  let csrfToken = 'x'.repeat(43)
  if (csrfFromPage) {
    const page = await fetch(`${app.url}/`, { headers: { 'sec-fetch-site': 'none' } })
    const html = await page.text()
    const token = /<meta name="csrf-token" content="([A-Za-z0-9_-]+)">/.exec(html)?.[1]
    const cookie = cookiePairs(page)[0]
    if (page.status !== 200 || token === undefined || cookie === undefined)
      throw new Error(`GET / on ${app.name} gave no CSRF token (status ${page.status})`)
    csrfCookie = cookie
    csrfToken = token
  }
  const putHeaders = {
    'content-type': 'application/json',
    origin: app.url,
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': 'cors',
    cookie: csrfCookie,
    'x-csrf-token': csrfToken,
  }
  const { pool } = mintPool(issuer, 2)
  const signIn = await fetch(`${app.url}/auth`, { method: 'PUT', headers: putHeaders, body: pool.take() })
  const sessionCookie = cookiePairs(signIn).join('; ')
  if (signIn.status !== 204 || sessionCookie === '')
    throw new Error(`${app.name}: sign-in answered ${signIn.status}`)
  const me = await fetch(`${app.url}/me`, { headers: { cookie: sessionCookie } })
  await me.arrayBuffer()
  if (me.status !== 200) throw new Error(`${app.name}: GET /me after sign-in answered ${me.status}`)
  return { putHeaders, sessionCookie }
}

/** Whether an app refuses a token it has already accepted (the reference app must; the baseline does not). */
export async function refusesReplay(
  issuer: TestIssuer,
  app: AppProcess,
  client: ClientState,
): Promise<boolean> {
  const body = mintPool(issuer, 1).pool.take()
  const first = await fetch(`${app.url}/auth`, { method: 'PUT', headers: client.putHeaders, body })
  const second = await fetch(`${app.url}/auth`, { method: 'PUT', headers: client.putHeaders, body })
  await Promise.all([first.arrayBuffer(), second.arrayBuffer()])
  if (first.status !== 204) throw new Error(`${app.name}: a fresh token answered ${first.status}`)
  return second.status === 401
}

export function scenarioFor(name: ScenarioName, client: ClientState, body?: () => string): Scenario {
  if (name === 'me')
    return {
      name,
      method: 'GET',
      path: '/me',
      headers: { cookie: client.sessionCookie },
      expectStatus: EXPECTED_STATUS.me,
    }
  return {
    name,
    method: 'PUT',
    path: '/auth',
    headers: client.putHeaders,
    body: body as () => string,
    expectStatus: EXPECTED_STATUS[name],
  }
}
