/**
 * The `forwardAuth` option of createBridge: the names of the identity headers that `GET
 * <authPath>/check` answers with (and that the reverse proxy sets on forwarded requests), and where
 * browsers without a session are sent.
 */
import { isPlainObject, optionError, optionNames, readOptions } from '../lib/options.js'

export interface ForwardAuthOptions {
  /** Header carrying the identity's subject (`sub`). Default `X-Auth-Subject`. */
  subjectHeader?: string
  /** Header carrying the identity's issuer (`iss`). Default `X-Auth-Issuer`. */
  issuerHeader?: string
  /** Header carrying the local identity id. Default `X-Auth-Identity-Id`. */
  identityIdHeader?: string
  /**
   * Claims from the sign-in snapshot (`claimsSnapshot`) to send, by claim name → header name.
   * Default: `email` → `X-Auth-Email` and `name` → `X-Auth-Name`, for those in the snapshot.
   */
  claimHeaders?: Readonly<Record<string, string>>
  /**
   * A same-origin path where browsers sign in (e.g. `/auth/sign-in`). When set, the check's 401 to a
   * browser navigation carries `Location: <signInPath>?return_to=<original path>` (from a trusted
   * proxy's `X-Original-URI` / `X-Forwarded-Uri`), for proxies that turn it into a redirect.
   */
  signInPath?: string
}

export interface ForwardAuthConfig {
  /** Lower-case header names. */
  subjectHeader: string
  issuerHeader: string
  identityIdHeader: string
  /** [claim, lower-case header name] pairs. */
  claimHeaders: ReadonlyArray<readonly [string, string]>
  /** Every identity header name (lower case): what the proxy removes from a client's request. */
  allHeaders: readonly string[]
  signInPath: string | undefined
}

const WHERE = 'createBridge'
const KEYS = optionNames<ForwardAuthOptions>()([
  'subjectHeader',
  'issuerHeader',
  'identityIdHeader',
  'claimHeaders',
  'signInPath',
])

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Names a proxy, a framework or the bridge itself gives a meaning to: an identity header under one of
 * these names would be overwritten, dropped or, worse, taken for something else (a forged `Host`).
 */
const RESERVED =
  /^(?:host|cookie|set-cookie|authorization|proxy-authorization|www-authenticate|location|content-.*|transfer-encoding|connection|keep-alive|upgrade|te|trailer|forwarded|x-forwarded-.*|x-real-ip|x-original-.*|x-csrf-token|origin|referer|sec-.*|cache-control|vary)$/i

function headerName(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !TOKEN.test(value) || value.length > 64) {
    throw optionError(
      WHERE,
      `forwardAuth.${name} must be a header name (letters, digits, -), e.g. X-Auth-User`,
    )
  }
  if (RESERVED.test(value)) {
    throw optionError(
      WHERE,
      `forwardAuth.${name} must not be ${JSON.stringify(value)}: proxies give that header its own meaning`,
    )
  }
  return value.toLowerCase()
}

const DEFAULT_CLAIM_HEADERS: Readonly<Record<string, string>> = { email: 'X-Auth-Email', name: 'X-Auth-Name' }

/** Checks `forwardAuth` (names only; values come from the identity at each request). */
export function resolveForwardAuth(value: unknown, snapshot: readonly string[]): ForwardAuthConfig {
  const raw = readOptions(WHERE, value, KEYS, { name: 'forwardAuth', optional: true })
  const subjectHeader = headerName('subjectHeader', raw.subjectHeader, 'x-auth-subject')
  const issuerHeader = headerName('issuerHeader', raw.issuerHeader, 'x-auth-issuer')
  const identityIdHeader = headerName('identityIdHeader', raw.identityIdHeader, 'x-auth-identity-id')

  let claimHeaders: Array<readonly [string, string]>
  if (raw.claimHeaders === undefined) {
    claimHeaders = Object.entries(DEFAULT_CLAIM_HEADERS)
      .filter(([claim]) => snapshot.includes(claim))
      .map(([claim, header]) => [claim, header.toLowerCase()] as const)
  } else {
    if (!isPlainObject(raw.claimHeaders)) {
      throw optionError(WHERE, 'forwardAuth.claimHeaders must be an object of claim name → header name')
    }
    claimHeaders = []
    for (const [claim, header] of Object.entries(raw.claimHeaders)) {
      // Only the snapshot is stored with the identity: any other claim would never have a value.
      if (!snapshot.includes(claim)) {
        throw optionError(
          WHERE,
          `forwardAuth.claimHeaders names the claim ${JSON.stringify(claim)}, which is not in claimsSnapshot (${snapshot.join(', ')})`,
        )
      }
      claimHeaders.push([claim, headerName(`claimHeaders.${claim}`, header, '')] as const)
    }
  }

  const allHeaders = [subjectHeader, issuerHeader, identityIdHeader, ...claimHeaders.map(([, h]) => h)]
  const duplicate = allHeaders.find((name, i) => allHeaders.indexOf(name) !== i)
  if (duplicate !== undefined) {
    throw optionError(WHERE, `forwardAuth names the header ${JSON.stringify(duplicate)} twice`)
  }

  let signInPath: string | undefined
  if (raw.signInPath !== undefined) {
    // A path on this origin: the 401's Location must never send a browser elsewhere (open redirect).
    if (
      typeof raw.signInPath !== 'string' ||
      !/^\/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(raw.signInPath)
    ) {
      throw optionError(WHERE, 'forwardAuth.signInPath must be a path on this origin, e.g. /auth/sign-in')
    }
    signInPath = raw.signInPath
  }
  return {
    subjectHeader,
    issuerHeader,
    identityIdHeader,
    claimHeaders: Object.freeze(claimHeaders),
    allHeaders: Object.freeze(allHeaders),
    signInPath,
  }
}
