#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DEV_ISSUER_HELP, DEV_ISSUER_SUMMARY, runDevIssuer } from './dev-issuer.js'
import { INSPECT_HELP, INSPECT_SUMMARY, runInspect } from './inspect.js'
import type { CliContext } from './io.js'
import { JWKS_HELP, JWKS_SUMMARY, runJwks } from './jwks.js'
import { MIGRATE_HELP, MIGRATE_SUMMARY, runMigrate } from './migrate.js'
import { runServe, SERVE_HELP, SERVE_SUMMARY } from './serve.js'
import type { CliResult } from './usage.js'
import { runVerify, VERIFY_HELP, VERIFY_SUMMARY } from './verify.js'

interface Command {
  summary: string
  help: string
  run(argv: readonly string[], context: CliContext): Promise<CliResult>
}

/** The commands, in the order the help lists them. A command is added here when it works. */
const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['verify', { summary: VERIFY_SUMMARY, help: VERIFY_HELP, run: runVerify }],
  ['inspect', { summary: INSPECT_SUMMARY, help: INSPECT_HELP, run: runInspect }],
  ['jwks', { summary: JWKS_SUMMARY, help: JWKS_HELP, run: runJwks }],
  ['migrate', { summary: MIGRATE_SUMMARY, help: MIGRATE_HELP, run: runMigrate }],
  ['dev-issuer', { summary: DEV_ISSUER_SUMMARY, help: DEV_ISSUER_HELP, run: runDevIssuer }],
  ['serve', { summary: SERVE_SUMMARY, help: SERVE_HELP, run: runServe }],
])

function commandList(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((name) => name.length)) + 2
  return [...COMMANDS].map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`).join('\n')
}

export function mainHelp(): string {
  return `Usage: jwks-bridge <command> [options]
       jwks-bridge help <command>
       jwks-bridge --help | --version

Verify JSON Web Tokens from an identity provider against its JSON Web Key Set.

Commands:
${commandList()}

Options:
  -h, --help     show this help
  --version      print the version

Run 'jwks-bridge help <command>' for a command's options, exit status and examples.

Examples:
  jwks-bridge verify --issuer https://auth.example.com --jwks-file jwks.json - < token.txt
  jwks-bridge verify --issuer https://auth.example.com --audience my-api - < token.txt
  jwks-bridge inspect - < token.txt
  jwks-bridge jwks --discover https://auth.example.com
`
}

/** The package version, read from package.json next to src/ or dist/ (both are two levels down). */
export function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}

function unknown(what: string): CliResult {
  return {
    exitCode: 2,
    stdout: '',
    stderr: `jwks-bridge: ${what}\n\nCommands:\n${commandList()}\n\nRun 'jwks-bridge --help' for usage.\n`,
  }
}

// A command name that is safe to repeat back in an error (never a token pasted in the wrong place).
const PLAIN_NAME = /^-{0,2}[A-Za-z][A-Za-z0-9-]{0,31}$/

function describe(word: string): string {
  return PLAIN_NAME.test(word) ? JSON.stringify(word) : 'given'
}

/** Dispatches `argv` (without `node` and the script path) to a command and returns what it printed. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<CliResult> {
  const [first, ...rest] = argv
  if (first === undefined) return { exitCode: 2, stdout: '', stderr: mainHelp() }
  if (first === '-h' || first === '--help') return { exitCode: 0, stdout: mainHelp(), stderr: '' }
  if (first === '--version') {
    if (rest.length > 0) return unknown('--version takes no arguments')
    return { exitCode: 0, stdout: `${version()}\n`, stderr: '' }
  }
  if (first === 'help') {
    const [topic, ...extra] = rest
    if (topic === undefined) return { exitCode: 0, stdout: mainHelp(), stderr: '' }
    const command = COMMANDS.get(topic)
    if (command === undefined) return unknown(`no help for the unknown command ${describe(topic)}`)
    if (extra.length > 0) return unknown('help takes one command name')
    return { exitCode: 0, stdout: command.help, stderr: '' }
  }
  if (first.startsWith('-')) return unknown(`unknown option ${describe(first)}; give a command first`)
  const command = COMMANDS.get(first)
  if (command === undefined) return unknown(`unknown command ${describe(first)}`)
  return command.run(rest, context)
}

/** The executable: runs the command on the real process, writes its output and sets the exit status. */
export async function main(): Promise<void> {
  let result: CliResult
  try {
    result = await runCli(process.argv.slice(2), { stdin: process.stdin, env: process.env })
  } catch (error) {
    // Not a rejected token or a usage error: a bug or an environment failure. Exit 1 fails closed
    // for scripts that read 0 as "valid".
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    result = { exitCode: 1, stdout: '', stderr: `jwks-bridge: internal error: ${detail}\n` }
  }
  if (result.stdout.length > 0) process.stdout.write(result.stdout)
  if (result.stderr.length > 0) process.stderr.write(result.stderr)
  // exitCode rather than process.exit(): exit() can cut off output still queued for a pipe.
  process.exitCode = result.exitCode
}

/** True when this file is the program Node was started with (directly or through the npm bin link). */
function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) await main()
