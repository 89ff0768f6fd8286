/**
 * A benchmark setting from the environment: the fallback when unset, else a number within
 * [min, max] (a whole number with `integer`), or a clear error naming the variable.
 */
export function numberFromEnv(
  name: string,
  fallback: number,
  min: number,
  max: number,
  options: { integer?: boolean } = {},
): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  const valid = options.integer === true ? Number.isInteger(value) : Number.isFinite(value)
  if (!valid || value < min || value > max) {
    throw new Error(
      `${name} must be ${options.integer === true ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    )
  }
  return value
}

/** A comma-separated list from the environment, each value one of `allowed`; `fallback` when unset. */
export function listFromEnv<T extends string>(
  name: string,
  allowed: readonly T[],
  fallback: readonly T[],
): T[] {
  const raw = (process.env[name] ?? '').trim()
  if (raw === '') return [...fallback]
  const values = raw.split(',').map((s) => s.trim())
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value))
      throw new Error(`${name}: unknown value ${value} (one of ${allowed.join(', ')})`)
  }
  return [...new Set(values)] as T[]
}

/** A comma-separated list of whole numbers within [min, max] from the environment; `fallback` when unset. */
export function integersFromEnv(
  name: string,
  fallback: readonly number[],
  min: number,
  max: number,
): number[] {
  const raw = (process.env[name] ?? '').trim()
  if (raw === '') return [...fallback]
  const values = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number)
  if (values.length === 0 || values.some((n) => !Number.isInteger(n) || n < min || n > max))
    throw new Error(`${name}: each must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return [...new Set(values)]
}
