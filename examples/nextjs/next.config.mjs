import { fileURLToPath } from 'node:url'

// In this repository jwks-bridge is `file:../..`, a link out of the app's folder: the bundlers' root
// is the repository so they may follow it. In your app (jwks-bridge from the registry) drop both roots.
const root = fileURLToPath(new URL('../..', import.meta.url))

/** @type {import('next').NextConfig} */
export default {
  // Loaded by Node at run time rather than bundled: its drivers (pg, ioredis, better-sqlite3) are
  // optional and imported only when a store asks for them.
  serverExternalPackages: ['jwks-bridge'],
  turbopack: { root },
  outputFileTracingRoot: root,
}
