// needs: build
// End-to-end: the compiled CLI, run as a separate process, as users and tooling run it.
//
// The CLI is compiled here, once, into a temp dir (tsc with the project's build settings, only
// src/cli/main.ts and what it imports), instead of using dist/: dist/ may be stale after an edit
// and is shared with whatever else runs at the same time, while this always tests the current
// source. A package.json is copied next to it, as in the published package: it makes the .js files
// ES modules and is where --version reads from.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { TestServer } from '../helpers/jwks-server.ts'
import { ISSUER, liveToken, nowSeconds, rsa, signatureOf, type TempDir, tempDir } from './fixtures.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

let dir: TempDir
let mainJs: string
let jwksFile: string

before(() => {
  dir = tempDir()
  const out = join(dir.path, 'package')
  mkdirSync(out)
  copyFileSync(join(root, 'package.json'), join(out, 'package.json'))
  const tsconfig = join(dir.path, 'tsconfig.json')
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(root, 'tsconfig.build.json'),
      compilerOptions: {
        rootDir: join(root, 'src'),
        outDir: join(out, 'dist'),
        typeRoots: [join(root, 'node_modules/@types')],
        declaration: false,
        sourceMap: false,
      },
      include: [],
      files: [join(root, 'src/cli/main.ts')],
    }),
  )
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`)
  // Where package.json's "bin" points, relative to the package root.
  mainJs = join(out, packageJson.bin['jwks-bridge'])
  jwksFile = dir.write('jwks.json', { keys: [rsa.jwk] })
})
after(() => dir.remove())

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `command args`, writes `stdin` and closes it (or leaves it open with `keepStdinOpen`), and
 * kills the process if it has not exited after 15 s: a CLI that hangs fails the test, it does not
 * hang the suite.
 */
function exec(command: string, args: string[], stdin = '', keepStdinOpen = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the CLI did not exit within 15 s (args: ${args.length})`))
    }, 15_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.on('error', () => {}) // the CLI may exit without reading stdin
    child.stdin.write(stdin)
    if (!keepStdinOpen) child.stdin.end()
  })
}

const cli = (args: string[], stdin = '', keepStdinOpen = false) =>
  exec(process.execPath, [mainJs, ...args], stdin, keepStdinOpen)

const verifyArgs = () => ['verify', '--issuer', ISSUER, '--jwks-file', jwksFile, '-']

