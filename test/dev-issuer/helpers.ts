// Helpers for the development provider's tests: plain requests to the core, a clock that tests move,
// and decoding a token's parts for shape checks (never printing the token itself).
import type { DevIssuer, DevIssuerRequest, DevIssuerResponse } from '../../src/dev-issuer/index.ts'

export const NOW_MS = 1_800_000_000_000

/** A clock the test moves by hand. */
export function manualClock(startMs = NOW_MS): {
  nowMs: () => number
  advanceSeconds(seconds: number): void
} {
  let now = startMs
  return {
    nowMs: () => now,
    advanceSeconds(seconds: number) {
      now += seconds * 1000
    },
  }
}

/** The decoded header or payload of a compact token (index 0 or 1). */
export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split('.')[index]
  if (part === undefined) throw new Error('not a compact token')
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** The `name=value` pair of a Set-Cookie header, to send back in a Cookie header. */
export function cookiePair(setCookie: string | null | undefined): string {
  if (setCookie === undefined || setCookie === null) throw new Error('no Set-Cookie header')
  return setCookie.split(';', 1)[0] as string
}

/** The attributes of a Set-Cookie header, lower-cased names, without the name=value pair. */
export function cookieAttributes(setCookie: string): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const part of setCookie.split(';').slice(1)) {
    const [name, ...value] = part.trim().split('=')
    attributes.set((name as string).toLowerCase(), value.join('='))
  }
  return attributes
}

export function formRequest(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  } satisfies DevIssuerRequest
}

/** Signs in through the core's form and returns the cookie pair to send back. */
export async function signInCore(devIssuer: DevIssuer, userName: string): Promise<string> {
  const answer = await devIssuer.handle(formRequest(`${devIssuer.basePath}/sign-in`, { username: userName }))
  if (answer.status !== 303) throw new Error(`sign-in answered ${answer.status}`)
  return cookiePair(answer.headers['set-cookie'])
}

/** GET /token through the core with `cookie`; returns the status and the token when there is one. */
export async function tokenCore(
  devIssuer: DevIssuer,
  cookie: string | undefined,
): Promise<{ answer: DevIssuerResponse; jwt: string | undefined }> {
  const answer = await devIssuer.handle({
    method: 'GET',
    path: `${devIssuer.basePath}/token`,
    headers: cookie === undefined ? {} : { cookie },
  })
  const body = answer.status === 200 ? (JSON.parse(answer.body) as { jwt?: unknown }) : {}
  return { answer, jwt: typeof body.jwt === 'string' ? body.jwt : undefined }
}

/**
 * The process warnings `run` causes, as `{ code, message }`. process.emitWarning delivers them on a
 * later tick, so this waits one macrotask after `run` before it stops listening.
 */
export async function collectWarnings(
  run: () => Promise<void> | void,
): Promise<{ code: string | undefined; message: string }[]> {
  const seen: { code: string | undefined; message: string }[] = []
  const listener = (warning: Error & { code?: string }) =>
    seen.push({ code: warning.code, message: warning.message })
  process.on('warning', listener)
  try {
    await run()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  return seen
}
