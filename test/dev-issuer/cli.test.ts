// `jwks-bridge dev-issuer`: help, usage errors and refusals in-process; start and stop both in-process
// (an AbortSignal) and as a real process (spawned, stopped with SIGTERM and SIGINT).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DEV_ISSUER_HELP, runDevIssuer } from '../../src/cli/dev-issuer.ts'
import { runCli } from '../../src/cli/main.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const context = { stdin: '', env: {} }

describe('dev-issuer help and usage', () => {
  it('is listed in the main help, and has its own help in the CLI style', async () => {
    const main = await runCli(['--help'], context)
    assert.match(main.stdout, /\n {2}dev-issuer +run a local identity provider/)
    for (const argv of [
      ['help', 'dev-issuer'],
      ['dev-issuer', '--help'],
      ['dev-issuer', '-h', '--port', 'x'],
    ]) {
      const result = await runCli(argv, context)
      assert.equal(result.exitCode, 0, argv.join(' '))
      assert.equal(result.stdout, DEV_ISSUER_HELP)
    }
    assert.match(
      DEV_ISSUER_HELP,
      /^Usage: jwks-bridge dev-issuer \[--port N\] \[--host H\] \[--alg A\] \[--profile P\] \[--issuer URL\]\n/,
    )
    for (const section of [
      '\nOptions:\n',
      '\nExit status:\n',
      '\nExamples:\n',
      '--allow-non-loopback',
      'NODE_ENV=production',
    ]) {
      assert.ok(DEV_ISSUER_HELP.includes(section), section)
    }
  })

  it('usage errors: exit 2, what is wrong, then the help', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'abc'], /--port takes a port number/],
      [['--port', '70000'], /--port takes a port number/],
      [['--port', '1', '--port', '2'], /--port was given 2 times/],
      [['--alg', 'HS256'], /--alg must be one of RS256, ES256, EdDSA/],
      [['--profile', 'auth0'], /--profile must be one of generic, supertokens/],
      [['--profile', 'supertokens', '--alg', 'ES256'], /supertokens profile signs with RS256 only/],
      [['--token-lifetime', '0'], /--token-lifetime takes a whole number/],
      [['--issuer', 'nope', '--port', '0'], /issuer is not a valid URL/],
      [['--host', '0.0.0.0', '--port', '0'], /not a loopback address.*--allow-non-loopback/s],
      [['--bogus'], /unknown option --bogus/],
      [['extra'], /takes no arguments/],
    ]
    for (const [argv, message] of cases) {
      const result = await runDevIssuer(argv, context)
      assert.equal(result.exitCode, 2, argv.join(' '))
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^jwks-bridge dev-issuer: /)
      assert.match(result.stderr, message, argv.join(' '))
      assert.ok(result.stderr.endsWith(DEV_ISSUER_HELP))
    }
  })

  it('security issue #10: a public --issuer without --allow-non-loopback is a usage error (exit 2), nothing listens', async () => {
    // Bounded: code that wrongly starts the provider is stopped after 3 s instead of waiting for a signal.
    const result = await runDevIssuer(['--issuer', 'https://app.example.com/dev-issuer', '--port', '0'], {
      ...context,
      signal: AbortSignal.timeout(3000),
      write: () => {},
    })
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /is not loopback.*--allow-non-loopback/s)
  })

  it('NODE_ENV=production: exit 1 and why, nothing listens', async () => {
    const result = await runDevIssuer(['--port', '0'], { stdin: '', env: { NODE_ENV: 'production' } })
    assert.equal(result.exitCode, 1)
    assert.match(result.stderr, /refusing to run with NODE_ENV=production/)
  })

  it('a port in use: exit 1, saying to choose another --port', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const port = String((blocker.address() as { port: number }).port)
      const result = await runDevIssuer(['--port', port], context)
      assert.equal(result.exitCode, 1)
      assert.match(result.stderr, /is in use; choose another with --port/)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })
})

/** The URL printed on the line `  <label>: URL`. */
function printed(output: string, label: string): string | undefined {
  return new RegExp(`^ {2}${label}: +(\\S+)$`, 'm').exec(output)?.[1]
}

describe('dev-issuer start and stop', () => {
  it('in-process: prints the issuer, discovery and key set URLs, serves them, stops when signalled', async () => {
    const controller = new AbortController()
    let output = ''
    let ready: () => void = () => {}
    const started = new Promise<void>((resolve) => {
      ready = resolve
    })
    const run = runDevIssuer(['--port', '0', '--profile', 'supertokens'], {
      ...context,
      write: (text) => {
        output += text
        ready()
      },
      signal: controller.signal,
    })
    const early = await Promise.race([started.then(() => undefined), run])
    assert.equal(early, undefined, 'the command returned before printing its URLs')
    const issuer = printed(output, 'issuer') as string
    assert.match(issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(printed(output, 'discovery'), `${issuer}/.well-known/openid-configuration`)
    assert.equal(printed(output, 'jwks'), `${issuer}/jwt/jwks.json`)
    const document = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >
    assert.equal(document.issuer, issuer)
    controller.abort()
    const result = await run
    assert.equal(result.exitCode, 0)
    assert.match(result.stdout, /stopped/)
    await assert.rejects(fetch(`${issuer}/.well-known/jwks.json`), 'nothing listens any more')
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`as a process: waits for the printed URL, serves discovery, exits 0 on ${signal}`, async () => {
      const env = { ...process.env }
      delete env.NODE_ENV
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'dev-issuer', '--port', '0'],
        {
          cwd: root,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      const exited = exitOf(child)
      try {
        let stdout = ''
        let stderr = ''
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk
        })
        const discoveryUrl = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no URL printed within 15 s; stderr: ${stderr}`)),
            15_000,
          )
          child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
            stdout += chunk
            const url = printed(stdout, 'discovery')
            if (url !== undefined) {
              clearTimeout(timer)
              resolve(url)
            }
          })
          exited.then((code) => {
            clearTimeout(timer)
            reject(new Error(`exited with ${code} before printing; stderr: ${stderr}`))
          })
        })
        assert.match(stdout, /never use it in production/)
        const issuer = printed(stdout, 'issuer') as string
        assert.equal(printed(stdout, 'jwks'), `${issuer}/.well-known/jwks.json`)
        const response = await fetch(discoveryUrl)
        assert.equal(response.status, 200)
        assert.equal(((await response.json()) as { issuer: string }).issuer, issuer)

        child.kill(signal)
        assert.equal(await exited, 0)
        assert.match(stdout, /stopped\n$/)
        assert.equal(stderr, '')
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
    })
  }
})

/** Resolves with the exit code (or the signal name), at most 20 s after the start. */
function exitOf(child: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? signal)
    })
  })
}
