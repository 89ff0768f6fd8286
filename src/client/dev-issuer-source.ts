import { sameOriginUrl } from './same-origin-url.js'
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
  /**
   * `<issuer>/<path>` resolved against the page's address and fetched absolute (see sameOriginUrl): an
   * injected `<base href>` would otherwise send the token request to a server that answers with its
   * own token (signing the user in as someone else) and the sign-out elsewhere. Same origin only, as
   * the issuer hands tokens only to pages of its own origin (it checks Sec-Fetch-Site / Origin).
   */
  const url = (path: string) => {
    const resolved = sameOriginUrl(`${issuerUrl.replace(/\/+$/, '')}/${path}`)
    if (!resolved) throw new Error('ERR_TOKEN_SOURCE')
    return resolved
  }
  return {
    async getToken() {
      const response = await fetch(url('token'), {
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
      const response = await fetch(url('sign-out'), { method: 'POST', credentials: 'same-origin' })
      if (!response.ok) throw new Error('ERR_TOKEN_SOURCE')
    },
  }
}
