/**
 * What the framework mounts of the development provider share: the argument check. The provider is
 * mounted under its issuer URL's path, so an issuer at the root ('' path) would answer every request
 * of the app, and is refused.
 */
import type { DevIssuer } from '../dev-issuer/dev-issuer.js'
import { optionError } from '../lib/options.js'

export function checkMountedDevIssuer(where: string, devIssuer: unknown): DevIssuer {
  const candidate = devIssuer as Partial<DevIssuer> | null | undefined
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.handle !== 'function' ||
    typeof candidate.matches !== 'function' ||
    typeof candidate.basePath !== 'string'
  ) {
    throw optionError(where, 'devIssuer must be a createDevIssuer() result (from jwks-bridge/dev-issuer)')
  }
  if (candidate.basePath === '') {
    throw optionError(
      where,
      "the development provider is mounted under its issuer URL's path, and this issuer has none: " +
        "create it with a path on the app's own URL, e.g. createDevIssuer({ issuer: 'http://127.0.0.1:3000/dev-issuer' })",
    )
  }
  return candidate as DevIssuer
}
