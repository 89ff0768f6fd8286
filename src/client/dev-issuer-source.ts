import { looksLikeJwt, type TokenSource } from './token-source.js'

/**
 * Token source for jwks-bridge's development identity provider: `GET <issuer>/token` answers
 * `{ "jwt": "..." }` for the signed-in user (401 or 204 when no one is), `POST <issuer>/sign-out` ends its
 * session. Same origin as the page (the development provider mounted in the app). Each call to /token mints a new token, so a refresh needs no call of its own.
 *
 * @example
 * start({ source: devIssuerSource('/dev-issuer') })
 */
export function devIssuerSource(issuerUrl: string): TokenSource {
  const base = issuerUrl.replace(/\/+$/, '')
  return {
    async getToken() {
      // The issuer hands tokens only to pages of its own origin (it checks Sec-Fetch-Site / Origin).
      const response = await fetch(`${base}/token`, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      })
      if (response.status === 401 || response.status === 204) return undefined
      const body = response.ok ? ((await response.json()) as { jwt?: unknown } | null) : null
      if (!looksLikeJwt(body?.jwt)) throw new Error('ERR_TOKEN_SOURCE')
      return body.jwt
    },
    refresh() {},
    async signOut() {
      const response = await fetch(`${base}/sign-out`, { method: 'POST', credentials: 'same-origin' })
      if (!response.ok) throw new Error('ERR_TOKEN_SOURCE')
    },
  }
}
