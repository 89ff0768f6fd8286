/** A copy without the members whose value is undefined (so callers can remove a default claim). */
export function withoutUndefined(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(object)) if (value !== undefined) out[name] = value
  return out
}
