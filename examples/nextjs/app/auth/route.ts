// The bridge's own route: PUT/POST (the handoff) and DELETE (sign-out) on /auth.
import { app } from '../../lib/bridge'

export const dynamic = 'force-dynamic'

async function handle(request: Request): Promise<Response> {
  return (await app().adapter.handleRequest(request)) ?? new Response(null, { status: 404 })
}

export { handle as DELETE, handle as POST, handle as PUT }
