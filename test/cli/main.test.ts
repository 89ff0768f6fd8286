import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { INSPECT_HELP } from '../../src/cli/inspect.ts'
import { JWKS_HELP } from '../../src/cli/jwks.ts'
import { mainHelp, runCli } from '../../src/cli/main.ts'
import { VERIFY_HELP } from '../../src/cli/verify.ts'
import { context, liveToken, signatureOf } from './fixtures.ts'

const run = (argv: string[]) => runCli(argv, context())

describe('jwks-bridge: dispatch, help and version', () => {
  it('--help and -h print the general help with the commands, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await run([flag])
      assert.deepEqual(result, { exitCode: 0, stdout: mainHelp(), stderr: '' })
    }
    assert.match(mainHelp(), /\n {2}verify +check a token's signature/)
    assert.match(mainHelp(), /\n {2}inspect +decode a token's header and claims WITHOUT verifying it/)
    assert.match(mainHelp(), /\n {2}jwks +fetch an issuer's key set and list its keys and every problem/)
  })

  it('no arguments: the general help on stderr, exit 2', async () => {
    assert.deepEqual(await run([]), { exitCode: 2, stdout: '', stderr: mainHelp() })
  })

  it('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    assert.deepEqual(await run(['--version']), { exitCode: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('help verify, verify --help and verify -h all print the verify help', async () => {
    for (const argv of [
      ['help', 'verify'],
      ['verify', '--help'],
      ['verify', '-h'],
    ]) {
      assert.deepEqual(await run(argv), { exitCode: 0, stdout: VERIFY_HELP, stderr: '' })
    }
  })

  it('help inspect and inspect --help print the inspect help', async () => {
    for (const argv of [
      ['help', 'inspect'],
      ['inspect', '--help'],
    ]) {
      assert.deepEqual(await run(argv), { exitCode: 0, stdout: INSPECT_HELP, stderr: '' })
    }
  })

  it('help jwks, jwks --help and jwks -h print the jwks help', async () => {
    for (const argv of [
      ['help', 'jwks'],
      ['jwks', '--help'],
      ['jwks', '-h'],
    ]) {
      assert.deepEqual(await run(argv), { exitCode: 0, stdout: JWKS_HELP, stderr: '' })
    }
  })

  it('dispatches jwks: a usage error is its own', async () => {
    const result = await run(['jwks'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge jwks: missing ISSUER-OR-URL/)
  })

  it('every help has examples', () => {
    for (const help of [mainHelp(), VERIFY_HELP, INSPECT_HELP, JWKS_HELP])
      assert.match(help, /\nExamples:\n {2}jwks-bridge /)
  })

  for (const name of ['serv', 'verfy', 'jwk', 'constructor', '__proto__']) {
    it(`"${name}" is an unknown command: exit 2 with the list of commands`, async () => {
      const result = await run([name, '--help'])
      assert.equal(result.exitCode, 2)
      assert.equal(result.stdout, '')
      // A name is repeated back only when it looks like one (never a pasted token).
      const shown = /^[a-z]/.test(name) ? `"${name}"` : 'given'
      assert.ok(result.stderr.startsWith(`jwks-bridge: unknown command ${shown}\n`))
      assert.match(result.stderr, /\nCommands:\n {2}verify .*\n {2}inspect .*\n {2}jwks /)
    })
  }

  it('help for an unknown command is exit 2 with the list', async () => {
    const result = await run(['help', 'serv'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge: no help for the unknown command "serv"\n\nCommands:/)
  })

  it('a token given where the command belongs is not repeated back', async () => {
    const token = liveToken()
    const result = await run([token])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge: unknown command given\n/)
    assert.ok(!result.stderr.includes(signatureOf(token)), 'stderr must not contain the token')
  })

  it('an option before the command is exit 2', async () => {
    const result = await run(['--issuer', 'x', 'verify'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge: unknown option "--issuer"; give a command first/)
  })

  it('dispatches the arguments after the command name', async () => {
    const result = await run(['verify'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge verify: missing TOKEN/)
  })
})
