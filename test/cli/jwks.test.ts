// jwks-bridge jwks: against a real HTTP server on 127.0.0.1, with real keys from node:crypto.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { JWKS_HELP, runJwks } from '../../src/cli/jwks.ts'
import { verifierDefaults } from '../../src/cli/jwks-fetch.ts'
import type { CliResult } from '../../src/cli/usage.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { importPublicJwk } from '../../src/jose/jwk.ts'
import { TestServer } from '../helpers/jwks-server.ts'
import { makeKey } from '../helpers/tokens.ts'
import { context, ec, rsa } from './fixtures.ts'

const run = (argv: string[]): Promise<CliResult> => runJwks(argv, context())

// Keys for the "every problem" document. Each is a real key; the broken ones are broken on purpose.
const weak = makeKey('RS256', 'weak-1024', 1024)
const rsaB = makeKey('RS256', 'cli-jwks-b')
const rsaC = makeKey('RS256', 'cli-jwks-c')
const ecB = makeKey('ES256', 'cli-jwks-ec-b')
const ed = makeKey('EdDSA', 'cli-jwks-ed')
const privateJwk = { ...(rsaB.privateKey.export({ format: 'jwk' }) as Record<string, string>) }

function without(jwk: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  const copy = { ...jwk }
  for (const name of names) delete copy[name]
  return copy
}

