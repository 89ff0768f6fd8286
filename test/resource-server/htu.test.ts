import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HtuCache, htuOf, htuOfString, pathIsNormalized } from '../../src/resource-server/htu.ts'

/** The slow path, written out: parse, then scheme, authority and path. */
function parsed(url: string): string | undefined {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return undefined
  }
}

// RFC 3986 §6.2.2-6.2.3 as WHATWG URL parsing applies them, and what it leaves alone.
const TRICKY: [string, string | undefined][] = [
  ['https://api.example.com/things/42', 'https://api.example.com/things/42'],
  ['HTTPS://API.Example.COM/things/42', 'https://api.example.com/things/42'],
  ['https://api.example.com:443/things/42', 'https://api.example.com/things/42'],
  ['http://127.0.0.1:80/api/me', 'http://127.0.0.1/api/me'],
  ['http://127.0.0.1:8080/api/me', 'http://127.0.0.1:8080/api/me'],
  ['https://api.example.com:8443/things/42', 'https://api.example.com:8443/things/42'],
  ['https://api.example.com/a/./b/../things/42', 'https://api.example.com/a/things/42'],
  ['https://api.example.com', 'https://api.example.com/'],
  // Percent-encoding is not decoded, and its hex case is kept: a different path from /things/42.
  ['https://api.example.com/th%69ngs/42', 'https://api.example.com/th%69ngs/42'],
  ['https://api.example.com/th%6Fngs', 'https://api.example.com/th%6Fngs'],
  ['https://api.example.com/thïngs', 'https://api.example.com/th%C3%AFngs'],
  // A trailing dot names the same host in DNS, but not the same string: kept.
  ['https://api.example.com./things/42', 'https://api.example.com./things/42'],
  ['https://user:secret@api.example.com/things/42', 'https://api.example.com/things/42'],
  ['https://[0:0:0:0:0:0:0:1]:8443/x', 'https://[::1]:8443/x'],
  ['https://api.example.com\\things\\42', 'https://api.example.com/things/42'],
  ['  https://api.example.com/things/42  ', 'https://api.example.com/things/42'],
  ['https://api.exa\tmple.com/th\nings/42', 'https://api.example.com/things/42'],
  ['https://bücher.example/x', 'https://xn--bcher-kva.example/x'],
  ['https://api.example.com/things/42?page=2#top', 'https://api.example.com/things/42'],
  ['https://api.example.com/things/42#top?x', 'https://api.example.com/things/42'],
  ['/things/42', undefined],
  ['not a url', undefined],
  ['https://', undefined],
  ['http://exa mple.com/', undefined],
]

describe('htu (RFC 9449 §4.3 check 9), cached', () => {
  it('RFC 9449 §4.3 check 9 / RFC 3986 §6.2.2-6.2.3: htuOf normalizes case, default port, dot segments, and keeps percent-encoding and a trailing dot', () => {
    for (const [url, expected] of TRICKY) {
      assert.equal(htuOfString(url), expected, url)
      if (expected !== undefined) assert.equal(htuOf(new URL(url)), expected, url)
    }
  })

  it('RFC 9449 §4.3 check 9: the cache answers as the parse does, the first time and every time after', () => {
    const cache = new HtuCache()
    for (let pass = 0; pass < 3; pass++) {
      for (const [url] of TRICKY) assert.equal(cache.of(url), parsed(url), `${url} (pass ${pass})`)
    }
  })

  it('RFC 9449 §4.3 check 9: no cross-talk: URLs that differ by a character keep their own htu', () => {
    const cache = new HtuCache()
    const urls = ['https://api.example.com/things/42', 'https://api.example.com/things/43']
    for (let i = 0; i < 4; i++) {
      for (const url of urls) assert.equal(cache.of(url), url)
    }
    assert.notEqual(
      cache.of('https://api.example.com/things/42'),
      cache.of('https://api.example.com/things/43'),
    )
  })

  it('bounded: it starts over when full, and keeps answering right', () => {
    const cache = new HtuCache(3)
    for (let i = 0; i < 20; i++) {
      const url = `https://api.example.com/things/${i}`
      assert.equal(cache.of(url), url)
      assert.ok(cache.size <= 3, `size ${cache.size}`)
    }
    for (let i = 0; i < 20; i++)
      assert.equal(cache.of(`https://API.example.com:443/things/${i}`), `https://api.example.com/things/${i}`)
    assert.ok(cache.size <= 3)
  })

  it('keeps neither failed parses, nor URLs with a query or fragment, nor long ones', () => {
    const cache = new HtuCache(1000, 64)
    for (const url of [
      '/things/42',
      'not a url',
      'https://api.example.com/x?page=2',
      'https://api.example.com/x#top',
    ]) {
      assert.equal(cache.of(url), parsed(url))
    }
    const long = `https://api.example.com/${'a'.repeat(100)}`
    assert.equal(cache.of(long), long)
    assert.equal(cache.size, 0)
    assert.equal(cache.of('https://api.example.com/x'), 'https://api.example.com/x')
    assert.equal(cache.size, 1)
  })
})

describe('pathIsNormalized: the request path is the one its htu names (RFC 9449 §4.3 check 9)', () => {
  // A Node router dispatches on the raw path: /admin/../things/42 can reach an /admin/:x/things/42
  // route while the proof, compared in normalized form, names /things/42. Such a path is refused.
  const cases: [string, boolean][] = [
    ['https://api.example.com/things/42', true],
    ['https://api.example.com/things/42?page=2#top', true],
    ['https://api.example.com', true],
    ['HTTPS://API.Example.COM:443/things/42', true],
    ['https://api.example.com/th%69ngs/42', true],
    ['https://api.example.com//double', true],
    ['https://api.example.com/admin/../things/42', false],
    ['https://api.example.com/admin/%2e%2e/things/42', false],
    ['https://api.example.com/admin/.%2E/things/42', false],
    ['https://api.example.com/./things/42', false],
    ['https://api.example.com/a\\b', false],
    ['https://api.example.com/thïngs', false],
    ['https://api.example.com/a b', false],
  ]
  for (const [url, expected] of cases) {
    it(`${url} → ${expected ? 'normalized' : 'refused'}`, () => {
      const htu = htuOfString(url)
      assert.ok(htu !== undefined)
      assert.equal(pathIsNormalized(url, htu), expected)
    })
  }
})
