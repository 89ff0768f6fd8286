// A server component that reads the identity; the meta tags tell the browser script what to do.
import type { Metadata } from 'next'
import { app, csrfToken, currentIdentity } from '../lib/bridge'
import { BridgeScript, SignOutButton } from './bridge-client'

export async function generateMetadata(): Promise<Metadata> {
  const auth = await currentIdentity()
  return {
    title: 'jwks-bridge on Next.js',
    other: {
      'authentication-url': '/auth',
      'has-session': auth ? 'true' : 'false',
      // Issued by proxy.ts (its cookie is on this response): sent back as X-CSRF-Token.
      'csrf-token': await csrfToken(),
    },
  }
}

export default async function Home() {
  const auth = await currentIdentity()
  return (
    <main>
      <h1>jwks-bridge on Next.js</h1>
      {auth ? (
        <>
          <p id="status">
            Signed in as <span id="subject">{auth.identity.subject}</span>
          </p>
          <SignOutButton />
        </>
      ) : (
        <>
          <p id="status">You are not signed in.</p>
          <a id="sign-in" href={app().devIssuer.signInUrlFor('/')}>
            Sign in with the development provider
          </a>
        </>
      )}
      <BridgeScript />
    </main>
  )
}
