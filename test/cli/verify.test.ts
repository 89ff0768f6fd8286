import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { CliResult } from '../../src/cli/usage.ts'
import { optionsFromFlags, parseVerifyArgs, runVerify, VERIFY_HELP } from '../../src/cli/verify.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey, signToken } from '../helpers/tokens.ts'
import {
  context,
  ec,
  ISSUER,
  liveToken,
  nowSeconds,
  rsa,
  signatureOf,
  type TempDir,
  tempDir,
} from './fixtures.ts'

let dir: TempDir
let jwksFile: string

before(() => {
  dir = tempDir()
  jwksFile = dir.write('jwks.json', { keys: [rsa.jwk, ec.jwk] })
})
after(() => dir.remove())

const base = (): string[] => ['--issuer', ISSUER, '--jwks-file', jwksFile]

function run(argv: string[], stdin: Parameters<typeof context>[0] = ''): Promise<CliResult> {
  return runVerify(argv, context(stdin))
}

/** Exit 1 with exactly one line `CODE: message`, and the token nowhere in the output. */
function assertRejected(result: CliResult, code: string, token: string): void {
  assert.equal(result.exitCode, 1)
  assert.equal(result.stdout, '')
  const [first, ...rest] = result.stderr.split('\n')
  assert.match(first as string, new RegExp(`^${code}: \\S`))
  assert.deepEqual(rest, [''], 'nothing after the CODE line')
  assert.ok(!result.stderr.includes(signatureOf(token)), 'stderr must not contain the token')
}

/** Exit 2, stdout empty, the reason first, then the verify help. */
function assertUsage(result: CliResult, reason: RegExp): void {
  assert.equal(result.exitCode, 2)
  assert.equal(result.stdout, '')
  const firstLine = result.stderr.split('\n')[0] as string
  assert.match(firstLine, reason)
  assert.ok(result.stderr.endsWith(VERIFY_HELP), 'the help follows the error')
}

describe('jwks-bridge verify: valid tokens (exit 0)', () => {
  it('prints {"header","payload"} as one JSON line for a token given as an argument', async () => {
    const result = await run([...base(), liveToken(rsa, { email: 'a@example.com' })])
    assert.equal(result.exitCode, 0)
    assert.equal(result.stderr, '')
    assert.ok(result.stdout.endsWith('\n'))
    assert.equal(result.stdout.trimEnd().includes('\n'), false, 'one line')
    const document = JSON.parse(result.stdout)
    assert.deepEqual(Object.keys(document), ['header', 'payload'])
    assert.equal(document.header.alg, 'RS256')
    assert.equal(document.header.kid, rsa.kid)
    assert.equal(document.payload.sub, 'user-1')
    assert.equal(document.payload.email, 'a@example.com')
  })

  it('reads the token from standard input with -, ignoring the newline echo adds', async () => {
    const result = await run([...base(), '-'], `${liveToken()}\n`)
    assert.equal(result.exitCode, 0)
    assert.equal(JSON.parse(result.stdout).payload.iss, ISSUER)
  })

  it('reads standard input given as a stream of chunks', async () => {
    const token = liveToken()
    const stream = Readable.from([Buffer.from(token.slice(0, 20)), Buffer.from(`${token.slice(20)}\r\n`)])
    const result = await run([...base(), '-'], stream)
    assert.equal(result.exitCode, 0)
  })

  it('--alg takes a comma-separated list: ES256 is accepted once listed', async () => {
    const result = await run([...base(), '--alg', 'RS256,ES256', liveToken(ec)])
    assert.equal(result.exitCode, 0)
    assert.equal(JSON.parse(result.stdout).header.alg, 'ES256')
  })

  it('--audience may be repeated: any listed audience matches', async () => {
    const token = liveToken(rsa, { aud: ['api-b'] })
    const result = await run([...base(), '--audience', 'api-a', '--audience', 'api-b', token])
    assert.equal(result.exitCode, 0)
  })

  it('--clock-tolerance accepts a token expired within the leeway', async () => {
    const token = liveToken(rsa, { iat: nowSeconds() - 100, exp: nowSeconds() - 5 })
    assert.equal((await run([...base(), '--clock-tolerance', '60', token])).exitCode, 0)
    assertRejected(await run([...base(), '--clock-tolerance', '1', token]), 'ERR_JWT_EXPIRED', token)
  })
})

