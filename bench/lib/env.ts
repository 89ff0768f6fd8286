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
