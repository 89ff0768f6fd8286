'use client'
// The browser script: hands the provider's token to /auth when the page has no session, then reloads.
import { devIssuerSource, signOut, start } from 'jwks-bridge/client'
import { useEffect } from 'react'

const source = devIssuerSource('/dev-issuer')

export function BridgeScript(): null {
  useEffect(() => {
    void start({ source })
  }, [])
  return null
}

export function SignOutButton() {
  return (
    <button id="sign-out" type="button" onClick={() => void signOut({ source })}>
      Sign out
    </button>
  )
}