/** index: [jwk, what the report must say about it] */
const problemKeys: Record<string, unknown>[] = [
  rsa.jwk, // 0 good
  weak.jwk, // 1 RSA 1024 bits
  { ...rsaB.jwk, kid: 'e-one', e: 'AQ' }, // 2 e = 1
  { ...privateJwk, kid: 'leaked', alg: 'RS256', use: 'sig' }, // 3 private members
  { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0LWhtYWMta2V5' }, // 4 symmetric
  { ...ec.jwk, kid: 'off-curve', y: ec.jwk.x }, // 5 not a point on P-256
  { kty: 'XYZ', kid: 'strange' }, // 6 unsupported kty
  { ...ec.jwk, kid: 'k1', crv: 'secp256k1', alg: undefined }, // 7 unsupported curve
  { ...ecB.jwk, kid: 'for-encryption', use: 'enc' }, // 8 not for signatures (use)
  { ...without(ed.jwk, 'use'), kid: 'sign-only', key_ops: ['sign'] }, // 9 not for signatures (key_ops)
  without(rsaC.jwk, 'kid'), // 10 no kid
  { ...rsaB.jwk, kid: 'dup' }, // 11 duplicate kid, both RS256
  { ...rsaC.jwk, kid: 'dup' }, // 12
  { ...without(ecB.jwk, 'alg', 'use'), kid: 'bare' }, // 13 no alg, no use
]

/** Every n, e, x, y, d... value of the documents served: none may appear in any output. */
const material = [rsa, weak, rsaB, rsaC, ec, ecB, ed].flatMap((key) => {
  const values = Object.entries(key.jwk).filter(([name]) => ['n', 'x', 'y'].includes(name))
  return values.map(([, value]) => String(value))
})
const secrets = ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((name) => privateJwk[name] as string)

function assertNoKeyMaterial(result: CliResult): void {
  const output = result.stdout + result.stderr
  for (const value of [...material, ...secrets, 'c2VjcmV0LWhtYWMta2V5']) {
    assert.ok(!output.includes(value), `key material (${value.length} characters) in the output`)
  }
}

/** The table rows, split into cells: the lines between the header and the first blank line. */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split('\n')
  const start = lines.findIndex((line) => /^# +STATUS /.test(line))
  assert.ok(start >= 0, 'the table has a header')
  const rows: string[][] = []
  for (const line of lines.slice(start + 1)) {
    if (line === '') break
    rows.push(line.split(/ {2,}/))
  }
  return rows
}

function reasonOf(jwk: unknown): string {
  try {
    importPublicJwk(jwk)
  } catch (error) {
    if (isJwksBridgeError(error)) return error.reason as string
  }
  throw new Error('the key imports')
}

let server: TestServer

before(async () => {
  server = await new TestServer().start()
  const cached = {
    'cache-control': 'public, max-age=300',
    etag: '"v1"',
    'last-modified': 'Mon, 01 Jan 2029 00:00:00 GMT',
  }
  server.routes.set('/good', { body: { keys: [rsa.jwk, ec.jwk] }, headers: cached })
  server.routes.set('/problems', { body: { keys: problemKeys } })
  server.routes.set('/weak-only', { body: { keys: [weak.jwk] }, headers: { 'cache-control': 'no-store' } })
  server.routes.set('/empty', { body: { keys: [] }, headers: { 'cache-control': 'max-age=86400' } })
  const many = Array.from({ length: 101 }, (_, i) => ({ ...rsa.jwk, kid: `k${i}` }))
  server.routes.set('/many', { body: { keys: many } })
  server.routes.set('/not-a-set', { body: { hello: 'world' } })
  server.routes.set('/odd-kid', {
    body: { keys: [{ ...rsa.jwk, kid: 'k\u001b[2J\u202egnp.exe' }, { kty: '\u202eXYZ' }] },
  })
  server.routes.set('/moved', { status: 302, headers: { location: '/good' } })
  // An issuer whose root is a web page, as real ones are; its discovery document and key set.
  server.routes.set('/idp', { body: '<html>sign in</html>', headers: { 'content-type': 'text/html' } })
  server.routes.set('/idp/.well-known/openid-configuration', {
    body: { issuer: server.url('/idp'), jwks_uri: server.url('/idp/keys') },
  })
  server.routes.set('/idp/keys', { body: { keys: [rsa.jwk] }, headers: { 'cache-control': 'max-age=60' } })
  server.routes.set('/mixup/.well-known/openid-configuration', {
    body: { issuer: 'https://someone-else.example.com', jwks_uri: server.url('/good') },
  })
  server.routes.set('/plain/.well-known/openid-configuration', {
    body: { issuer: server.url('/plain'), jwks_uri: 'http://keys.example.com/jwks' },
  })
  server.routes.set('/bounce/.well-known/openid-configuration', {
    body: { issuer: server.url('/bounce'), jwks_uri: server.url('/moved') },
  })
})
after(() => server.stop())

describe('jwks-bridge jwks: a good key set (exit 0)', () => {
  it('prints each key as a table row, no problems, and the cache headers', async () => {
    const result = await run([server.url('/good')])
    assert.equal(result.exitCode, 0)
    assert.equal(result.stderr, '')
    assert.ok(result.stdout.startsWith(`Key set: ${server.url('/good')}\n\n`))
    assert.deepEqual(tableRows(result.stdout), [
      ['0', 'usable', 'cli-rs', 'RSA', 'RS256', '2048', 'sig', '-'],
      ['1', 'usable', 'cli-es', 'EC', 'ES256', 'P-256', 'sig', '-'],
    ])
    assert.match(result.stdout, /\nProblems: none\n/)
    assert.match(result.stdout, /\n {2}Cache-Control {2}"public, max-age=300"\n {2}ETag {11}present\n/)
    assert.match(result.stdout, /\n {2}Last-Modified {2}present\n {2}Freshness {6}300 s /)
    assert.ok(result.stdout.endsWith('\n2 usable keys of 2.\n'))
    assertNoKeyMaterial(result)
  })

  it('--json prints one object {url, discovery, usableKeys, keys, problems, cache}', async () => {
    const result = await run(['--json', server.url('/good')])
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout.trimEnd().includes('\n'), false, 'one line')
    const document = JSON.parse(result.stdout)
    assert.deepEqual(Object.keys(document), ['url', 'discovery', 'usableKeys', 'keys', 'problems', 'cache'])
    assert.equal(document.url, server.url('/good'))
    assert.equal(document.discovery, null)
    assert.equal(document.usableKeys, 2)
    assert.deepEqual(document.keys[0], {
      index: 0,
      status: 'usable',
      kid: 'cli-rs',
      kty: 'RSA',
      alg: 'RS256',
      size: 2048,
      crv: null,
      use: 'sig',
      key_ops: null,
      algorithms: ['RS256'],
    })
    assert.deepEqual(document.keys[1].algorithms, ['ES256'])
    assert.equal(document.keys[1].crv, 'P-256')
    assert.deepEqual(document.problems, [])
    assert.deepEqual(document.cache, {
      cacheControl: 'public, max-age=300',
      maxAgeSeconds: 300,
      noCache: false,
      etag: true,
      lastModified: true,
      freshnessSeconds: 300,
      minSeconds: 30,
      maxSeconds: 600,
    })
    assertNoKeyMaterial(result)
  })

  it('control and bidi characters from the document are shown escaped, never raw', async () => {
    const result = await run([server.url('/odd-kid')])
    assert.equal(result.exitCode, 0)
    assert.ok(!result.stdout.includes('\u001b'), 'no raw escape character')
    assert.ok(!result.stdout.includes('\u202e'), 'no raw bidi override')
    assert.equal(tableRows(result.stdout)[0]?.[2], '"k\\u001b[2J\\u202egnp.exe"')
    // A library reason quoting the key type, in the problem list.
    assert.match(result.stdout, /refused: unsupported key type "\\u202eXYZ"\n/)
    const json = JSON.parse((await run([server.url('/odd-kid'), '--json'])).stdout)
    assert.equal(json.keys[0].kid, 'k\u001b[2J\u202egnp.exe', 'the JSON keeps the exact value')
  })

  it('fetches under the verifier rules: one GET, asking for a JWK Set', async () => {
    const before = server.requests.length
    await run([server.url('/good')])
    const requests = server.requests.slice(before)
    assert.equal(requests.length, 1)
    assert.equal(requests[0]?.method, 'GET')
    assert.equal(requests[0]?.headers.accept, 'application/jwk-set+json, application/json')
  })
})

