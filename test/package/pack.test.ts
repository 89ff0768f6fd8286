// needs: build
// The artifact users get: `npm pack` of the built project, installed from the tarball into a scratch
// project outside the repo, with no network and an empty npm cache (the package has no runtime
// dependencies, and the optional peers are not needed to import any entry point). The scratch project
// then imports every documented entry point by its public name (test/package/consumer.mjs), runs the
// installed bin, and type-checks user code against the shipped declarations (consumer-types.ts), so
// the "exports" map, the "types" conditions, "files" and "bin" are all proven on the real tarball.
//
// It packs dist/ as built (`npm pack --ignore-scripts`): running `prepare` here would rebuild dist/,
// which other test files read at the same time. CI builds dist/ once, in `npm ci`.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CLIENT_ONLY_SOURCE, CONSUMER_TYPES_SOURCE } from './consumer-types.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const repoPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

/** The entry points the README documents; a new subpath in "exports" must be added here (and tested). */
const DOCUMENTED_ENTRY_POINTS = [
  '.',
  './client',
  './client/jwks-bridge-client.min.js',
  './dev-issuer',
  './express',
  './fastify',
  './fetch',
  './hono',
  './package.json',
  './testing',
]

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The environment for npm and the scratch project: without the npm_* variables that `npm test`
 * exports (npm_config_local_prefix among them would point a child npm back at this repo), and with
 * this Node first on PATH so the bin's `#!/usr/bin/env node` finds the Node running the tests.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'NODE_ENV') env[name] = value
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`
  return env
}

/** Runs a command to completion; a command still running after `timeoutMs` is killed and fails. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
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
      reject(new Error(`${command} ${args[0] ?? ''} did not finish within ${timeoutMs / 1000} s`))
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const failure = (what: string, result: Run) =>
  `${what} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`

let work: string
let app: string
let packedFiles: string[]
let installed: string

describe('the packed package, installed from its tarball in a scratch project', { timeout: 60_000 }, () => {
  before(async () => {
    for (const built of ['dist/index.js', 'dist/client/jwks-bridge-client.min.js']) {
      assert.ok(
        existsSync(join(root, built)),
        `${built} is missing: run \`npm run build\` first (CI builds dist/ in \`npm ci\`, through prepare)`,
      )
    }
    work = mkdtempSync(join(tmpdir(), 'jwks-bridge-pack-'))
    const pack = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      root,
      30_000,
    )
    assert.equal(pack.code, 0, failure('npm pack', pack))
    const [report] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[]
    assert.ok(report, `npm pack printed no report:\n${pack.stdout}`)
    packedFiles = report.files.map((file) => file.path).sort()
    const tarball = join(work, report.filename)
    assert.ok(existsSync(tarball), `npm pack reported ${report.filename} but wrote no such file`)

    app = join(work, 'app')
    mkdirSync(app)
    const init = await run('npm', ['init', '-y'], app, 15_000)
    assert.equal(init.code, 0, failure('npm init -y', init))
    const appPackage = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
    writeFileSync(join(app, 'package.json'), JSON.stringify({ ...appPackage, type: 'module' }, null, 2))
    // --offline with an empty cache: the install may read nothing but the tarball.
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--offline', '--cache', join(work, 'npm-cache'), tarball],
      app,
      30_000,
    )
    assert.equal(install.code, 0, failure('npm install --offline <tarball>', install))
    installed = join(app, 'node_modules/jwks-bridge')
  })

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('ships dist/, README.md, LICENSE and package.json, and nothing else', () => {
    const outside = packedFiles.filter(
      (path) => !path.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(path),
    )
    assert.deepEqual(outside, [], 'files outside dist/ in the tarball')
    for (const required of ['package.json', 'README.md', 'LICENSE']) assert.ok(packedFiles.includes(required))
  })

  it('every file in dist/ is built from a file in src/ (no source maps, no leftovers of an old build)', () => {
    // The two browser bundles are the only files without a source of the same name (esbuild output).
    const bundles = ['dist/client/index.js', 'dist/client/jwks-bridge-client.min.js']
    const strays = packedFiles.filter((path) => {
      if (!path.startsWith('dist/') || bundles.includes(path)) return false
      const source = path.replace(/^dist\//, 'src/').replace(/(\.d\.ts|\.js)$/, '.ts')
      return source === path || !existsSync(join(root, source))
    })
    assert.deepEqual(strays, [], 'run `npm run build` (it empties dist/ first), or stop shipping these')
    for (const bundle of bundles) assert.ok(packedFiles.includes(bundle), `${bundle} is not in the tarball`)
  })

  it('"exports" is exactly the documented entry points, each target in the tarball, types with code', () => {
    const exportsMap = repoPackage.exports as Record<string, string | Record<string, string>>
    assert.deepEqual(Object.keys(exportsMap).sort(), DOCUMENTED_ENTRY_POINTS)
    for (const [subpath, target] of Object.entries(exportsMap)) {
      const targets = typeof target === 'string' ? [target] : Object.values(target)
      for (const file of targets) {
        assert.ok(
          packedFiles.includes(file.replace(/^\.\//, '')),
          `${subpath} -> ${file} is not in the tarball`,
        )
      }
      if (typeof target === 'string') {
        // Only non-code targets may be bare strings: a .js with declarations needs a "types" condition.
        const declarations = target.replace(/^\.\//, '').replace(/\.js$/, '.d.ts')
        assert.ok(!target.endsWith('.js') || !packedFiles.includes(declarations), `${subpath} needs "types"`)
        continue
      }
      // "types" first (TypeScript takes the first matching condition), "default" last.
      assert.deepEqual(Object.keys(target), ['types', 'default'], `${subpath} conditions`)
    }
  })

  it('installs offline with nothing else: no runtime dependencies, optional peers left out', () => {
    const modules = readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.'))
    assert.deepEqual(modules, ['jwks-bridge'])
    const installedPackage = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    assert.equal(installedPackage.dependencies, undefined)
    for (const peer of Object.keys(installedPackage.peerDependencies ?? {})) {
      assert.equal(
        installedPackage.peerDependenciesMeta?.[peer]?.optional,
        true,
        `peer ${peer} is not optional`,
      )
    }
    // Installing never runs the package's code.
    for (const hook of ['preinstall', 'install', 'postinstall']) {
      assert.equal(installedPackage.scripts?.[hook], undefined, `a ${hook} script`)
    }
    assert.deepEqual(installedPackage.exports, repoPackage.exports)
  })

  it('the bin is linked, executable, starts with its shebang, and answers --version and --help', async () => {
    const bin = join(app, 'node_modules/.bin/jwks-bridge')
    const target = join(installed, repoPackage.bin['jwks-bridge'])
    assert.equal(readFileSync(target, 'utf8').split('\n')[0], '#!/usr/bin/env node')
    assert.ok((statSync(target).mode & 0o111) !== 0, 'the installed bin target is not executable')
    const version = await run(bin, ['--version'], app, 15_000)
    assert.equal(version.code, 0, failure('jwks-bridge --version', version))
    assert.equal(version.stdout, `${repoPackage.version}\n`)
    const help = await run(bin, ['--help'], app, 15_000)
    assert.equal(help.code, 0, failure('jwks-bridge --help', help))
    assert.match(help.stdout, /^Usage: jwks-bridge <command>/)
    assert.equal(help.stderr, '')
  })

  it('imports every entry point by name, verifies a real token, and keeps internals private', async () => {
    copyFileSync(join(root, 'test/package/consumer.mjs'), join(app, 'consumer.mjs'))
    const result = await run(process.execPath, ['consumer.mjs'], app, 20_000)
    assert.equal(result.code, 0, failure('the consumer script', result))
    const facts = JSON.parse(result.stdout)
    assert.deepEqual(facts.functions, {
      'jwks-bridge': [
        'createVerifier',
        'createBridge',
        'createMemoryStores',
        'createSqliteStores',
        'createPostgresStores',
        'createRedisStores',
        'importKeySet',
        'isJwksBridgeError',
        'JwksBridgeError',
        'createResourceServer',
      ],
      'jwks-bridge/testing': ['createTestIssuer', 'enableTestSignIn', 'describeAdapterConformance'],
      'jwks-bridge/fastify': [
        'jwksBridgeFastify',
        'requireAccessToken',
        'protectedResourceMetadata',
        'devIssuerFastify',
      ],
      'jwks-bridge/express': [
        'bridgeMiddleware',
        'requireAccessToken',
        'protectedResourceMetadata',
        'devIssuerMiddleware',
      ],
      'jwks-bridge/fetch': [
        'handleRequest',
        'authenticateRequest',
        'createFetchAdapter',
        'errorToResponse',
        'devIssuerHandler',
        'requireAccessToken',
        'protectedResourceMetadata',
      ],
      'jwks-bridge/hono': ['jwksBridge', 'requireAccessToken', 'protectedResourceMetadata'],
      'jwks-bridge/client': [
        'start',
        'signOut',
        'devIssuerSource',
        'superTokensSource',
        'functionSource',
        'looksLikeJwt',
      ],
      'jwks-bridge/dev-issuer': ['createDevIssuer', 'startDevIssuer'],
    })
    assert.equal(facts.fastifySkipOverride, true)
    assert.deepEqual(facts.fetchAdapter, { other: null, route: 415 })
    assert.equal(facts.verifiedSubject, 'package-user')
    assert.equal(facts.verifiedAlg, 'RS256')
    assert.equal(facts.forgedRejectedWith, 'ERR_SIGNATURE_INVALID')
    assert.equal(facts.testIssuerSubject, 'tested-user')
    assert.deepEqual(facts.devIssuerDiscovery, { status: 200, issuer: 'http://127.0.0.1:4000' })
    assert.equal(facts.looksLikeJwt, true)
    assert.deepEqual(facts.minScript, { sameFile: true, exists: true, inPackage: true })
    assert.deepEqual(facts.minScriptGlobal, ['start', 'signOut', 'superTokensSource'])
    assert.equal(facts.packageJsonVersion, repoPackage.version)
    assert.equal(facts.deepImport, 'ERR_PACKAGE_PATH_NOT_EXPORTED')
  })

  /** tsc with the options a strict user project has (nodenext, strict, no skipLibCheck). */
  const tscArgs = (tsc: string, lib: string, file: string) => [
    tsc,
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--lib',
    lib,
    '--strict',
    '--noEmit',
    '--skipLibCheck',
    'false',
    file,
  ]

  let typesLinked = false
  /** The frameworks' and Node's types, as the user's project has them installed. */
  function linkTypes(): void {
    if (typesLinked) return
    typesLinked = true
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true })
    for (const name of ['fastify', 'hono', '@types/express', '@types/node']) {
      symlinkSync(join(root, 'node_modules', name), join(app, 'node_modules', name), 'dir')
    }
    writeFileSync(join(app, 'check.ts'), CONSUMER_TYPES_SOURCE)
  }

  let bare: string | undefined
  /**
   * A second scratch project holding a copy of the installed package and nothing else: no @types/node
   * anywhere above it (a symlink would resolve back into the first project, which has them).
   */
  function bareProject(): string {
    if (bare !== undefined) return bare
    bare = join(work, 'bare')
    mkdirSync(join(bare, 'node_modules'), { recursive: true })
    cpSync(installed, join(bare, 'node_modules/jwks-bridge'), { recursive: true })
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', type: 'module' }))
    writeFileSync(join(bare, 'client.ts'), CLIENT_ONLY_SOURCE)
    writeFileSync(
      join(bare, 'server.ts'),
      "import { createVerifier } from 'jwks-bridge'\nexport const v = createVerifier\n",
    )
    return bare
  }

  // TypeScript 5 (the repo's own) and TypeScript 7 (what `npm install typescript` gives today; the
  // dev dependency `typescript7` is an alias of typescript@7).
  for (const [major, tscPath] of [
    [5, 'node_modules/typescript/bin/tsc'],
    [7, 'node_modules/typescript7/bin/tsc'],
  ] as const) {
    const tsc = join(root, tscPath)

    it(`TypeScript ${major}: user code type-checks against the shipped declarations (nodenext, strict, no skipLibCheck)`, async () => {
      const version = await run(process.execPath, [tsc, '--version'], app, 20_000)
      assert.match(
        version.stdout,
        new RegExp(`^Version ${major}\\.`),
        `${tscPath} is not TypeScript ${major}`,
      )
      linkTypes()
      const result = await run(process.execPath, tscArgs(tsc, 'es2022,dom', 'check.ts'), app, 40_000)
      assert.equal(result.code, 0, failure(`TypeScript ${major} on the scratch project`, result))
    })

    it(`TypeScript ${major}: jwks-bridge/client type-checks with no @types/node installed (DOM only)`, async () => {
      const result = await run(
        process.execPath,
        tscArgs(tsc, 'es2022,dom', 'client.ts'),
        bareProject(),
        40_000,
      )
      assert.equal(result.code, 0, failure(`TypeScript ${major} on the browser-only project`, result))
    })

    it(`TypeScript ${major}: without @types/node, the first error names it (the declarations reference Node's types)`, async () => {
      const result = await run(process.execPath, tscArgs(tsc, 'es2022', 'server.ts'), bareProject(), 40_000)
      assert.notEqual(result.code, 0, "the server entry point type-checked without Node's types")
      const first = (result.stdout + result.stderr).split('\n', 1)[0] ?? ''
      // Before: the first errors were "Cannot find name 'Buffer'" deep inside dist/jose/*.d.ts.
      assert.match(
        first,
        /^node_modules\/jwks-bridge\/dist\/index\.d\.ts\(1,\d+\): error TS2688: Cannot find type definition file for 'node'/,
      )
    })
  }
})
