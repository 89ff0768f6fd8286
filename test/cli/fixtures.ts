// Shared by the CLI tests: a JWKS file in a temp dir and tokens that are valid *now*, because the
// CLI verifies against the real clock (there is no clock flag, on purpose).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CliContext } from '../../src/cli/io.ts'
import { ISSUER, makeKey, signToken, type TestKey } from '../helpers/tokens.ts'

export { ISSUER }

export const rsa: TestKey = makeKey('RS256', 'cli-rs')
export const ec: TestKey = makeKey('ES256', 'cli-es')

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** A token signed by `key`, issued 10 s ago and expiring in 10 minutes, plus `claims`. */
export function liveToken(key: TestKey = rsa, claims: Record<string, unknown> = {}): string {
  const now = nowSeconds()
  return signToken(key, { iat: now - 10, exp: now + 600, ...claims })
}

export interface TempDir {
  path: string
  /** Writes `content` (a string as is, anything else as JSON) and returns the file's path. */
  write(name: string, content: unknown): string
  remove(): void
}

export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'jwks-bridge-cli-'))
  return {
    path,
    write(name, content) {
      const file = join(path, name)
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
      return file
    },
    remove() {
      rmSync(path, { recursive: true, force: true })
    },
  }
}

/** A command context with `stdin` as given and an empty environment. */
export function context(stdin: CliContext['stdin'] = '', nowMs?: () => number): CliContext {
  return nowMs === undefined ? { stdin, env: {} } : { stdin, env: {}, nowMs }
}

/** The segments of a token, to check that none of them leaks into output. */
export function signatureOf(token: string): string {
  return token.split('.')[2] as string
}
