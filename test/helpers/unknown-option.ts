// One assertion for "this factory refuses a misspelt option" (issue #10 defect 8, issue #13):
// ERR_INVALID_OPTIONS, and a message naming the factory, the unknown name and the nearest known one.
import assert from 'node:assert/strict'
import { isJwksBridgeError } from '../../src/errors.ts'

function check(error: unknown, where: string, name: string, suggestion: string): true {
  assert.ok(
    isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'),
    `expected ERR_INVALID_OPTIONS, got ${String(error)}`,
  )
  assert.equal(
    error.message,
    `${where}: unknown option ${JSON.stringify(name)} (did you mean ${JSON.stringify(suggestion)}?)`,
  )
  return true
}

/** `run` must throw ERR_INVALID_OPTIONS naming `where`, the unknown `name` and the `suggestion`. */
export function refusesUnknownOption(
  run: () => unknown,
  where: string,
  name: string,
  suggestion: string,
): void {
  assert.throws(run, (error: unknown) => check(error, where, name, suggestion))
}

/** The same for a factory that returns a promise. */
export async function rejectsUnknownOption(
  run: () => Promise<unknown>,
  where: string,
  name: string,
  suggestion: string,
): Promise<void> {
  await assert.rejects(run, (error: unknown) => check(error, where, name, suggestion))
}
