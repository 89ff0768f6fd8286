// Tokens for the HTTP benchmark, minted in the parent before a run (never during one, so that minting
// takes no CPU from the app under load). Each handoff token is used once: the reference app refuses
// replays, and the baseline gets the same fresh tokens so that both do the same work.
import { performance } from 'node:perf_hooks'
import type { TestIssuer } from '../../src/testing/index.ts'

/** Subjects cycle through this many users: most handoffs find an existing identity, some create one. */
export const SUBJECTS = 1000

/** The JSON bodies for `PUT /auth`, each with a fresh token (distinct `jti`, `iat` now). */
export class TokenPool {
  readonly #bodies: string[]
  #next = 0
  /** Requests for which no unused token was left (must stay 0 for a valid run). */
  overdrawn = 0

  constructor(bodies: string[]) {
    this.#bodies = bodies
  }

  get size(): number {
    return this.#bodies.length
  }

  get used(): number {
    return Math.min(this.#next, this.#bodies.length)
  }

  /** The next unused body; past the end, the last one again (counted in `overdrawn`). */
  take(): string {
    if (this.#next >= this.#bodies.length) {
      this.overdrawn += 1
      return this.#bodies[this.#bodies.length - 1]!
    }
    return this.#bodies[this.#next++]!
  }
}

let minted = 0

/**
 * Mints `count` tokens with the issuer's algorithm; returns the bodies and how long minting took. Apps
 * with their own databases may each use the same bodies once (one TokenPool each over them).
 */
export function mintBodies(issuer: TestIssuer, count: number): { bodies: string[]; seconds: number } {
  const start = performance.now()
  const bodies = new Array<string>(count)
  for (let i = 0; i < count; i++) {
    minted += 1
    bodies[i] = JSON.stringify({ jwt: issuer.sign({ sub: `user-${minted % SUBJECTS}` }) })
  }
  return { bodies, seconds: (performance.now() - start) / 1000 }
}

/** Mints `count` tokens into a pool of their own; returns the pool and how long minting took. */
export function mintPool(issuer: TestIssuer, count: number): { pool: TokenPool; seconds: number } {
  const { bodies, seconds } = mintBodies(issuer, count)
  return { pool: new TokenPool(bodies), seconds }
}

/**
 * Tokens whose signature is wrong: signed by another key under the issuer's own `kid`, so that they
 * pass every cheap check and fail only at the signature, as a forged token would.
 */
export function invalidBodies(issuer: TestIssuer, impostor: TestIssuer, count: number): string[] {
  const bodies: string[] = []
  for (let i = 0; i < count; i++) {
    bodies.push(
      JSON.stringify({ jwt: impostor.sign({ iss: issuer.issuer, sub: `user-${i}` }, { kid: issuer.kid }) }),
    )
  }
  return bodies
}

/** The bodies in turn, starting over past the last (a bad signature may repeat: it is refused each time). */
export function inTurn(bodies: readonly string[]): () => string {
  let next = 0
  return () => bodies[next++ % bodies.length]!
}
