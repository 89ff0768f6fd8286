/**
 * The test sign-in route: the original system's fake login, done so that app tests still drive the
 * real handoff. Given `{ subject, claims }`, it mints a token with a test issuer and sends it through
 * the bridge's normal handoff (request guard, verification, profile, replay guard, identity, new
 * session, cookie); nothing is skipped.
 *
 * It exists only when NODE_ENV is exactly `test`, and enabling it under NODE_ENV=production throws,
 * so a server configured with it refuses to start (a sign-in route that trusts its caller is an
 * authentication bypass). Any other NODE_ENV (development, unset) gives `undefined`: no route.
 */

import { errorResponse } from '../bridge/http-status.js'
import { MAX_IDENTIFIER_LENGTH } from '../bridge/profiles/common.js'
import type { BridgeRequest, BridgeResponse } from '../bridge/types.js'
import { invalidOptions, isJwksBridgeError, JwksBridgeError } from '../errors.js'
import { parseJsonObject } from '../jose/json.js'
import { optionError, optionNames, positiveInteger, readOptions } from '../lib/options.js'
import type { TestIssuer } from './test-issuer.js'

export const DEFAULT_TEST_SIGN_IN_PATH = '/auth/test-sign-in'

const WHERE = 'enableTestSignIn'

/**
 * What the test sign-in hands the token to: the bridge from `createBridge` fits as it is. Only its
 * public `handle` and `routes.authPath` are used.
 */
export interface TestSignInBridge {
  handle(request: BridgeRequest): Promise<BridgeResponse | undefined>
  readonly routes: { readonly authPath: string }
}

export interface TestSignInOptions {
  /** Mints the tokens. The bridge's verifier must trust it (add `issuer.verifierOptions()`). */
  issuer: TestIssuer
  /**
   * The bridge. The minted token is sent to `bridge.handle` as a JSON handoff (`PUT` to its auth path)
   * carrying the test request's headers, so the request guard, CSRF check and cookies apply as for a
   * browser.
   */
  bridge: TestSignInBridge
  /** Where this route lives. Default `/auth/test-sign-in`. */
  path?: string
  /** Largest test sign-in body. Default 16384. */
  maxBodyBytes?: number
}

const TEST_SIGN_IN_KEYS = optionNames<TestSignInOptions>()(['issuer', 'bridge', 'path', 'maxBodyBytes'])

export interface TestSignInInput {
  subject: string
  /** Extra claims for the token (e.g. email, name); cannot replace `sub`. */
  claims?: Record<string, unknown>
}

export interface TestSignInRoute {
  readonly method: 'POST'
  readonly path: string
  /**
   * The route: `POST <path>` with a JSON body `{ "subject": "...", "claims": { ... } }`. Answers what
   * the handoff answers (204 and the session cookie, or its error), or 400/415 for a bad body.
   */
  handle(request: BridgeRequest): Promise<BridgeResponse>
  /** The same without HTTP: signs in `subject` through the handoff. `request` overrides the defaults. */
  signIn(input: TestSignInInput, request?: Partial<BridgeRequest>): Promise<BridgeResponse>
  /** Only the token: what `signIn` hands off. */
  mint(input: TestSignInInput): string
}

function refuseOutsideTest(): boolean {
  const env = process.env.NODE_ENV
  if (env === 'production') {
    throw invalidOptions('test sign-in must never be enabled with NODE_ENV=production: refusing to start')
  }
  return env === 'test'
}

function badBody(reason: string): JwksBridgeError {
  return new JwksBridgeError('ERR_BODY_INVALID', `the test sign-in body is invalid: ${reason}`, { reason })
}

/** Validates `{ subject, claims }` (plain data from a JSON body or a test). */
export function parseTestSignInInput(value: unknown): TestSignInInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badBody('not an object')
  const { subject, claims } = value as Record<string, unknown>
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_IDENTIFIER_LENGTH) {
    throw badBody(`subject must be a string of 1 to ${MAX_IDENTIFIER_LENGTH} characters`)
  }
  if (claims !== undefined && (typeof claims !== 'object' || claims === null || Array.isArray(claims))) {
    throw badBody('claims must be an object')
  }
  return claims === undefined ? { subject } : { subject, claims: claims as Record<string, unknown> }
}

