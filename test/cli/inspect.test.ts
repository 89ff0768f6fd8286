import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  describeTime,
  INSPECT_HELP,
  NOT_VERIFIED_WARNING,
  relativeTime,
  runInspect,
} from '../../src/cli/inspect.ts'
import type { CliResult } from '../../src/cli/usage.ts'
import { b64u, makeKey, NOW_SECONDS, signText, signToken } from '../helpers/tokens.ts'
import { context, rsa, signatureOf } from './fixtures.ts'

// inspect shows times relative to "now": a fixed clock makes the lines exact.
const clock = () => NOW_SECONDS * 1000

function run(argv: string[], stdin = ''): Promise<CliResult> {
  return runInspect(argv, context(stdin, clock))
}

function assertMalformed(result: CliResult, code: string): void {
  assert.equal(result.exitCode, 1)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, new RegExp(`^${code}: [^\\n]+\\n$`))
}

describe('jwks-bridge inspect: decodes without verifying', () => {
  it('prints verified:false, the warning, header and payload as one JSON line, never the signature', async () => {
    const token = signToken(rsa, { email: 'a@example.com' })
    const result = await run([token])
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout.trimEnd().includes('\n'), false, 'one line')
    const document = JSON.parse(result.stdout)
    assert.deepEqual(Object.keys(document), ['verified', 'warning', 'header', 'payload'])
    assert.equal(document.verified, false)
    assert.equal(document.warning, NOT_VERIFIED_WARNING)
    assert.match(document.warning, /^NOT VERIFIED: /)
    assert.deepEqual(document.header, { alg: 'RS256', typ: 'JWT', kid: rsa.kid })
    assert.equal(document.payload.email, 'a@example.com')
    const both = result.stdout + result.stderr
    assert.ok(!both.includes(signatureOf(token)), 'the signature is never printed')
  })

  it('says NOT VERIFIED on stderr too, with iat, nbf and exp as ISO dates and relative times', async () => {
    const token = signToken(rsa, { iat: NOW_SECONDS - 600, nbf: NOW_SECONDS + 90, exp: NOW_SECONDS + 7200 })
    const result = await run([token])
    assert.equal(result.exitCode, 0)
    assert.deepEqual(result.stderr.split('\n'), [
      NOT_VERIFIED_WARNING,
      `iat  ${new Date((NOW_SECONDS - 600) * 1000).toISOString()}  (10 minutes ago)`,
      `nbf  ${new Date((NOW_SECONDS + 90) * 1000).toISOString()}  (in 1 minute: not yet valid)`,
      `exp  ${new Date((NOW_SECONDS + 7200) * 1000).toISOString()}  (in 2 hours)`,
      '',
    ])
  })

  it('flags an expired token, and a token issued in the future', async () => {
    const token = signToken(rsa, { iat: NOW_SECONDS + 30, exp: NOW_SECONDS - 3 * 86400 })
    const lines = (await run([token])).stderr.split('\n')
    assert.match(lines[1] as string, /^iat .*\(in 30 seconds: issued in the future\)$/)
    assert.match(lines[2] as string, /^exp .*\(3 days ago: expired\)$/)
  })

  it('decodes a token no key set could verify: that is the point, and why it warns', async () => {
    const stranger = makeKey('ES256', 'inspect-stranger')
    const result = await run(['-'], `${signToken(stranger, { iss: 'https://anyone.example' })}\n`)
    assert.equal(result.exitCode, 0)
    assert.equal(JSON.parse(result.stdout).payload.iss, 'https://anyone.example')
  })

  it('describes times that are not NumericDates instead of inventing a date', async () => {
    const header = JSON.stringify({ alg: 'RS256', kid: rsa.kid })
    const token = signText(rsa, header, '{"exp":1e400,"iat":"yesterday","nbf":null}')
    const lines = (await run([token])).stderr.split('\n')
    assert.deepEqual(lines.slice(1, 4), [
      'iat  not a NumericDate (a JSON string)',
      'nbf  not a NumericDate (a JSON null)',
      'exp  not a finite number (verify rejects it)',
    ])
  })
})

describe('jwks-bridge inspect: malformed tokens (exit 1, CODE: message)', () => {
  it('two segments: ERR_TOKEN_MALFORMED', async () => {
    assertMalformed(await run(['abc.def']), 'ERR_TOKEN_MALFORMED')
  })

  it('padding in a segment: ERR_BASE64URL_INVALID (the same strict rules as verify)', async () => {
    const [h, p, s] = signToken(rsa).split('.')
    assertMalformed(await run([`${h}.${p}==.${s}`]), 'ERR_BASE64URL_INVALID')
  })

  it('a header that is not JSON: ERR_JSON_INVALID', async () => {
    assertMalformed(await run([`${b64u('not json')}.${b64u('{}')}.${b64u('sig')}`]), 'ERR_JSON_INVALID')
  })

  it('a duplicate claim: ERR_JSON_DUPLICATE_MEMBER (inspect never shows one reading of two)', async () => {
    const token = signText(rsa, '{"alg":"RS256"}', '{"sub":"alice","sub":"admin"}')
    assertMalformed(await run([token]), 'ERR_JSON_DUPLICATE_MEMBER')
  })
})

describe('jwks-bridge inspect: usage', () => {
  it('--help prints the help on stdout, exit 0', async () => {
    assert.deepEqual(await run(['--help']), { exitCode: 0, stdout: INSPECT_HELP, stderr: '' })
  })

  it('a missing TOKEN is exit 2 with the help', async () => {
    const result = await run([])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge inspect: missing TOKEN/)
    assert.ok(result.stderr.endsWith(INSPECT_HELP))
  })

  it('an option inspect does not have is exit 2', async () => {
    const result = await run(['--issuer', 'x', signToken(rsa)])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^jwks-bridge inspect: unknown option --issuer/)
  })
})

describe('relativeTime and describeTime', () => {
  const cases: [number, string][] = [
    [0, 'now'],
    [0.4, 'now'],
    [1, 'in 1 second'],
    [-59, '59 seconds ago'],
    [60, 'in 1 minute'],
    [-3599, '59 minutes ago'],
    [7200, 'in 2 hours'],
    [-86400 * 3 - 5, '3 days ago'],
    [86400 * 800, 'in 2 years'],
  ]
  for (const [delta, text] of cases) {
    it(`${delta} s is "${text}"`, () => assert.equal(relativeTime(delta), text))
  }

  it('an absent claim has no line; a date beyond the Date range says so', () => {
    assert.equal(describeTime('exp', undefined, NOW_SECONDS), undefined)
    assert.equal(describeTime('exp', 1e300, NOW_SECONDS), 'exp  1e+300 is outside the range of dates')
  })
})