describe('jwks-bridge verify: rejected tokens (exit 1, CODE: message)', () => {
  it('an expired token: ERR_JWT_EXPIRED: the token has expired', async () => {
    const token = liveToken(rsa, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })
    const result = await run([...base(), token])
    assertRejected(result, 'ERR_JWT_EXPIRED', token)
    assert.equal(result.stderr, 'ERR_JWT_EXPIRED: the token has expired\n')
  })

  it('an algorithm outside the default RS256 allowlist: ERR_ALG_NOT_ALLOWED', async () => {
    const token = liveToken(ec)
    assertRejected(await run([...base(), token]), 'ERR_ALG_NOT_ALLOWED', token)
  })

  it('another issuer: ERR_ISSUER_MISMATCH', async () => {
    const token = liveToken(rsa, { iss: 'https://elsewhere.example.com' })
    assertRejected(await run([...base(), token]), 'ERR_ISSUER_MISMATCH', token)
  })

  it('issue #13: ERR_ISSUER_MISMATCH shows --issuer and the token\'s "iss" side by side (a trailing slash is otherwise invisible)', async () => {
    const token = liveToken(rsa, { iss: `${ISSUER}/` })
    const result = await run([...base(), token])
    assertRejected(result, 'ERR_ISSUER_MISMATCH', token)
    assert.ok(result.stderr.includes(`--issuer is ${JSON.stringify(ISSUER)}`), result.stderr)
    assert.ok(result.stderr.includes(`the token's "iss" is ${JSON.stringify(`${ISSUER}/`)}`), result.stderr)
    assert.match(result.stderr, /give --issuer exactly as "iss"/)
  })

  it('an audience not asked for: ERR_AUDIENCE_MISMATCH', async () => {
    const token = liveToken(rsa, { aud: 'api-b' })
    assertRejected(await run([...base(), '--audience', 'api-a', token]), 'ERR_AUDIENCE_MISMATCH', token)
  })

  it('a token older than --max-token-age: ERR_JWT_TOO_OLD', async () => {
    const token = liveToken(rsa, { iat: nowSeconds() - 3600 })
    assertRejected(await run([...base(), '--max-token-age', '60', token]), 'ERR_JWT_TOO_OLD', token)
  })

  it('a signature made by another key under the same kid: ERR_SIGNATURE_INVALID', async () => {
    const impostor = makeKey('RS256', 'cli-impostor')
    const now = nowSeconds()
    const token = signToken(impostor, { iat: now - 10, exp: now + 600 }, { kid: rsa.kid })
    assertRejected(await run([...base(), token]), 'ERR_SIGNATURE_INVALID', token)
  })

  it('a kid the key set does not hold: ERR_KEY_NOT_FOUND', async () => {
    const token = liveToken(makeKey('RS256', 'cli-unknown-kid'))
    assertRejected(await run([...base(), token]), 'ERR_KEY_NOT_FOUND', token)
  })

  it('not a JWT at all: ERR_TOKEN_MALFORMED', async () => {
    assertRejected(await run([...base(), 'not-a-token']), 'ERR_TOKEN_MALFORMED', 'not-a-token')
  })
})

