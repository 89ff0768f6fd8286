import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TOKEN_PROFILE_NAMES, tokenProfile } from '../../src/bridge/profiles.ts'
import { isJwksBridgeError } from '../../src/index.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'

describe('tokenProfile', () => {
  it('builds each named profile', () => {
    assert.equal(tokenProfile('generic').name, 'generic')
    assert.equal(tokenProfile('supertokens').name, 'supertokens')
    assert.equal(tokenProfile('oidc-id-token', { audience: 'client' }).name, 'oidc-id-token')
    assert.deepEqual([...TOKEN_PROFILE_NAMES], ['generic', 'oidc-id-token', 'supertokens'])
  })

  it('refuses an unknown name', () => {
    assert.throws(
      () => tokenProfile('auth0' as never),
      (e: unknown) => isJwksBridgeError(e, 'ERR_INVALID_OPTIONS'),
    )
  })

  it('issue #13: a misspelt profile option is refused, naming the nearest known one', () => {
    refusesUnknownOption(
      () => tokenProfile('generic', { audiance: 'api' } as never),
      'the generic profile',
      'audiance',
      'audience',
    )
    refusesUnknownOption(
      () => tokenProfile('oidc-id-token', { audience: 'client', nonse: 'n' } as never),
      'the oidc-id-token profile',
      'nonse',
      'nonce',
    )
    refusesUnknownOption(
      () => tokenProfile('supertokens', { tenantId: ['public'] } as never),
      'the supertokens profile',
      'tenantId',
      'tenantIds',
    )
  })

  it('returns frozen profiles (a shared profile cannot be loosened at run time)', () => {
    const profile = tokenProfile('supertokens')
    assert.ok(Object.isFrozen(profile))
    assert.ok(Object.isFrozen(profile.verifierOptions))
    const algorithms = profile.verifierOptions?.algorithms as string[]
    assert.throws(() => algorithms.push('ES256'), TypeError)
  })
})
