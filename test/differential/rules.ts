// The strictness rules under which jwks-bridge may reject a token that jose accepts (issue 2,
// "It must reject"; security catalogue section 6). A disagreement that fits none of them fails
// the differential test: it is either a bug in jwks-bridge or a rule nobody wrote down.
import type { ErrorCode, JwksBridgeError } from '../../src/errors.ts'
import type { Case } from './corpus.ts'
import { WEAK_KIDS } from './keys.ts'

export interface StrictnessRule {
  id: string
  /** Where the rule comes from. */
  source: string
  codes: readonly ErrorCode[]
  /** A condition on the error or the mutation, where the code alone is broader than the rule. */
  when?: (error: JwksBridgeError, c: Case) => boolean
}

/** The protected header as a lenient decoder reads it, for predicates; undefined if unreadable. */
function lenientHeader(token: string): Record<string, unknown> | undefined {
  try {
    const segment = (token.split('.')[0] ?? '').replace(/\s/g, '')
    const text = Buffer.from(segment, 'base64url')
      .toString('utf8')
      .replace(/^\ufeff/, '')
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat'])
const STRING_CLAIMS = new Set(['iss', 'sub', 'aud', 'jti'])

export const STRICTNESS_RULES: readonly StrictnessRule[] = [
  {
    id: 'canonical-base64url',
    source: 'RFC 7515 §2 (base64url, no padding); PyJWT GHSA-hxm8-2xgr-2p9m; catalogue §6 rows 1-2',
    codes: ['ERR_BASE64URL_INVALID'],
  },
  {
    id: 'duplicate-members',
    source: 'RFC 7515 §4 and RFC 7519 §4 (reject, or last wins: we reject); RFC 8725 §3.7',
    codes: ['ERR_JSON_DUPLICATE_MEMBER'],
  },
  {
    id: 'strict-utf8-no-bom',
    source: 'RFC 8259 §8.1 (no BOM in JSON text); RFC 3629',
    codes: ['ERR_UTF8_INVALID'],
  },
  {
    id: 'finite-numericdate',
    source: 'RFC 7519 §2 NumericDate; `exp: 1e400` is Infinity (catalogue E1)',
    codes: ['ERR_CLAIMS_INVALID'],
    when: (error) => TIME_CLAIMS.has(error.claim ?? ''),
  },
  {
    id: 'claim-value-types',
    source: 'RFC 7519 §4.1.1-4.1.3, §4.1.7 (StringOrURI, aud string or array of strings)',
    codes: ['ERR_CLAIMS_INVALID'],
    when: (error) => STRING_CLAIMS.has(error.claim ?? ''),
  },
  {
    id: 'exp-required',
    source: 'issue 2: `exp` required by default (jose: optional)',
    codes: ['ERR_CLAIM_MISSING'],
    when: (error) => error.claim === 'exp',
  },
  {
    id: 'iat-not-in-future',
    source: 'issue 2: `iat` in the future is refused (jose checks it only with maxTokenAge)',
    codes: ['ERR_JWT_ISSUED_IN_FUTURE'],
  },
  {
    id: 'weak-rsa-key',
    source: 'RFC 7518 §3.3 (>= 2048 bits), e odd and >= 3 (Wycheproof JWK tcId 9; catalogue B6)',
    codes: ['ERR_KEY_NOT_FOUND'],
    // Only when the token names a key of the set that jwks-bridge refused at import as weak.
    when: (_error, c) => c.context === 'weak' && WEAK_KIDS.has(String(lenientHeader(c.token)?.kid)),
  },
  {
    id: 'crit',
    source: 'RFC 7515 §4.1.11 (unique names, none registered, each present and understood)',
    codes: ['ERR_CRIT_INVALID', 'ERR_CRIT_UNSUPPORTED'],
  },
  {
    id: 'b64-in-jwt',
    source: 'RFC 7797 §7: a JWT MUST NOT use the unencoded payload option',
    codes: ['ERR_HEADER_INVALID'],
    when: (error) => error.claim === 'b64',
  },
  {
    id: 'header-member-types',
    source: 'RFC 7515 §4.1.9-4.1.10: `typ` and `cty` are strings',
    codes: ['ERR_HEADER_INVALID'],
    when: (error, c) =>
      (error.claim === 'typ' || error.claim === 'cty') &&
      typeof lenientHeader(c.token)?.[error.claim] !== 'string',
  },
  {
    id: 'nested-jwt-unsupported',
    source: 'RFC 7519 §5.2 `cty: JWT` asks for a nested token; not supported, refused',
    codes: ['ERR_HEADER_INVALID'],
    // A media type may omit `application/` (RFC 7515 §4.1.10): `JWT` and `application/jwt` alike.
    when: (error, c) =>
      error.claim === 'cty' && /^(application\/)?jwt$/i.test(String(lenientHeader(c.token)?.cty)),
  },
  {
    id: 'json-nesting-depth',
    source: 'MAX_JSON_DEPTH (RFC 7518 §8.6 spirit: bounded work per token)',
    codes: ['ERR_JSON_INVALID'],
    // ERR_JSON_INVALID is also "not JSON", which jose refuses too: only the nesting mutations count.
    when: (_error, c) => c.kind.startsWith('deep-nesting'),
  },
  {
    id: 'token-length-cap',
    source: 'issue 2: token longer than the cap (16 KiB) refused before decoding (RFC 8725bis)',
    codes: ['ERR_TOKEN_TOO_LONG'],
  },
]

/** The rule a stricter rejection falls under, or undefined when none does. */
export function classify(error: JwksBridgeError, c: Case): StrictnessRule | undefined {
  return STRICTNESS_RULES.find((rule) => rule.codes.includes(error.code) && (rule.when?.(error, c) ?? true))
}

/**
 * Mutation kinds that must each end as a disagreement under the named rule: jose accepts them and
 * jwks-bridge refuses them for that reason. This keeps the check from passing vacuously (a corpus
 * that jose also rejected would prove nothing).
 */
export const EXPECTED_DISAGREEMENTS: Readonly<Record<string, string>> = {
  'signature-unused-bits': 'canonical-base64url',
  'signature-whitespace': 'canonical-base64url',
  'token-trailing-newline': 'canonical-base64url',
  'resigned-padding': 'canonical-base64url',
  'resigned-whitespace': 'canonical-base64url',
  'dup-header-alg-none-first': 'duplicate-members',
  'dup-claim-exp': 'duplicate-members',
  'dup-claim-escaped-exp': 'duplicate-members',
  'dup-deeply-nested-member': 'duplicate-members',
  'bom-header': 'strict-utf8-no-bom',
  'bom-payload': 'strict-utf8-no-bom',
  'exp-1e400': 'finite-numericdate',
  'nbf-neg-1e400': 'finite-numericdate',
  'iat-1e400': 'finite-numericdate',
  'sub-number': 'claim-value-types',
  'aud-mixed-array': 'claim-value-types',
  'jti-number': 'claim-value-types',
  'exp-missing': 'exp-required',
  'iat-future': 'iat-not-in-future',
  'weak-e1-forged': 'weak-rsa-key',
  'crit-duplicate-name': 'crit',
  'crit-b64-true': 'b64-in-jwt',
  'b64-false': 'b64-in-jwt',
  'typ-number': 'header-member-types',
  'cty-jwt': 'nested-jwt-unsupported',
  'cty-application-jwt': 'nested-jwt-unsupported',
  'deep-nesting-payload': 'json-nesting-depth',
  'too-long': 'token-length-cap',
}