describe('jwks-bridge verify: usage errors (exit 2, reason then help)', () => {
  it('--help prints the help on stdout and exits 0, even next to other mistakes', async () => {
    const result = await run(['--bogus', '--help'])
    assert.deepEqual(result, { exitCode: 0, stdout: VERIFY_HELP, stderr: '' })
  })

  it('an unknown option is named', async () => {
    assertUsage(await run([...base(), '--isuer', 'x', liveToken()]), /unknown option --isuer/)
  })

  it('a token that starts with "-" is not repeated back as an unknown option', async () => {
    const token = `-${liveToken()}`
    const result = await run([...base(), token])
    assertUsage(result, /starts with "-" but is not an option/)
    assert.ok(!result.stderr.includes(signatureOf(token)), 'stderr must not contain the token')
  })

  it('a missing TOKEN', async () => {
    assertUsage(await run(base()), /missing TOKEN/)
  })

  it('two TOKEN arguments', async () => {
    assertUsage(await run([...base(), liveToken(), liveToken()]), /expected one TOKEN, got 2/)
  })

  it('an empty TOKEN argument (an unset shell variable)', async () => {
    assertUsage(await run([...base(), '']), /TOKEN argument is empty/)
  })

  it('empty standard input', async () => {
    assertUsage(await run([...base(), '-'], ' \n'), /standard input is empty/)
  })

  it('standard input over 1 MiB is refused without reading it all', async () => {
    let reads = 0
    async function* flood() {
      for (; reads < 100; reads++) yield Buffer.alloc(256 * 1024, 0x61)
    }
    assertUsage(await run([...base(), '-'], flood()), /standard input holds more than 1048576 bytes/)
    assert.ok(reads <= 5, `stopped after ${reads} chunks`)
  })

  it('after "--", every argument is the TOKEN, even one that looks like an option', async () => {
    assert.equal((await run([...base(), '--', liveToken()])).exitCode, 0)
    const result = await run([...base(), '--', '--help'])
    assert.equal(result.exitCode, 1, '"--help" after "--" is a (malformed) token, not a request for help')
    assert.match(result.stderr, /^ERR_TOKEN_MALFORMED: /)
  })

  it('a missing --issuer', async () => {
    assertUsage(await run(['--jwks-file', jwksFile, liveToken()]), /missing --issuer/)
  })

  it('--issuer given twice', async () => {
    assertUsage(await run([...base(), '--issuer', ISSUER, liveToken()]), /--issuer was given 2 times/)
  })

  // Without --jwks-file or --jwks-uri the issuer is a discovery URL, under the same URL rules:
  // createVerifier refuses these before any network I/O (exit 2).
  for (const issuer of ['auth-service', 'http://issuer.example.com', 'https://user:pw@issuer.example.com']) {
    it(`no key source and the issuer ${JSON.stringify(issuer)} cannot be discovered: ERR_INVALID_OPTIONS`, async () => {
      const result = await run(['--issuer', issuer, liveToken(rsa, { iss: issuer })])
      assert.equal(result.exitCode, 2)
      assert.match(
        result.stderr.split('\n')[0] as string,
        /^ERR_INVALID_OPTIONS: createVerifier: issuer \(no jwks or jwksUri given, so it is used for discovery\) (is not a valid URL|must use https:|must not contain credentials)/,
      )
      assert.ok(result.stderr.endsWith(VERIFY_HELP))
    })
  }

  it('both --jwks-uri and --jwks-file', async () => {
    const argv = [...base(), '--jwks-uri', 'https://issuer.example.com/jwks', liveToken()]
    assertUsage(await run(argv), /--jwks-uri or --jwks-file, not both/)
  })

  for (const bad of ['30s', '-5', 'abc', '1e3', '', '0x10', 'Infinity']) {
    it(`a bad number: --clock-tolerance ${JSON.stringify(bad)}`, async () => {
      assertUsage(
        await run([...base(), `--clock-tolerance=${bad}`, liveToken()]),
        /--clock-tolerance takes a number of seconds/,
      )
    })
  }

  it('a bad number: --max-token-age', async () => {
    assertUsage(
      await run([...base(), '--max-token-age', 'soon', liveToken()]),
      /--max-token-age takes a number/,
    )
  })

  it('an option without its value', async () => {
    assertUsage(await run([...base(), '--audience']), /--audience needs a value/)
  })

  it('an empty entry in --alg', async () => {
    assertUsage(await run([...base(), '--alg', 'RS256,', liveToken()]), /--alg takes a comma-separated list/)
  })

  it('an algorithm the library refuses (HS256) is ERR_INVALID_OPTIONS with the reason, exit 2', async () => {
    const result = await run([...base(), '--alg', 'HS256', liveToken()])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr.split('\n')[0] as string, /^ERR_INVALID_OPTIONS: .*symmetric algorithms/)
    assert.ok(result.stderr.endsWith(VERIFY_HELP))
  })
})

