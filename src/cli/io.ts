import { isUtf8 } from 'node:buffer'
import { readFileSync, statSync } from 'node:fs'
import { JwksBridgeError } from '../errors.js'
import { parseJsonObject } from '../jose/json.js'
import type { JsonWebKeySet } from '../verifier/options.js'
import { UsageError } from './usage.js'

/** Standard input as a command sees it: the process's stream, or a fixed value in tests. */
export type StdinSource = string | Uint8Array | AsyncIterable<string | Uint8Array>

/** Everything a command reads from its environment, so that tests can call it without spawning. */
export interface CliContext {
  stdin: StdinSource
  env: Readonly<Record<string, string | undefined>>
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  nowMs?: () => number
}

/** Most bytes read from standard input: a token is at most 16 KiB by default, so this is generous. */
export const MAX_STDIN_BYTES = 1024 * 1024

/** Largest key set file read: providers publish a few keys, a few KiB; the verifier holds at most 100. */
export const MAX_JWKS_FILE_BYTES = 1024 * 1024

async function readAll(source: StdinSource, maxBytes: number): Promise<Buffer> {
  if (typeof source === 'string') return Buffer.from(source, 'utf8')
  if (source instanceof Uint8Array) return Buffer.from(source)
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk)
    total += bytes.length
    // Stop reading at the cap: a command reading a token must not buffer whatever is piped into it.
    if (total > maxBytes) break
    chunks.push(bytes)
  }
  if (total > maxBytes) {
    throw new UsageError(`standard input holds more than ${maxBytes} bytes; send one token, nothing else`)
  }
  return Buffer.concat(chunks)
}

/**
 * The TOKEN argument: the token itself, or `-` to read it from standard input. Input from stdin is
 * trimmed of surrounding whitespace (`echo "$TOKEN" |` adds a newline); an argument is taken as
 * given, so a stray character in it is reported by the verifier, not silently dropped.
 */
export async function readToken(argument: string, stdin: StdinSource): Promise<string> {
  if (argument !== '-') {
    if (argument.length === 0) {
      throw new UsageError('the TOKEN argument is empty; is the shell variable holding it set?')
    }
    return argument
  }
  const bytes = await readAll(stdin, MAX_STDIN_BYTES)
  if (!isUtf8(bytes)) throw new UsageError('standard input is not UTF-8 text; send the compact token')
  const token = bytes.toString('utf8').trim()
  if (token.length === 0) {
    throw new UsageError(
      'standard input is empty; send the token, e.g. `jwks-bridge verify ... - < token.txt`',
    )
  }
  return token
}

/**
 * Reads a JSON Web Key Set file (`{"keys": [...]}`, RFC 7517 §5). Every problem is a UsageError
 * naming the file and never quoting its contents (a misplaced private key must not end up in a log).
 * The JSON is parsed as strictly as a token (no duplicate member names, no BOM): a key whose members
 * two readers could see differently is as ambiguous in a key set as in a token.
 */
export function readJwksFile(path: string): JsonWebKeySet {
  const where = `key set file ${JSON.stringify(path)}`
  let bytes: Buffer
  try {
    const stat = statSync(path)
    if (!stat.isFile()) throw new UsageError(`${where} is not a regular file; give the path of a JSON file`)
    if (stat.size > MAX_JWKS_FILE_BYTES) {
      throw new UsageError(`${where} is larger than ${MAX_JWKS_FILE_BYTES} bytes; is it really a key set?`)
    }
    bytes = readFileSync(path)
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = (error as { code?: unknown }).code
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${typeof code === 'string' ? code : 'I/O error'})`
    throw new UsageError(`${where} ${why}; check the --jwks-file path`)
  }
  let document: Record<string, unknown>
  try {
    document = parseJsonObject(bytes, where)
  } catch (error) {
    const reason = error instanceof JwksBridgeError ? error.message : `${where} is not valid JSON`
    throw new UsageError(`${reason}; it must hold a JSON Web Key Set: {"keys": [...]}`)
  }
  if (!Array.isArray(document.keys)) {
    const hint =
      typeof document.kty === 'string' ? ' (it looks like a single JWK: wrap it as {"keys": [ ... ]})' : ''
    throw new UsageError(`${where} is not a JSON Web Key Set: it has no "keys" array${hint}`)
  }
  return document as unknown as JsonWebKeySet
}
