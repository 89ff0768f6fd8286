// Which hosts count as loopback (src/lib/loopback.ts): the one place where plain http and the
// development provider's non-TLS listener are allowed.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isLoopbackHost } from '../../src/lib/loopback.ts'

describe('isLoopbackHost', () => {
  it('accepts 127.0.0.0/8, ::1 and localhost', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254',
      '127.1.2.3',
      'localhost',
      '::1',
      '[::1]',
    ]) {
      assert.equal(isLoopbackHost(host), true, host)
    }
  })

  it('refuses every other host, including look-alikes', () => {
    for (const host of [
      '10.0.0.1',
      '192.168.1.1',
      '0.0.0.0',
      '128.0.0.1',
      '126.255.255.255',
      '127.0.0.256',
      '127.0.0',
      '127.0.0.1.5',
      '127.0.0.1.nip.io',
      'localhost.example.com',
      'evil-localhost',
      'foo.localhost',
      '::2',
      '[::2]',
      '::ffff:7f00:1',
      'example.com',
      '',
    ]) {
      assert.equal(isLoopbackHost(host), false, host)
    }
  })
})