describe('jwks-bridge jwks: a set with every kind of problem', () => {
  let table: CliResult
  let json: CliResult
  let report: {
    keys: { index: number; status: string; kid: string | null; size: number | null }[]
    problems: { level: string; kind: string; code?: string; keys?: number[]; message: string }[]
    cache: { freshnessSeconds: number; etag: boolean; lastModified: boolean; cacheControl: string | null }
  }

  before(async () => {
    table = await run([server.url('/problems')])
    json = await run([server.url('/problems'), '--json'])
    report = JSON.parse(json.stdout)
  })

  it('exits 0: some keys are still usable', () => {
    assert.equal(table.exitCode, 0)
    assert.equal(json.exitCode, 0)
    assert.equal(table.stderr, '')
  })

  it('gives each key a status: usable, refused, or ignored (not for signatures)', () => {
    const statuses = report.keys.map((key) => key.status)
    assert.deepEqual(statuses, [
      'usable',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
      'ignored',
      'ignored',
      'usable',
      'usable',
      'usable',
      'usable',
    ])
    assert.equal(report.keys[1]?.size, 1024, 'the size of a refused RSA key is still shown')
    assert.deepEqual(
      tableRows(table.stdout).map((row) => row[1]),
      statuses,
    )
  })

  it('lists every refusal with the library reason, naming the key', () => {
    const refused = report.problems.filter((p) => p.kind === 'key-refused')
    assert.deepEqual(
      refused.map((p) => p.keys),
      [[1], [2], [3], [4], [5], [6], [7]],
    )
    for (const problem of refused) {
      const index = problem.keys?.[0] as number
      assert.equal(problem.level, 'error')
      assert.equal(problem.code, 'ERR_KEY_INVALID')
      assert.ok(
        problem.message.endsWith(`refused: ${reasonOf(problemKeys[index])}`),
        `key ${index}: ${problem.message}`,
      )
    }
    const byKey = (index: number) => refused.find((p) => p.keys?.[0] === index)?.message ?? ''
    assert.match(byKey(1), /^key 1 \(kid "weak-1024"\) refused: RSA modulus of 1024 bits is under 2048$/)
    assert.match(byKey(2), /RSA public exponent is below 3$/)
    assert.match(byKey(3), /private member "d" present/)
    assert.match(byKey(4), /symmetric \("oct"\) keys are not accepted$/)
    assert.match(byKey(5), /the point is not on the curve/)
    assert.match(byKey(6), /unsupported key type "XYZ"$/)
    assert.match(byKey(7), /unsupported EC curve "secp256k1"$/)
  })

  it('reports keys never used to verify, a missing kid, duplicate kids, and missing alg and use', () => {
    const others = report.problems
      .filter((p) => p.kind !== 'key-refused')
      .map((p) => [p.level, p.kind, p.keys ?? null])
    assert.deepEqual(others, [
      ['warning', 'key-not-for-signatures', [8]],
      ['warning', 'key-not-for-signatures', [9]],
      ['warning', 'missing-kid', [10]],
      ['warning', 'duplicate-kid', [11, 12]],
      ['info', 'missing-alg', [13]],
      ['info', 'missing-use', [13]],
      ['info', 'cache-max-age', null],
      ['info', 'cache-validators', null],
    ])
    const message = (kind: string) => report.problems.find((p) => p.kind === kind)?.message ?? ''
    assert.match(message('duplicate-kid'), /kid "dup" is shared by keys 11, 12: .*ambiguous .*RS256/)
    assert.match(message('missing-alg'), /key 13 \(kid "bare"\) has no "alg": it may verify any of ES256 /)
    const ignored = report.problems.filter((p) => p.kind === 'key-not-for-signatures')
    assert.match(ignored[0]?.message ?? '', /its "use" is "enc", not "sig"/)
    assert.match(ignored[1]?.message ?? '', /its "key_ops" lack "verify"/)
  })

  it('without Cache-Control or validators: says so, and the freshness is the maximum (600 s)', () => {
    assert.equal(report.cache.cacheControl, null)
    assert.equal(report.cache.freshnessSeconds, 600)
    assert.equal(report.cache.etag, false)
    assert.equal(report.cache.lastModified, false)
    assert.match(
      table.stdout,
      /\n {2}info {5}no Cache-Control max-age: jwks-bridge keeps the set fresh for 600 s/,
    )
    assert.match(table.stdout, /\n {2}info {5}no ETag or Last-Modified: /)
    assert.match(table.stdout, /\n {2}Cache-Control {2}absent\n/)
  })

  it('prints the same problems in the table, errors first, with their codes', () => {
    const lines = table.stdout.split('\n')
    const start = lines.indexOf(`Problems (${report.problems.length}):`)
    assert.ok(start > 0)
    const printed = lines.slice(start + 1, start + 1 + report.problems.length)
    assert.deepEqual(
      printed,
      report.problems.map(
        (p) => `  ${p.level.padEnd(7)}  ${p.code === undefined ? '' : `${p.code}: `}${p.message}`,
      ),
    )
  })

  it('never prints key material: no n, x, y, and none of the leaked private members', () => {
    assertNoKeyMaterial(table)
    assertNoKeyMaterial(json)
  })
})

