import { type ParseArgsConfig, parseArgs } from 'node:util'

/** What every command returns: the wrapper in main.ts writes it out and sets the exit status. */
export interface CliResult {
  /** 0 success, 1 the token was rejected or is malformed, 2 usage error. */
  exitCode: 0 | 1 | 2
  stdout: string
  stderr: string
}

/**
 * A mistake in how the command was called (exit status 2). Its message says what is wrong and what
 * to do; it never quotes an argument that could be a token.
 */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Exit 2: what is wrong first, then any `notes` (lines ending in \n), then the help. */
export function usageFailure(command: string, message: string, help: string, notes = ''): CliResult {
  return { exitCode: 2, stdout: '', stderr: `jwks-bridge ${command}: ${message}\n${notes}\n${help}` }
}

/** `-h`/`--help` anywhere before a `--` asks for help, whatever else is on the line. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '-h' || arg === '--help') return true
  }
  return false
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>

// Spelled out through parseArgs itself: the inferred type names an interface @types/node does not
// export, which declaration emit (npm run build) cannot write.
type StrictParse<T extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>

/**
 * node:util parseArgs in strict mode, with its errors rewritten: its own messages quote the
 * offending argument, and that argument can be a token that starts with "-" (base64url allows it).
 */
export function parseCommandArgs<const T extends OptionsConfig>(
  argv: readonly string[],
  options: T,
): StrictParse<T> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(describeParseError(error, argv, options))
  }
}

// A flag name that is safe to repeat back: short, plain, nothing like a token.
const PLAIN_FLAG = /^(--[A-Za-z][A-Za-z0-9-]{0,31}|-[A-Za-z])$/

function describeParseError(error: unknown, argv: readonly string[], options: OptionsConfig): string {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : ''
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const known = new Set<string>()
    for (const [name, option] of Object.entries(options)) {
      known.add(`--${name}`)
      if (option.short !== undefined) known.add(`-${option.short}`)
    }
    for (const arg of argv) {
      if (arg === '--') break
      if (!arg.startsWith('-') || arg === '-') continue
      const name = arg.split('=', 1)[0] as string
      if (known.has(name)) continue
      if (PLAIN_FLAG.test(name)) return `unknown option ${name}; see the options below`
      break
    }
    return 'an argument starts with "-" but is not an option; if it is a token, put it after "--" or pass "-" and send it on standard input'
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const named = /'(--?[A-Za-z][A-Za-z0-9-]*)/.exec(message)?.[1]
    const name = named !== undefined && PLAIN_FLAG.test(named) ? named : 'an option'
    if (message.includes('does not take an argument')) return `${name} does not take a value`
    if (message.includes('ambiguous')) {
      return `${name} needs a value; to give a value that starts with "-", write ${name}=VALUE`
    }
    return `${name} needs a value`
  }
  return 'the arguments could not be parsed; see the usage below'
}