/**
 * Returns the test sign-in route when NODE_ENV is `test`, `undefined` otherwise, and throws under
 * NODE_ENV=production.
 *
 * @example
 * const testSignIn = enableTestSignIn({ issuer: idp, bridge })
 * const response = await testSignIn?.signIn({ subject: 'user-1', claims: { email: 'a@example.com' } })
 */
export function enableTestSignIn(options: TestSignInOptions): TestSignInRoute | undefined {
  if (!refuseOutsideTest()) return undefined
  readOptions(WHERE, options, TEST_SIGN_IN_KEYS)
  const { issuer, bridge } = options
  if (typeof issuer?.sign !== 'function') throw optionError(WHERE, 'issuer must be a test issuer')
  if (typeof bridge?.handle !== 'function' || typeof bridge.routes?.authPath !== 'string') {
    throw optionError(WHERE, 'bridge must be the bridge from createBridge')
  }
  const authPath = bridge.routes.authPath
  const path = options.path ?? DEFAULT_TEST_SIGN_IN_PATH
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9\-._~/]*$/.test(path)) {
    throw optionError(WHERE, 'path must be a path starting with "/"')
  }
  if (path === authPath) throw optionError(WHERE, "path must differ from the bridge's auth path")
  const maxBodyBytes = positiveInteger(WHERE, 'maxBodyBytes', options.maxBodyBytes, 16_384)

  function mint(input: TestSignInInput): string {
    const { subject, claims } = parseTestSignInInput(input)
    return issuer.sign({ ...claims, sub: subject })
  }

  async function signIn(
    input: TestSignInInput,
    request: Partial<BridgeRequest> = {},
  ): Promise<BridgeResponse> {
    // Checked on every use too: the route must not work if the environment changed after start-up.
    if (!refuseOutsideTest()) throw invalidOptions('test sign-in works only with NODE_ENV=test')
    const token = mint(input)
    const headers: Record<string, string | undefined> = { host: 'localhost', ...request.headers }
    // The body is replaced: its length and type are the handoff's, not the test request's.
    delete headers['content-length']
    headers['content-type'] = 'application/json'
    const response = await bridge.handle({
      method: 'PUT',
      path: authPath,
      headers,
      body: JSON.stringify({ jwt: token }),
      secure: request.secure ?? false,
      // Called in-process without a request, nothing crosses a network: it counts as this machine.
      // Through the route, the adapter's reading of the socket decides.
      loopback: request.loopback ?? request.secure === undefined,
    })
    if (response === undefined)
      throw invalidOptions('test sign-in: the bridge did not answer its own auth path')
    return response
  }

  async function handle(request: BridgeRequest): Promise<BridgeResponse> {
    try {
      if (request.method !== 'POST') {
        return { status: 405, headers: { allow: 'POST', 'cache-control': 'no-store' }, cookies: [] }
      }
      const type = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase()
      if (type !== 'application/json') {
        throw new JwksBridgeError(
          'ERR_UNSUPPORTED_MEDIA_TYPE',
          'the test sign-in body must be application/json',
        )
      }
      const bytes =
        typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? new Uint8Array())
      if (bytes.length > maxBodyBytes) {
        throw new JwksBridgeError('ERR_BODY_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`)
      }
      let body: unknown
      try {
        body = parseJsonObject(bytes, 'body')
      } catch {
        throw badBody('not a JSON object')
      }
      return await signIn(parseTestSignInInput(body), request)
    } catch (error) {
      // An options error (NODE_ENV changed under a running server) is the server's problem: rethrow it.
      if (!isJwksBridgeError(error) || error.code === 'ERR_INVALID_OPTIONS') throw error
      const response = errorResponse(error)
      if (response === undefined) throw error
      return response
    }
  }

  return Object.freeze({ method: 'POST' as const, path, handle, signIn, mint })
}
