import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readConfig } from '../../src/app/config.ts'

const refusedWith = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(
    () => readConfig(env),
    (error: unknown) =>
      (error as { code?: string }).code === 'ERR_INVALID_OPTIONS' && pattern.test((error as Error).message),
  )

describe('operations settings (environment variables)', () => {
  it('defaults: metrics when prom-client is there, no token, prefix jwks-bridge:, 10 s to shut down', () => {
    const config = readConfig({})
    assert.equal(config.metrics, 'auto')
    assert.equal(config.metricsToken, undefined)
    assert.equal(config.redisPrefix, 'jwks-bridge:')
    assert.equal(config.databaseSchema, undefined)
    assert.equal(config.shutdownTimeoutMs, 10_000)
  })

  it('reads DATABASE_SCHEMA, REDIS_PREFIX, METRICS, METRICS_TOKEN and SHUTDOWN_TIMEOUT_SECONDS', () => {
    const config = readConfig({
      DATABASE_SCHEMA: 'tenant_7',
      REDIS_PREFIX: 'app:blue:',
      METRICS: 'true',
      METRICS_TOKEN: 'a-long-scrape-token-1234',
      SHUTDOWN_TIMEOUT_SECONDS: '2.5',
    })
    assert.equal(config.databaseSchema, 'tenant_7')
    assert.equal(config.redisPrefix, 'app:blue:')
    assert.equal(config.metrics, 'on')
    assert.equal(config.metricsToken, 'a-long-scrape-token-1234')
    assert.equal(config.shutdownTimeoutMs, 2500)
    assert.equal(readConfig({ METRICS: 'false' }).metrics, 'off')
  })

  it('refuses values that would be unsafe or useless, naming the variable', () => {
    refusedWith({ DATABASE_SCHEMA: 'public; DROP TABLE x' }, /DATABASE_SCHEMA/)
    refusedWith({ DATABASE_SCHEMA: '1abc' }, /DATABASE_SCHEMA/)
    refusedWith({ REDIS_PREFIX: 'has space' }, /REDIS_PREFIX/)
    refusedWith({ METRICS: 'yes' }, /METRICS must be true or false/)
    refusedWith({ METRICS_TOKEN: 'short' }, /METRICS_TOKEN/)
    refusedWith({ METRICS_TOKEN: 'has spaces in it, quite long' }, /METRICS_TOKEN/)
    refusedWith({ SHUTDOWN_TIMEOUT_SECONDS: '0' }, /SHUTDOWN_TIMEOUT_SECONDS/)
    refusedWith({ SHUTDOWN_TIMEOUT_SECONDS: 'soon' }, /SHUTDOWN_TIMEOUT_SECONDS/)
  })
})
