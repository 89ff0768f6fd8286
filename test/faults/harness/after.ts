// Checks once the dependency is back: every session still works, and tokens that were used cannot be
// used again (the replay guard's records survived the fault).
import type { AppClient, Kind, Outcome, Session } from './load.ts'

/** Counts of codes, e.g. { OK: 40, ERR_TOKEN_REPLAYED: 2 }. */
export type Tally = Record<string, number>

function tally(outcomes: readonly Outcome[]): Tally {
  const counts: Tally = {}
  for (const outcome of outcomes) counts[outcome.code] = (counts[outcome.code] ?? 0) + 1
  return counts
}

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<Outcome>): Promise<Outcome[]> {
  const results: Outcome[] = []
  for (let i = 0; i < items.length; i += 8)
    results.push(...(await Promise.all(items.slice(i, i + 8).map(run))))
  return results
}

/** GET /me with each session: all should answer OK with the session's own identity. */
export async function sessionsAnswer(client: AppClient, sessions: readonly Session[]): Promise<Tally> {
  return tally(await inBatches(sessions, (session) => client.me(session)))
}

/** Sends the handoffs' tokens again (at most `max` of them). */
export async function resend(client: AppClient, outcomes: readonly Outcome[], max: number): Promise<Tally> {
  const chosen = outcomes.filter((o) => o.token !== undefined).slice(0, max)
  return tally(
    await inBatches(chosen, (o) => client.handoff(o.kind as Kind, o.token as string, o.subject as string)),
  )
}
