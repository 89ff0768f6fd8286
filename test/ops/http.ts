// Plain HTTP for the operations tests: a new connection per request (so that a cluster's primary
// hands each one to the next worker), bounded in time, and a browser-like sign-in through the
// reference app's real routes (page → CSRF cookie and token → PUT /auth).
import { request as httpRequest } from 'node:http'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
}

export function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer from ${new URL(url).pathname} in time`)))
    req.on('error', reject)
    req.end(options.body)
  })
}

/** `name=value` of the first Set-Cookie named `name` (empty value when cleared), or undefined. */
export function cookieFrom(answer: Answer, name: string): string | undefined {
  const raw = answer.headers['set-cookie']
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  for (const line of all) {
    const pair = line.split(';', 1)[0] as string
    if (pair.startsWith(`${name}=`)) return pair
  }
  return undefined
}

export const SESSION_COOKIE = 'jwks-bridge-session'
export const CSRF_COOKIE = 'jwks-bridge-session-csrf'

/** A fresh CSRF pre-session from the home page: its cookie and the token the page carries. */
export async function csrfFor(base: string): Promise<{ cookie: string; token: string }> {
  const page = await request(`${base}/`)
  if (page.status !== 200) throw new Error(`home page answered ${page.status}`)
  const cookie = cookieFrom(page, CSRF_COOKIE)
  if (cookie === undefined) throw new Error('the home page set no CSRF cookie')
  return { cookie, token: cookie.slice(CSRF_COOKIE.length + 1) }
}

/** PUT /auth as the browser script does it, with a CSRF pre-session from `csrfFor`. */
export async function handoff(
  base: string,
  jwt: string,
  csrf: { cookie: string; token: string },
  extraCookie?: string,
): Promise<Answer> {
  return request(`${base}/auth`, {
    method: 'PUT',
    headers: {
      origin: base,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
      'x-csrf-token': csrf.token,
      cookie: extraCookie === undefined ? csrf.cookie : `${csrf.cookie}; ${extraCookie}`,
    },
    body: JSON.stringify({ jwt }),
  })
}

/** Signs in with `jwt`; resolves to the session cookie (`name=value`), or throws with the status. */
export async function signIn(base: string, jwt: string): Promise<string> {
  const answer = await handoff(base, jwt, await csrfFor(base))
  const session = cookieFrom(answer, SESSION_COOKIE)
  if (answer.status !== 204 || session === undefined) {
    throw new Error(`sign-in answered ${answer.status}${answer.status >= 400 ? ` ${codeOf(answer)}` : ''}`)
  }
  return session
}

/** The error code of a JSON error answer, or ''. */
export function codeOf(answer: Answer): string {
  try {
    const body = JSON.parse(answer.text) as { error?: { code?: unknown } }
    return typeof body.error?.code === 'string' ? body.error.code : ''
  } catch {
    return ''
  }
}

/** Polls `check` until it is true, at most `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}