describe('jwks-bridge jwks: sets with no usable key (exit 1, the report and CODE: message)', () => {
  it('only a weak key: ERR_KEYSET_INVALID, and no-store means the minimum freshness', async () => {
    const result = await run([server.url('/weak-only')])
    assert.equal(result.exitCode, 1)
    assert.equal(result.stderr, 'ERR_KEYSET_INVALID: the key set has no usable key\n')
    assert.match(
      result.stdout,
      /\n {2}error {4}ERR_KEYSET_INVALID: the key set has no usable key: jwks-bridge would refuse it\n/,
    )
    assert.match(result.stdout, /\n {2}info {5}Cache-Control forbids caching .*fresh for 30 s/)
    assert.ok(result.stdout.endsWith('\n0 usable keys of 1.\n'))
  })

  it('no keys at all; a max-age over the verifier maximum is cut to 600 s', async () => {
    const result = await run([server.url('/empty'), '--json'])
    assert.equal(result.exitCode, 1)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.keys, [])
    assert.equal(document.usableKeys, 0)
    assert.equal(document.problems[0].kind, 'no-usable-key')
    assert.equal(document.cache.maxAgeSeconds, 86400)
    assert.equal(document.cache.freshnessSeconds, 600)
  })

  it('more keys than the verifier takes (101 > 100): the whole set is refused, each key still listed', async () => {
    const result = await run([server.url('/many'), '--json'])
    assert.equal(result.exitCode, 1)
    assert.equal(result.stderr, 'ERR_KEYSET_INVALID: key set holds 101 keys, more than 100\n')
    const document = JSON.parse(result.stdout)
    assert.equal(document.keys.length, 101)
    assert.equal(document.usableKeys, 0)
    assert.deepEqual(document.problems[0], {
      level: 'error',
      kind: 'too-many-keys',
      code: 'ERR_KEYSET_INVALID',
      message: 'key set holds 101 keys, more than 100: jwks-bridge refuses the whole set',
    })
  })
})

