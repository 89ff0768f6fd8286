// Next.js Proxy (Next 16's name for middleware; it runs on the Node.js runtime) for page loads: issues
// the bridge's CSRF pair. Its cookie goes out with the page, and its token reaches the server
// components through a request header, where app/page.tsx renders it as <meta name="csrf-token">; the
// browser script sends it back as X-CSRF-Token on the handoff and the sign-out.
import { type NextRequest, NextResponse } from 'next/server'
import { app, CSRF_TOKEN_HEADER } from './lib/bridge'

export function proxy(request: NextRequest): NextResponse {
  const csrf = app().bridge.csrfTokenFor(app().adapter.bridgeRequest(request))
  const headers = new Headers(request.headers)
  // Always overwritten: the page must render the token the bridge issued, never one a client sent.
  headers.set(CSRF_TOKEN_HEADER, csrf.token)
  const response = NextResponse.next({ request: { headers } })
  for (const cookie of csrf.cookies) response.headers.append('set-cookie', cookie)
  return response
}

export const config = {
  // Pages only: not the bridge's route, the development provider, or Next's own assets.
  matcher: ['/((?!auth|dev-issuer|_next/|favicon.ico).*)'],
}
