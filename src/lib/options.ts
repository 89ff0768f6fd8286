/**
 * The option checks every factory shares: a plain object, no unknown names, numbers with their unit,
 * string lists, booleans, functions. Each failure is ERR_INVALID_OPTIONS with a message that names the
 * factory (`where`), the option and what it must be, so a mistake stops start-up instead of quietly
 * turning a check off (`audiance: 'my-api'` once gave a verifier that checked no audience at all).
 *
 * Options are read as `unknown`: JavaScript callers and configuration files get the same checks as
 * TypeScript callers.
 */
import { invalidOptions, type JwksBridgeError } from '../errors.js'

/** An options object after `readOptions`: its names are known, its values still unchecked. */
export type OptionRecord = Record<string, unknown>

/** An object that is not null and not an array (class instances such as a pg Pool count). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** ERR_INVALID_OPTIONS, its message prefixed with the factory: `createVerifier: audience must be ...`. */
export function optionError(where: string, message: string): JwksBridgeError {
  return invalidOptions(`${where}: ${message}`)
}

/**
 * The list of an options interface's names, checked by the compiler both ways: each name must be a key
 * of `T` (a typo in the list), and each key of `T` must be listed (an option added to the interface and
 * forgotten here would be refused, or dropped where the list drives a merge). A missing key is a type
 * error naming it: `Property 'missing' is missing ... { missing: "newOption" }`.
 *
 * @example
 * const KEYS = optionNames<VerifierOptions>()(['issuer', 'jwks', ...])
 */
export function optionNames<T>() {
  return <const K extends readonly (keyof T & string)[]>(
    names: K &
      ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): readonly (K[number] & string)[] => Object.freeze([...names])
}

/**
 * Edit distance between two names (optimal string alignment: insert, delete, substitute, or swap two
 * neighbours, each costing 1), case-insensitive, for "did you mean" hints.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  // rows[i][j]: distance between the first i characters of s and the first j of t.
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= s.length; i++) {
    const row = rows[i] as number[]
    const above = rows[i - 1] as number[]
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row[j] = best
    }
  }
  return (rows[s.length] as number[])[t.length] as number
}

/**
 * The known name closest to `name`, when it is close enough to be a slip of the keyboard: at most one
 * edit per three characters (at least one), so `audiance` suggests `audience`, `pth` suggests `path`,
 * and `color` suggests nothing. Ties go to the first name in `known`.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3))
  let nearest: string | undefined
  let nearestDistance = limit + 1
  for (const candidate of known) {
    const distance = editDistance(name, candidate)
    if (distance < nearestDistance) {
      nearest = candidate
      nearestDistance = distance
    }
  }
  return nearest
}

/**
 * Refuses any name of `value` that is not in `known`, whatever its value: a misspelt option is a
 * mistake even when it is undefined. `prefix` names a nested object (`cookie.`, `issuers[0].`).
 */
export function refuseUnknownKeys(
  where: string,
  value: Record<string, unknown>,
  known: readonly string[],
  prefix = '',
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const nearest = nearestName(key, known)
    const hint =
      nearest === undefined
        ? ` (known options: ${known.join(', ')})`
        : ` (did you mean "${prefix}${nearest}"?)`
    throw optionError(where, `unknown option ${JSON.stringify(`${prefix}${key}`)}${hint}`)
  }
}

export interface ReadOptionsRules {
  /** What the object is called in messages, e.g. `cookie`. Default `options`. */
  name?: string
  /** Undefined is read as `{}` (all defaults). Default false: the options are required. */
  optional?: boolean
}

/**
 * A factory's options object (or a nested one): a plain object whose names are all in `known`.
 *
 * @example
 * const raw = readOptions('createSqliteStores', options, SQLITE_KEYS, { optional: true })
 */
export function readOptions(
  where: string,
  value: unknown,
  known: readonly string[],
  rules: ReadOptionsRules = {},
): OptionRecord {
  const name = rules.name ?? 'options'
  if (value === undefined && rules.optional === true) return {}
  if (!isPlainObject(value)) throw optionError(where, `${name} must be an object`)
  refuseUnknownKeys(where, value, known, rules.name === undefined ? '' : `${rules.name}.`)
  return value
}

/** A whole number from 1 up (counts, sizes in bytes, bits). */
export function positiveInteger(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw optionError(where, `${name} must be a positive integer`)
  }
  return value
}

/** A whole number from `min` to `max` (ports, batch sizes, bounded lifetimes). */
export function integerInRange(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw optionError(where, `${name} must be a whole number from ${min} to ${max}`)
  }
  return value
}

/**
 * A duration in seconds: a finite number, at least 0, or above 0 when `allowZero` is false (a
 * lifetime of 0 would end every session at once). Fractions are allowed.
 */
export function seconds(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  allowZero = true,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw optionError(where, `${name} must be a finite number of seconds ${allowZero ? '>= 0' : '> 0'}`)
  }
  return value
}

/** A duration in whole milliseconds, at least `min` (default 1: a timeout of 0 would fail at once). */
export function milliseconds(where: string, name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw optionError(where, `${name} must be a whole number of milliseconds, at least ${min}`)
  }
  return value
}

export interface StringListRules {
  /** A single string is read as a list of one. Default false. */
  allowSingle?: boolean
  /** An empty list is accepted. Default true. */
  allowEmpty?: boolean
}

/** A list of non-empty strings (claim names, audiences, tenant ids), or undefined when not given. */
export function stringList(
  where: string,
  name: string,
  value: unknown,
  rules: StringListRules = {},
): string[] | undefined {
  if (value === undefined) return undefined
  const single = rules.allowSingle === true
  const allowEmpty = rules.allowEmpty !== false
  const list = single && typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    (!allowEmpty && list.length === 0) ||
    list.some((item) => typeof item !== 'string' || item.length === 0)
  ) {
    const what = `${allowEmpty ? 'an' : 'a non-empty'} array of non-empty strings`
    throw optionError(where, `${name} must be ${single ? `a non-empty string or ${what}` : what}`)
  }
  return [...(list as string[])]
}

export function booleanOption(where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw optionError(where, `${name} must be true or false`)
  return value
}

export function nonEmptyString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw optionError(where, `${name} must be a non-empty string`)
  }
  return value
}

/** A callback or hook; the caller states its type (the check can only see that it is a function). */
export function functionOption<F>(where: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw optionError(where, `${name} must be a function`)
  return value as F
}

/** One of a fixed set of values: strings, or booleans beside them (`false`, `true`, `'auto'`). */
export function oneOf<T extends string | boolean>(
  where: string,
  name: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (!choices.includes(value as T)) {
    throw optionError(where, `${name} must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`)
  }
  return value as T
}
