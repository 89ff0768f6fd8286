// needs: build
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readConfig } from '../../src/app/config.ts'
import { collectWarnings } from '../dev-issuer/helpers.ts'
import { startTestApp } from './app-fixture.ts'

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

  it('security issue #10: the development provider behind a reverse proxy is refused (HOST=127.0.0.1 PUBLIC_URL=https://app.example.com TRUST_PROXY=true)', () => {
    refusedWith(
      { HOST: '127.0.0.1', PUBLIC_URL: 'https://app.example.com', TRUST_PROXY: 'true' },
      /ISSUER_URL/,
    )
    // Each condition on its own: the URL browsers use, then the trusted proxy.
    refusedWith(
      { PUBLIC_URL: 'https://app.example.com' },
      /PUBLIC_URL's host "app\.example\.com" is not loopback/,
    )
    refusedWith({ PUBLIC_URL: 'http://192.168.1.10:3000' }, /PUBLIC_URL/)
    refusedWith({ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be a URL/)
    refusedWith({ TRUST_PROXY: 'true' }, /TRUST_PROXY=true/)
    // A loopback PUBLIC_URL does not make a provider listening on every interface private: the
    // listening HOST is checked on its own.
    refusedWith({ HOST: '0.0.0.0', PUBLIC_URL: 'http://127.0.0.1:3000' }, /HOST "0\.0\.0\.0" is not loopback/)
    // The undocumented switch that turned the guard off is gone, and says what replaced it.
    refusedWith(
      { HOST: '0.0.0.0', ALLOW_DEV_ISSUER_ON_NETWORK: 'true' },
      /DANGEROUSLY_EXPOSE_DEV_ISSUER=true/,
    )
    // With a real provider the same settings are fine.
    const real = readConfig({
      PUBLIC_URL: 'https://app.example.com',
      TRUST_PROXY: 'true',
      ISSUER_URL: 'https://a.example',
    })
    assert.equal(real.devIssuer, false)
    assert.equal(real.devIssuerExposed, undefined)
    // Loopback all the way: still the development provider, the guard on.
    const local = readConfig({ PUBLIC_URL: 'http://localhost:3000' })
    assert.equal(local.devIssuer, true)
    assert.equal(local.devIssuerExposed, undefined)
  })

  it('security issue #10: DANGEROUSLY_EXPOSE_DEV_ISSUER=true is the only escape hatch, exactly "true", never in production', () => {
    const env = { HOST: '127.0.0.1', PUBLIC_URL: 'https://app.example.com', TRUST_PROXY: 'true' }
    for (const value of ['1', 'yes', 'TRUE']) {
      refusedWith(
        { ...env, DANGEROUSLY_EXPOSE_DEV_ISSUER: value },
        /DANGEROUSLY_EXPOSE_DEV_ISSUER must be true/,
      )
    }
    const exposed = readConfig({ ...env, DANGEROUSLY_EXPOSE_DEV_ISSUER: 'true' })
    assert.equal(exposed.devIssuer, true)
    assert.equal(exposed.devIssuerExposed, true)
    refusedWith(
      { ...env, DANGEROUSLY_EXPOSE_DEV_ISSUER: 'true', NODE_ENV: 'production' },
      /ISSUER_URL is required/,
    )
  })

  it('security issue #10: with DANGEROUSLY_EXPOSE_DEV_ISSUER=true the app warns at start (JWKS_BRIDGE_DEV_ISSUER_EXPOSED)', async () => {
    const quiet = await collectWarnings(async () => {
      const app = await startTestApp()
      await app.close()
    })
    assert.deepEqual(quiet, [], 'no warning with the guard on')
    const warnings = await collectWarnings(async () => {
      const app = await startTestApp({
        PUBLIC_URL: 'https://app.example.com',
        TRUST_PROXY: 'true',
        DANGEROUSLY_EXPOSE_DEV_ISSUER: 'true',
      })
      await app.close()
    })
    assert.deepEqual(
      warnings.map((warning) => warning.code),
      ['JWKS_BRIDGE_DEV_ISSUER_EXPOSED'],
    )
    assert.match(
      warnings[0]?.message ?? '',
      /https:\/\/app\.example\.com.*anyone who reaches it signs in as anyone/,
    )
  })
})