describe('jwks-bridge jwks: OpenID discovery', () => {
  it('--discover ISSUER fetches <issuer>/.well-known/openid-configuration, then its jwks_uri', async () => {
    const before = server.count('/idp')
    const result = await run(['--discover', server.url('/idp')])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(server.count('/idp'), before, 'the issuer URL itself is not fetched')
    const [first, second] = result.stdout.split('\n')
    assert.equal(first, `Key set: ${server.url('/idp/keys')}`)
    assert.equal(
      second,
      `Discovered from: ${server.url('/idp/.well-known/openid-configuration')} (issuer "${server.url('/idp')}")`,
    )
    assert.deepEqual(tableRows(result.stdout), [
      ['0', 'usable', 'cli-rs', 'RSA', 'RS256', '2048', 'sig', '-'],
    ])
    assert.match(result.stdout, /\n {2}Freshness {6}60 s /)
  })

  it('a discovery document URL is recognised by its path; --json names it', async () => {
    const configuration = server.url('/idp/.well-known/openid-configuration')
    const result = await run([configuration, '--json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.equal(document.url, server.url('/idp/keys'))
    assert.deepEqual(document.discovery, { url: configuration, issuer: server.url('/idp') })
  })

  it('an issuer given as a plain URL: not a key set (an HTML page), so discovery is tried', async () => {
    const before = { root: server.count('/idp'), keys: server.count('/idp/keys') }
    const result = await run([server.url('/idp')])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(server.count('/idp') - before.root, 1)
    assert.equal(server.count('/idp/keys') - before.keys, 1)
    assert.equal(
      JSON.parse((await run([server.url('/idp'), '--json'])).stdout).discovery.issuer,
      server.url('/idp'),
    )
  })

  it('a discovery document naming another issuer is refused (mix-up), its jwks_uri never fetched', async () => {
    const before = server.count('/good')
    const result = await run(['--discover', server.url('/mixup')])
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.equal(
      result.stderr,
      `ERR_DISCOVERY_FAILED: the discovery document names another issuer: it names the issuer "https://someone-else.example.com", the configured issuer is ${JSON.stringify(server.url('/mixup'))}; set issuer to exactly the value the provider puts in "iss" (a trailing slash, localhost for 127.0.0.1 and the port all count): issuer mismatch (discovery document ${server.url('/mixup/.well-known/openid-configuration')})\n`,
    )
    assert.equal(server.count('/good'), before)
  })

  it('a jwks_uri on plain http to a non-loopback host is refused', async () => {
    const result = await run(['--discover', server.url('/plain')])
    assert.equal(result.exitCode, 1)
    assert.match(
      result.stderr,
      /^ERR_DISCOVERY_FAILED: the discovery document has no acceptable jwks_uri: jwks_uri must use https:/,
    )
  })

  it('a JSON document that is not a key set, and no discovery document: both attempts reported', async () => {
    const result = await run([server.url('/not-a-set')])
    assert.equal(result.exitCode, 1)
    assert.deepEqual(result.stderr.split('\n'), [
      `ERR_KEYSET_INVALID: key set has no "keys" array (key set ${server.url('/not-a-set')})`,
      `ERR_DISCOVERY_FAILED: fetching failed: status 404 (discovery document ${server.url('/not-a-set/.well-known/openid-configuration')})`,
      '',
    ])
  })
})

describe('jwks-bridge jwks: fetch rules', () => {
  it('a redirect is refused, not followed', async () => {
    const before = server.count('/good')
    const result = await run([server.url('/moved')])
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    const [first] = result.stderr.split('\n')
    assert.equal(
      first,
      `ERR_JWKS_FETCH_FAILED: fetching failed: redirect (status 302) refused (key set ${server.url('/moved')})`,
    )
    assert.equal(server.count('/good'), before, 'the redirect target was never fetched')
  })

  it('a discovered jwks_uri that redirects is refused too', async () => {
    const result = await run(['--discover', server.url('/bounce')])
    assert.equal(result.exitCode, 1)
    assert.equal(
      result.stderr,
      `ERR_JWKS_FETCH_FAILED: fetching failed: redirect (status 302) refused (key set ${server.url('/moved')})\n`,
    )
  })

  it('an unreachable server: exit 1, one line (no discovery attempt on a dead host)', async () => {
    const dead = await new TestServer().start()
    const url = dead.url('/jwks')
    await dead.stop()
    const result = await run([url])
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, `ERR_JWKS_FETCH_FAILED: fetching failed: network error (key set ${url})\n`)
  })

  it('applies the verifier defaults: 5000 ms, 262144 bytes, 30-600 s freshness, 100 keys', () => {
    const defaults = verifierDefaults()
    assert.deepEqual(defaults.fetchLimits, { timeoutMs: 5000, maxResponseBytes: 262144 })
    assert.deepEqual(defaults.freshness, { minSeconds: 30, maxSeconds: 600 })
    assert.equal(defaults.keyLimits.maxKeys, 100)
    assert.equal(defaults.keyLimits.minRsaModulusBits, 2048)
    // The help states them; it must not drift from the library.
    assert.match(JWKS_HELP, /5000 ms for the whole fetch; at most\n262144 bytes/)
  })
})

describe('jwks-bridge jwks: usage errors (exit 2) and help', () => {
  for (const [url, reason] of [
    [
      'http://keys.example.com/jwks.json',
      /^jwks-bridge jwks: ISSUER-OR-URL must use https: \(plain http: is allowed only/,
    ],
    ['http://10.0.0.1/jwks.json', /must use https:/],
    ['ftp://127.0.0.1/jwks', /must use https:/],
    ['keys.example.com/jwks', /ISSUER-OR-URL is not a valid URL/],
    ['https://user:secret@keys.example.com/jwks', /must not contain credentials/],
  ] as const) {
    it(`refuses ${url} before any network I/O`, async () => {
      const result = await run([url])
      assert.equal(result.exitCode, 2)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, reason)
      assert.ok(result.stderr.endsWith(JWKS_HELP))
      assert.ok(!result.stderr.includes('secret@'), 'credentials are not repeated back')
    })
  }

  it('a missing argument, two arguments, an unknown option', async () => {
    assert.match((await run([])).stderr, /^jwks-bridge jwks: missing ISSUER-OR-URL/)
    const two = await run([server.url('/good'), server.url('/good')])
    assert.equal(two.exitCode, 2)
    assert.match(two.stderr, /^jwks-bridge jwks: expected one ISSUER-OR-URL, got 2/)
    const unknown = await run(['--jwks-uri', server.url('/good')])
    assert.equal(unknown.exitCode, 2)
    assert.match(unknown.stderr, /^jwks-bridge jwks: unknown option --jwks-uri/)
  })

  it('--help prints the help on stdout, exit 0, without fetching', async () => {
    const before = server.requests.length
    assert.deepEqual(await run([server.url('/good'), '--help']), {
      exitCode: 0,
      stdout: JWKS_HELP,
      stderr: '',
    })
    assert.equal(server.requests.length, before)
  })
})