describe('the built CLI (node dist/cli/main.js)', () => {
  it('src/cli/main.ts and the built file start with the shebang; bin points at dist/cli/main.js', () => {
    assert.equal(packageJson.bin['jwks-bridge'], './dist/cli/main.js')
    assert.equal(readFileSync(join(root, 'src/cli/main.ts'), 'utf8').split('\n')[0], '#!/usr/bin/env node')
    assert.equal(readFileSync(mainJs, 'utf8').split('\n')[0], '#!/usr/bin/env node')
  })

  it('verify: a valid token on stdin, exit 0 and one JSON line {"header","payload"}', async () => {
    const result = await cli(verifyArgs(), `${liveToken()}\n`)
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, '')
    const lines = result.stdout.split('\n')
    assert.equal(lines.length, 2)
    assert.equal(lines[1], '')
    const document = JSON.parse(lines[0] as string)
    assert.deepEqual(Object.keys(document), ['header', 'payload'])
    assert.equal(document.payload.sub, 'user-1')
  })

  it('verify: an expired token on stdin, exit 1 and "CODE: message" on stderr', async () => {
    const token = liveToken(rsa, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })
    const result = await cli(verifyArgs(), token)
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, 'ERR_JWT_EXPIRED: the token has expired\n')
    assert.ok(!result.stderr.includes(signatureOf(token)))
  })

  it('verify: a usage error, exit 2 with the reason and the help on stderr', async () => {
    const result = await cli(['verify', '--jwks-file', jwksFile, '-'], liveToken())
    assert.equal(result.code, 2)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^jwks-bridge verify: missing --issuer/)
    assert.match(result.stderr, /\nUsage: jwks-bridge verify /)
  })

  it('verify: --jwks-uri on a loopback server, exit 0, and the process exits once done', async () => {
    const server = await new TestServer().start()
    try {
      server.routes.set('/jwks.json', { body: { keys: [rsa.jwk] } })
      const args = ['verify', '--issuer', ISSUER, '--jwks-uri', server.url('/jwks.json'), '-']
      const result = await cli(args, liveToken())
      assert.equal(result.code, 0, result.stderr)
      assert.equal(JSON.parse(result.stdout).payload.iss, ISSUER)
    } finally {
      await server.stop()
    }
  })

  it('verify --issuer alone: discovers the key set on a loopback server, exit 0', async () => {
    const server = await new TestServer().start()
    try {
      const issuer = server.url('/realm')
      server.routes.set('/realm/.well-known/openid-configuration', {
        body: { issuer, jwks_uri: server.url('/realm/keys') },
      })
      server.routes.set('/realm/keys', { body: { keys: [rsa.jwk] } })
      const result = await cli(['verify', '--issuer', issuer, '-'], liveToken(rsa, { iss: issuer }))
      assert.equal(result.code, 0, result.stderr)
      assert.equal(JSON.parse(result.stdout).payload.iss, issuer)
    } finally {
      await server.stop()
    }
  })

  it('jwks: lists the keys of a set on a loopback server, exit 0; an unreachable one, exit 1', async () => {
    const server = await new TestServer().start()
    const url = server.url('/jwks.json')
    try {
      server.routes.set('/jwks.json', { body: { keys: [rsa.jwk] } })
      const result = await cli(['jwks', url])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /\n0 +usable +cli-rs +RSA +RS256 +2048 +sig +-\n/)
      assert.ok(!result.stdout.includes(rsa.jwk.n as string), 'no key material')
    } finally {
      await server.stop()
    }
    const down = await cli(['jwks', url])
    assert.equal(down.code, 1)
    assert.match(down.stderr, /^ERR_JWKS_FETCH_FAILED: fetching failed: network error \(key set /)
  })

  it('a token given as an argument: exits without waiting for stdin to close', async () => {
    const result = await cli(['verify', '--issuer', ISSUER, '--jwks-file', jwksFile, liveToken()], '', true)
    assert.equal(result.code, 0, result.stderr)
  })

  it('inspect: a token on stdin, exit 0, verified:false on stdout and NOT VERIFIED on stderr', async () => {
    const token = liveToken()
    const result = await cli(['inspect', '-'], token)
    assert.equal(result.code, 0)
    const document = JSON.parse(result.stdout)
    assert.equal(document.verified, false)
    assert.match(document.warning, /^NOT VERIFIED: /)
    assert.match(result.stderr, /^NOT VERIFIED: /)
    assert.match(result.stderr, /\nexp {2}\d{4}-\d\d-\d\dT.*Z {2}\(in 9 minutes\)\n/)
    assert.ok(!result.stdout.includes(signatureOf(token)))
  })

  it('inspect: a malformed token, exit 1 with a code', async () => {
    const result = await cli(['inspect', '-'], 'a.b')
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^ERR_TOKEN_MALFORMED: /)
  })

  it('an unknown command, exit 2 with the list of commands', async () => {
    const result = await cli(['serv'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^jwks-bridge: unknown command "serv"\n\nCommands:\n {2}verify/)
  })

  it('runs through a symlink, as npm installs the bin, with the shebang finding node', async () => {
    const bin = join(dir.path, 'bin')
    mkdirSync(bin, { recursive: true })
    const link = join(bin, 'jwks-bridge')
    symlinkSync(mainJs, link)
    // npm sets the executable bit when it links a bin; tsc does not.
    chmodSync(mainJs, 0o755)
    const result = await exec(link, ['--version'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, `${packageJson.version}\n`)
  })
})
