import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readConfig } from '../../src/app/config.ts'

const refusedWith = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(
    () => readConfig(env),
    (error: unknown) =>
      (error as { code?: string }).code === 'ERR_INVALID_OPTIONS' && pattern.test((error as Error).message),
  )

describe('reference app configuration (environment variables)', () => {
  it('defaults to 127.0.0.1:3000, the development provider and SQLite under ./data/', () => {
    const config = readConfig({})
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.port, 3000)
    assert.equal(config.publicUrl, 'http://127.0.0.1:3000')
    assert.equal(config.devIssuer, true)
    assert.equal(config.issuer, undefined)
    assert.equal(config.sqlitePath, './data/jwks-bridge.sqlite')
    assert.deepEqual(config.algorithms, ['RS256'])
    assert.equal(config.profile, 'generic')
  })

  it('trusts a real provider with ISSUER_URL and the optional settings', () => {
    const config = readConfig({
      ISSUER_URL: 'https://tenant.auth0.com/',
      JWKS_URI: 'https://tenant.auth0.com/.well-known/jwks.json',
      AUDIENCE: 'client-id',
      ALGORITHMS: 'RS256, ES256',
      TOKEN_PROFILE: 'oidc-id-token',
      DATABASE_URL: 'postgres://127.0.0.1/test',
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: '8080',
      HOST: '::1',
    })
    assert.equal(config.devIssuer, false)
    assert.deepEqual(config.issuer, {
      url: 'https://tenant.auth0.com/',
      jwksUri: 'https://tenant.auth0.com/.well-known/jwks.json',
    })
    assert.deepEqual(config.algorithms, ['RS256', 'ES256'])
    assert.equal(config.publicUrl, 'http://[::1]:8080')
  })

  it('refuses bad values, naming the variable', () => {
    refusedWith({ PORT: 'eighty' }, /PORT/)
    refusedWith({ ALGORITHMS: 'HS256' }, /ALGORITHMS/)
    refusedWith({ TOKEN_PROFILE: 'saml' }, /TOKEN_PROFILE/)
    refusedWith({ TOKEN_PROFILE: 'oidc-id-token', ISSUER_URL: 'https://a.example' }, /AUDIENCE/)
  })

  it('CLEANUP_INTERVAL_SECONDS (default 300, 0 off) and REDIS_EVICTION (warn or refuse)', () => {
    assert.equal(readConfig({}).cleanupIntervalSeconds, 300)
    assert.equal(readConfig({ CLEANUP_INTERVAL_SECONDS: '0' }).cleanupIntervalSeconds, 0)
    assert.equal(readConfig({ CLEANUP_INTERVAL_SECONDS: '60' }).cleanupIntervalSeconds, 60)
    refusedWith({ CLEANUP_INTERVAL_SECONDS: '-1' }, /CLEANUP_INTERVAL_SECONDS/)
    refusedWith({ CLEANUP_INTERVAL_SECONDS: '1.5' }, /CLEANUP_INTERVAL_SECONDS/)
    assert.equal(readConfig({}).redisEviction, 'warn')
    assert.equal(readConfig({ REDIS_EVICTION: 'refuse' }).redisEviction, 'refuse')
    refusedWith({ REDIS_EVICTION: 'ignore' }, /REDIS_EVICTION/)
  })

  it('never runs the development provider in production, nor on a network interface', () => {
    refusedWith({ NODE_ENV: 'production' }, /ISSUER_URL is required/)
    refusedWith({ HOST: '0.0.0.0' }, /loopback/)
    assert.equal(readConfig({ HOST: '0.0.0.0', ISSUER_URL: 'https://a.example' }).devIssuer, false)
  })
})