describe('jwks-bridge verify: the --jwks-file key set', () => {
  it('a file that does not exist is named', async () => {
    const missing = `${dir.path}/nope.json`
    const result = await run(['--issuer', ISSUER, '--jwks-file', missing, liveToken()])
    assertUsage(result, /key set file ".*nope\.json" does not exist/)
  })

  it('a file that is not JSON is named, and its contents are not shown', async () => {
    const file = dir.write('broken.json', '{"keys": [ SECRET-MATERIAL')
    const result = await run(['--issuer', ISSUER, '--jwks-file', file, liveToken()])
    assertUsage(result, /key set file ".*broken\.json" is not valid JSON/)
    assert.ok(!result.stderr.includes('SECRET-MATERIAL'))
  })

  it('a single JWK instead of a set is refused with the fix', async () => {
    const file = dir.write('single.json', rsa.jwk)
    const result = await run(['--issuer', ISSUER, '--jwks-file', file, liveToken()])
    assertUsage(result, /single\.json" is not a JSON Web Key Set: it has no "keys" array \(.*wrap it/)
  })

  it('a JSON array is refused', async () => {
    const file = dir.write('array.json', [rsa.jwk])
    const result = await run(['--issuer', ISSUER, '--jwks-file', file, liveToken()])
    assertUsage(result, /array\.json" is not a JSON object/)
  })

  it('a duplicate member name is refused, as in a token', async () => {
    const file = dir.write('dup.json', '{"keys": [], "keys": []}')
    const result = await run(['--issuer', ISSUER, '--jwks-file', file, liveToken()])
    assertUsage(result, /dup\.json" has a duplicate member name/)
  })

  it('a directory is refused', async () => {
    const result = await run(['--issuer', ISSUER, '--jwks-file', dir.path, liveToken()])
    assertUsage(result, /is not a regular file/)
  })

  it('an unusable key is skipped with a warning that shows no key material; the others still verify', async () => {
    const privateJwk = rsa.privateKey.export({ format: 'jwk' }) as Record<string, string>
    const leaked = { ...privateJwk, kid: 'leaked-private', alg: 'RS256', use: 'sig' }
    const file = dir.write('mixed.json', { keys: [leaked, rsa.jwk] })
    const result = await run(['--issuer', ISSUER, '--jwks-file', file, liveToken()])
    assert.equal(result.exitCode, 0)
    assert.match(
      result.stderr,
      /^warning: key set file ".*mixed\.json": key 0 \(kid "leaked-private"\) skipped: ERR_/,
    )
    assert.ok(!result.stderr.includes(privateJwk.d as string), 'the private exponent is not printed')
  })

  it('a set with no usable key is ERR_INVALID_OPTIONS (exit 2), with the skipped keys listed', async () => {
    const file = dir.write('weak.json', { keys: [{ ...rsa.jwk, e: 'AQ' }] })
    const result = await run(['--issuer', ISSUER, '--jwks-file', file, liveToken()])
    assert.equal(result.exitCode, 2)
    const [first, second] = result.stderr.split('\n')
    assert.match(first as string, /^ERR_INVALID_OPTIONS: .*no usable key/)
    assert.match(second as string, /^warning: key set file ".*weak\.json": key 0 \(kid "cli-rs"\) skipped/)
  })
})

describe('jwks-bridge verify: --jwks-uri (remote key sets, rules in src/keys/url-policy.ts)', () => {
  let server: TestServer

  before(async () => {
    server = await new TestServer().start()
    server.routes.set('/jwks.json', { body: { keys: [rsa.jwk] } })
  })
  after(() => server.stop())

  it('fetches the key set from a loopback http:// URL and verifies (exit 0)', async () => {
    const argv = ['--issuer', ISSUER, '--jwks-uri', server.url('/jwks.json'), '-']
    const result = await run(argv, liveToken())
    assert.equal(result.exitCode, 0)
    assert.equal(JSON.parse(result.stdout).payload.sub, 'user-1')
    assert.equal(server.count('/jwks.json'), 1)
  })

  it('a key set URL that answers 404: the token cannot be verified, exit 1 with a code', async () => {
    const token = liveToken()
    const result = await run(['--issuer', ISSUER, '--jwks-uri', server.url('/missing.json'), token])
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /^ERR_JWKS_[A-Z_]+: /)
    // The code alone does not say why; the failed fetch follows as a warning naming the URL.
    assert.match(
      result.stderr,
      /\nwarning: key set ".*\/missing\.json": fetch failed: ERR_JWKS_FETCH_FAILED: /,
    )
    assert.ok(!result.stderr.includes(signatureOf(token)))
  })

  // Plain http:// is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost). The CLI does
  // not check this itself: createVerifier refuses the URL, and the CLI reports that as exit 2.
  for (const url of [
    'http://issuer.example.com/jwks.json',
    'http://10.0.0.1/jwks.json',
    'ftp://127.0.0.1/jwks',
  ]) {
    it(`refuses ${url} with ERR_INVALID_OPTIONS, exit 2, before any network I/O`, async () => {
      const result = await run(['--issuer', ISSUER, '--jwks-uri', url, liveToken()])
      assert.equal(result.exitCode, 2)
      assert.match(
        result.stderr.split('\n')[0] as string,
        /^ERR_INVALID_OPTIONS: createVerifier: jwksUri must use https:/,
      )
    })
  }
})

describe('jwks-bridge verify --issuer alone: OpenID discovery (<issuer>/.well-known/openid-configuration)', () => {
  let server: TestServer
  let issuer: string
  const discoveryPath = '/realm/.well-known/openid-configuration'

  before(async () => {
    server = await new TestServer().start()
    issuer = server.url('/realm')
    server.routes.set('/realm/keys', { body: { keys: [rsa.jwk, ec.jwk] } })
  })
  after(() => server.stop())

  const serveDiscovery = (document: Record<string, unknown>) =>
    server.routes.set(discoveryPath, { body: document })

  it('discovers jwks_uri, fetches the key set and verifies (exit 0): one fetch of each', async () => {
    serveDiscovery({ issuer, jwks_uri: server.url('/realm/keys') })
    const before = { discovery: server.count(discoveryPath), keys: server.count('/realm/keys') }
    const result = await run(['--issuer', issuer, '-'], liveToken(rsa, { iss: issuer }))
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.equal(JSON.parse(result.stdout).payload.iss, issuer)
    assert.equal(server.count(discoveryPath) - before.discovery, 1)
    assert.equal(server.count('/realm/keys') - before.keys, 1)
  })

  it('a trailing slash on the issuer is dropped for the discovery URL, kept for the iss match', async () => {
    const slashed = `${issuer}/`
    serveDiscovery({ issuer: slashed, jwks_uri: server.url('/realm/keys') })
    const result = await run(['--issuer', slashed, '-'], liveToken(rsa, { iss: slashed }))
    assert.equal(result.exitCode, 0, result.stderr)
  })

  it('a discovery document naming another issuer: exit 1, the key set is never fetched', async () => {
    serveDiscovery({ issuer: 'https://elsewhere.example.com', jwks_uri: server.url('/realm/keys') })
    const keysBefore = server.count('/realm/keys')
    const token = liveToken(rsa, { iss: issuer })
    const result = await run(['--issuer', issuer, token], '')
    assert.equal(result.exitCode, 1)
    const [first, second] = result.stderr.split('\n')
    assert.match(first as string, /^ERR_DISCOVERY_FAILED: /)
    // The refusal names both issuers (issue #13), not only the code.
    assert.ok(first?.includes(`the configured issuer is ${JSON.stringify(issuer)}`), first)
    assert.equal(
      second,
      `warning: discovery document "${server.url(discoveryPath)}": fetch failed: ERR_DISCOVERY_FAILED: issuer mismatch`,
    )
    assert.equal(server.count('/realm/keys'), keysBefore)
    assert.ok(!result.stderr.includes(signatureOf(token)))
  })

  it('a jwks_uri that breaks the URL rules (plain http, not loopback) is refused: exit 1', async () => {
    serveDiscovery({ issuer, jwks_uri: 'http://keys.example.com/jwks' })
    const result = await run(['--issuer', issuer, '-'], liveToken(rsa, { iss: issuer }))
    assert.equal(result.exitCode, 1)
    assert.match(
      result.stderr,
      /\nwarning: discovery document .*: ERR_DISCOVERY_FAILED: jwks_uri must use https:/,
    )
  })

  it('no discovery document (404): exit 1 with the failed fetch named', async () => {
    const other = server.url('/nowhere')
    const result = await run(['--issuer', other, '-'], liveToken(rsa, { iss: other }))
    assert.equal(result.exitCode, 1)
    assert.match(
      result.stderr,
      /\nwarning: discovery document ".*\/nowhere\/\.well-known\/openid-configuration": fetch failed: ERR_DISCOVERY_FAILED: status 404\n$/,
    )
  })

  it('a skipped key of a discovered set is reported with the discovered URL', async () => {
    server.routes.set('/realm/mixed', { body: { keys: [{ ...rsa.jwk, kid: 'weak', e: 'AQ' }, rsa.jwk] } })
    serveDiscovery({ issuer, jwks_uri: server.url('/realm/mixed') })
    const result = await run(['--issuer', issuer, '-'], liveToken(rsa, { iss: issuer }))
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(
      result.stderr,
      /^warning: key set ".*\/realm\/mixed": key 0 \(kid "weak"\) skipped: ERR_KEY_INVALID: RSA public exponent is below 3\n$/,
    )
  })
})

describe('optionsFromFlags: the one mapping from flags to createVerifier options', () => {
  it('maps every flag, passes --jwks-uri through as jwksUri and turns the token cache off', () => {
    const flags = parseVerifyArgs([
      '--issuer',
      ISSUER,
      '--jwks-uri',
      'https://issuer.example.com/jwks',
      '--audience',
      'a',
      '--audience',
      'b',
      '--alg',
      'RS256, ES256',
      '--alg',
      'EdDSA',
      '--clock-tolerance',
      '1.5',
      '--max-token-age',
      '300',
      '-',
    ])
    assert.equal(flags.token, '-')
    const options = optionsFromFlags(flags)
    assert.deepEqual(options, {
      issuer: ISSUER,
      tokenCache: false,
      jwksUri: 'https://issuer.example.com/jwks',
      audience: ['a', 'b'],
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      clockToleranceSeconds: 1.5,
      maxTokenAgeSeconds: 300,
    })
  })

  it('with --issuer alone, neither jwks nor jwksUri: createVerifier discovers; events are passed on', () => {
    const onEvent = () => {}
    const options = optionsFromFlags(parseVerifyArgs(['--issuer', ISSUER, '-']), { onEvent })
    assert.deepEqual(options, { issuer: ISSUER, tokenCache: false, onEvent })
  })

  it('reads --jwks-file into jwks and leaves unset flags out (library defaults apply)', () => {
    const options = optionsFromFlags(parseVerifyArgs([...base(), 'x']))
    assert.deepEqual(Object.keys(options).sort(), ['issuer', 'jwks', 'tokenCache'])
    assert.equal(options.jwks?.keys.length, 2)
  })
})
