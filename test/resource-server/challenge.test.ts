import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JwksBridgeError } from '../../src/errors.ts'
import { buildChallenge, type ChallengeConfig, quoted } from '../../src/resource-server/challenge.ts'
import { metadataUrlFor } from '../../src/resource-server/metadata.ts'

const META = 'https://api.example.com/.well-known/oauth-protected-resource'
const config = (dpop: ChallengeConfig['dpop']): ChallengeConfig => ({
  dpop,
  dpopAlgorithms: ['ES256', 'EdDSA'],
  resourceMetadataUrl: META,
  realm: undefined,
})
const err = (code: ConstructorParameters<typeof JwksBridgeError>[0], message = 'why') =>
  new JwksBridgeError(code, message)

describe('challenges (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1)', () => {
  it('RFC 6750 §3.1: no credentials → 401 and challenges without an error code, with resource_metadata', () => {
    const answer = buildChallenge(err('ERR_TOKEN_MISSING'), config('allowed'))
    assert.equal(answer.status, 401)
    assert.equal(
      answer.headers['www-authenticate'],
      `Bearer resource_metadata="${META}", DPoP algs="ES256 EdDSA", resource_metadata="${META}"`,
    )
    assert.equal(answer.headers['cache-control'], 'no-store')
  })

  it('RFC 6750 §3.1 invalid_token: a bad token → 401, the error on the scheme the client used', () => {
    const bearer = buildChallenge(err('ERR_JWT_EXPIRED', 'the token has expired'), config('allowed'), {
      scheme: 'Bearer',
    })
    assert.equal(bearer.status, 401)
    assert.equal(
      bearer.headers['www-authenticate'],
      `Bearer error="invalid_token", error_description="the token has expired", resource_metadata="${META}", ` +
        `DPoP algs="ES256 EdDSA", resource_metadata="${META}"`,
    )
    const dpop = buildChallenge(err('ERR_JWT_EXPIRED', 'expired'), config('allowed'), { scheme: 'DPoP' })
    assert.equal(
      dpop.headers['www-authenticate'],
      `Bearer resource_metadata="${META}", DPoP error="invalid_token", error_description="expired", algs="ES256 EdDSA", resource_metadata="${META}"`,
    )
  })

  it('RFC 6750 §3.1 invalid_request → 400', () => {
    const answer = buildChallenge(err('ERR_REQUEST_INVALID', 'two headers'), config('off'))
    assert.equal(answer.status, 400)
    assert.equal(
      answer.headers['www-authenticate'],
      `Bearer error="invalid_request", error_description="two headers", resource_metadata="${META}"`,
    )
  })

  it('RFC 6750 §3.1 insufficient_scope → 403 with the scope needed', () => {
    const answer = buildChallenge(err('ERR_SCOPE_INSUFFICIENT', 'lacks'), config('off'), {
      scopes: ['read', 'admin'],
    })
    assert.equal(answer.status, 403)
    assert.equal(
      answer.headers['www-authenticate'],
      `Bearer error="insufficient_scope", error_description="lacks", scope="read admin", resource_metadata="${META}"`,
    )
  })

  it('RFC 9449 §7.1: invalid_dpop_proof goes on the DPoP challenge, with algs', () => {
    const answer = buildChallenge(err('ERR_DPOP_PROOF_INVALID', 'bad "htu"'), config('required'), {
      scheme: 'DPoP',
    })
    assert.equal(answer.status, 401)
    assert.equal(
      answer.headers['www-authenticate'],
      `DPoP error="invalid_dpop_proof", error_description="bad 'htu'", algs="ES256 EdDSA", resource_metadata="${META}"`,
    )
    const replay = buildChallenge(err('ERR_DPOP_PROOF_REPLAYED'), config('allowed'), { scheme: 'DPoP' })
    assert.match(replay.headers['www-authenticate'] ?? '', /DPoP error="invalid_dpop_proof"/)
  })

  it('RFC 9449 §9: use_dpop_nonce comes with a DPoP-Nonce header', () => {
    const answer = buildChallenge(err('ERR_DPOP_NONCE_REQUIRED'), config('allowed'), {
      scheme: 'DPoP',
      nonce: 'n0nce.abc',
    })
    assert.equal(answer.status, 401)
    assert.equal(answer.headers['dpop-nonce'], 'n0nce.abc')
    assert.match(answer.headers['www-authenticate'] ?? '', /DPoP error="use_dpop_nonce"/)
  })

  it('RFC 9449 §7.1: dpop "required" offers the DPoP scheme only; "off" the Bearer scheme only', () => {
    assert.equal(
      buildChallenge(err('ERR_DPOP_REQUIRED'), config('required')).headers['www-authenticate'],
      `DPoP algs="ES256 EdDSA", resource_metadata="${META}"`,
    )
    assert.equal(
      buildChallenge(err('ERR_AUTH_SCHEME_UNSUPPORTED'), config('off')).headers['www-authenticate'],
      `Bearer resource_metadata="${META}"`,
    )
  })

  it('RFC 6750 §3: a realm, when configured, comes first', () => {
    const answer = buildChallenge(err('ERR_TOKEN_MISSING'), { ...config('off'), realm: 'things' })
    assert.equal(answer.headers['www-authenticate'], `Bearer realm="things", resource_metadata="${META}"`)
  })

  it('an outage is 503 without a challenge; anything not coded is 500', () => {
    const outage = buildChallenge(err('ERR_JWKS_UNAVAILABLE'), config('allowed'))
    assert.equal(outage.status, 503)
    assert.equal(outage.headers['www-authenticate'], undefined)
    assert.equal(buildChallenge(new Error('boom'), config('allowed')).status, 500)
  })

  it('RFC 6750 §3: error_description stays inside its quoted-string (no quote, backslash or control character)', () => {
    assert.equal(quoted('a "b" \\ c\r\nd é'), `"a 'b'  cd "`)
  })

  it('RFC 9728 §3.1: the metadata URL inserts the well-known path before the resource path', () => {
    assert.equal(metadataUrlFor(new URL('https://api.example.com')).href, META)
    assert.equal(metadataUrlFor(new URL('https://api.example.com/')).href, META)
    assert.equal(metadataUrlFor(new URL('https://api.example.com/v1/')).href, `${META}/v1`)
    assert.equal(
      metadataUrlFor(new URL('https://api.example.com:8443/a/b')).href,
      'https://api.example.com:8443/.well-known/oauth-protected-resource/a/b',
    )
  })
})
