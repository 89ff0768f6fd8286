// Debian's chromium driven by playwright-core, for the real-browser tests (test/client, test/app).
// playwright-core downloads no browser; .ci/run installs the chromium package when it is missing.
// Outside CI, a machine without /usr/bin/chromium skips these files with a message; in CI (CI=true)
// a missing browser fails them.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_MISSING = !existsSync(CHROMIUM)
const IN_CI = process.env.CI === 'true'

/** The `skip` option for a describe() of browser tests. */
export const skipWithoutBrowser: string | false =
  CHROMIUM_MISSING && !IN_CI
    ? `no browser at ${CHROMIUM} (apt-get install chromium): browser tests skipped outside CI`
    : false

/**
 * Starts headless Chromium. As root it needs --no-sandbox; the network here is closed, so the
 * browser's own background traffic (updates, sync, first-run pages) is turned off.
 */
export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM_MISSING)
    assert.fail(`CI=true and no browser at ${CHROMIUM}: .ci/run installs the chromium package`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/** Polls until the condition holds; fails after a bounded time. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
