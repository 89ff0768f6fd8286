// The development identity provider under /dev-issuer: sign-in page, discovery, key set, tokens.
// Development only: remove this route when you use a real provider.
import { app } from '../../../lib/bridge'

export const dynamic = 'force-dynamic'

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url)
  const body = request.method === 'GET' ? undefined : new Uint8Array(await request.arrayBuffer())
  const answer = await app().devIssuer.handle({
    method: request.method,
    path: url.pathname + url.search,
    headers: Object.fromEntries(request.headers),
    body,
  })
  return new Response(answer.status === 204 || answer.status === 304 ? null : answer.body, {
    status: answer.status,
    headers: answer.headers,
  })
}

export { handle as GET, handle as POST }
