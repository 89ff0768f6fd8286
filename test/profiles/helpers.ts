// Shared setup for the profile tests: real keys, real signatures, the real createVerifier with the
// profile's verifier options, then the profile's check. Assertions compare error codes and claims,
// never token text, so a failing test cannot print a token.
import assert from 'node:assert/strict'
import type { TokenProfile } from '../../src/bridge/profiles.ts'
import { createVerifier, isJwksBridgeError, type VerifierOptions } from '../../src/index.ts'
import { signText, type TestKey } from '../helpers/tokens.ts'

/** Signs exactly this header and payload (undefined members are dropped). */
export function mint(
  key: TestKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const clean = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  return signText(key, JSON.stringify(clean(header)), JSON.stringify(clean(payload)), key.alg)
}

export interface Setup {
  issuer: string
  key: TestKey
  nowSeconds: number
  /** Extra verifier options, applied after the profile's (the way an app would override). */
  verifier?: Partial<VerifierOptions>
  /** Skip the profile's verifier options: shows that check() holds on its own. */
  withoutProfileOptions?: boolean
}

/** Verifies `token` with the real verifier, then runs the profile. */
export async function signIn(profile: TokenProfile, token: string, setup: Setup) {
  const verifier = createVerifier({
    issuer: setup.issuer,
    jwks: { keys: [setup.key.jwk] },
    nowMs: () => setup.nowSeconds * 1000,
    tokenCache: false,
    ...(setup.withoutProfileOptions ? {} : profile.verifierOptions),
    ...setup.verifier,
  } as VerifierOptions)
  return profile.check(await verifier.verify(token))
}

/** Expects a rejection with this code (and claim, when given). */
export async function refused(promise: Promise<unknown>, code: string, claim?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isJwksBridgeError(error), 'a JwksBridgeError')
    assert.equal(error.code, code)
    if (claim !== undefined) assert.equal(error.claim, claim)
    return true
  })
}
