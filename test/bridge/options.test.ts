import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createBridge } from '../../src/bridge/bridge.ts'
import { type BridgeOptions, withProfilePolicy } from '../../src/bridge/options.ts'
import { tokenProfile } from '../../src/bridge/profiles.ts'
import { isJwksBridgeError } from '../../src/errors.ts'
import { createMemoryStores } from '../../src/stores/memory/stores.ts'
import { createVerifier } from '../../src/verifier/verifier.ts'
import { refusesUnknownOption } from '../helpers/unknown-option.ts'
import { ISSUER, testKey } from './support.ts'

function base(): BridgeOptions {
  const { identities, sessions } = createMemoryStores()
  return { verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] } }, identities, sessions }
}

function refused(overrides: Record<string, unknown>, pattern?: RegExp) {
  assert.throws(
    () => createBridge({ ...base(), ...overrides } as BridgeOptions),
    (error: unknown) => {
      assert.ok(isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'), String(error))
      if (pattern) assert.match(error.message, pattern)
      return true
    },
  )
}

describe('createBridge validates its options eagerly (ERR_INVALID_OPTIONS)', () => {
  it('accepts the minimal options and exposes the routes', () => {
    const bridge = createBridge(base())
    assert.deepEqual(
      { ...bridge.routes },
      {
        authPath: '/auth',
        backChannelLogoutPath: undefined,
        checkPath: '/auth/check',
      },
    )
    assert.equal(bridge.maxBodyBytes, 16384)
    bridge.close()
  })

  it('refuses a missing or wrong verifier, and bad verifier options (checked by createVerifier)', () => {
    refused({ verifier: undefined }, /verifier/)
    refused({ verifier: 'https://issuer' }, /verifier/)
    refused(
      { verifier: { issuer: ISSUER, jwks: { keys: [testKey().jwk] }, algorithms: ['HS256'] } },
      /symmetric/,
    )
  })

  it('refuses stores without the contract’s methods', () => {
    refused({ identities: {} }, /IdentityStore/)
    refused({ sessions: { get() {} } }, /SessionStore/)
  })

  it('refuses unknown options (a typo must not silently turn a protection off)', () => {
    refused({ crsf: true }, /createBridge: unknown option "crsf" \(did you mean "csrf"\?\)/)
  })

  it('issue #13: a misspelt cookie, verifier or logout verifier option is refused, naming the nearest known one', () => {
    const create = (overrides: Record<string, unknown>) => () =>
      createBridge({ ...base(), ...overrides } as BridgeOptions)
    refusesUnknownOption(
      create({ cookie: { nmae: 'app-session' } }),
      'createBridge',
      'cookie.nmae',
      'cookie.name',
    )
    const jwks = { keys: [testKey().jwk] }
    refusesUnknownOption(
      create({ verifier: { issuer: ISSUER, jwks, audiance: 'my-api' } }),
      'createVerifier',
      'audiance',
      'audience',
    )
    refusesUnknownOption(
      create({ backChannelLogout: true, logoutVerifier: { issuer: ISSUER, jwks, audiance: 'my-client' } }),
      'createVerifier',
      'audiance',
      'audience',
    )
  })

  it('refuses bad paths, durations, sizes and switches', () => {
    refused({ authPath: 'auth' }, /authPath/)
    refused({ authPath: '/auth?x=1' }, /authPath/)
    refused({ backChannelLogout: true, backChannelLogoutPath: '/auth' }, /differ/)
    refused({ backChannelLogoutPath: '/logout' }, /backChannelLogout: true/)
    refused({ maxTokenAgeSeconds: 0 }, /maxTokenAgeSeconds/)
    refused({ maxTokenAgeSeconds: Number.POSITIVE_INFINITY }, /maxTokenAgeSeconds/)
    refused({ absoluteLifetimeSeconds: -1 }, /absoluteLifetimeSeconds/)
    refused({ idleTimeoutSeconds: '3600' }, /idleTimeoutSeconds/)
    refused({ idleTimeoutSeconds: 600, touchIntervalSeconds: 600 }, /touchIntervalSeconds/)
    refused({ maxBodyBytes: 0 }, /maxBodyBytes/)
    refused({ maxBodyBytes: 1.5 }, /maxBodyBytes/)
    refused({ csrf: 'yes' }, /csrf/)
    refused({ trustProxy: 1 }, /trustProxy/)
    refused({ nowMs: 5 }, /nowMs/)
    refused({ logger: { info() {} } }, /logger/)
    refused({ claimsSnapshot: ['email', ''] }, /claimsSnapshot/)
    refused({ profile: { name: 'x' } }, /profile/)
  })

  it('refuses bad cookie names and domains', () => {
    refused({ cookie: { name: 'a b' } }, /cookie.name/)
    refused({ cookie: { name: '__Host-s' } }, /prefix/)
    refused({ cookie: { domain: 'example.com/x' } }, /cookie.domain/)
  })

  it('refuses allowedOrigins that are not origins', () => {
    refused({ allowedOrigins: ['https://a.example.com/path'] }, /allowedOrigins/)
    refused({ allowedOrigins: ['*'] }, /allowedOrigins/)
    refused({ allowedOrigins: 'https://a.example.com' }, /allowedOrigins/)
  })

  it('back-channel logout with a Verifier instance needs a logoutVerifier', () => {
    const verifier = createVerifier({ issuer: ISSUER, jwks: { keys: [testKey().jwk] } })
    refused({ verifier, backChannelLogout: true }, /logoutVerifier/)
    // Its audience cannot be seen either: the profile names the client (OIDC BCL 1.0 §2.6).
    const profile = tokenProfile('generic', { audience: 'client-1' })
    const bridge = createBridge({
      ...base(),
      verifier,
      profile,
      backChannelLogout: true,
      logoutVerifier: verifier,
    })
    assert.equal(bridge.routes.backChannelLogoutPath, '/auth/backchannel-logout')
  })

  it('touchIntervalSeconds defaults below a short idle timeout', () => {
    assert.doesNotThrow(() => createBridge({ ...base(), idleTimeoutSeconds: 600 }))
  })
})

describe('withProfilePolicy', () => {
  it('fills what the app left unset, keeps what it set, merges required claims (without touching inputs)', () => {
    const profileClaims = Object.freeze(['sessionHandle'])
    const appClaims = ['email']
    const merged = withProfilePolicy(
      { issuer: ISSUER, algorithms: ['ES256'], requiredClaims: appClaims, issuers: undefined },
      { algorithms: ['RS256'], typ: 'JWT', requiredClaims: profileClaims },
      () => 5,
    )
    assert.deepEqual(merged.algorithms, ['ES256'])
    assert.equal(merged.typ, 'JWT')
    assert.deepEqual(merged.requiredClaims, ['email', 'sessionHandle'])
    assert.equal(merged.nowMs?.(), 5)
    assert.deepEqual(appClaims, ['email'])
  })

  it('merges required claims into issuers that set their own', () => {
    const merged = withProfilePolicy(
      {
        issuers: [
          { issuer: 'https://a', jwks: { keys: [] }, requiredClaims: ['x'] },
          { issuer: 'https://b', jwks: { keys: [] } },
        ],
      },
      { requiredClaims: ['tId'] },
      undefined,
    )
    assert.deepEqual(merged.issuers?.[0]?.requiredClaims, ['x', 'tId'])
    assert.equal(merged.issuers?.[1]?.requiredClaims, undefined, 'inherits the top-level list')
    assert.deepEqual(merged.requiredClaims, ['tId'])
  })

  it('turns the token cache off (sign-in tokens are single use) unless the app set it', () => {
    assert.equal(withProfilePolicy({ issuer: ISSUER }, undefined, undefined).tokenCache, false)
    const kept = withProfilePolicy({ issuer: ISSUER, tokenCache: { maxEntries: 5 } }, undefined, undefined)
    assert.deepEqual(kept.tokenCache, { maxEntries: 5 })
  })
})
