// The reverse proxy's pure parts: PUBLIC_PATHS matching and the upstream's request headers.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readConfig } from '../../src/app/config.ts'
import { upstreamHeaders } from '../../src/app/proxy-headers.ts'
import { isPublicPath, parsePublicPaths } from '../../src/app/public-paths.ts'

const NAMES = ['x-auth-subject', 'x-auth-issuer', 'x-auth-identity-id', 'x-auth-email', 'x-auth-name']

describe('PUBLIC_PATHS', () => {
  const prefixes = parsePublicPaths('/public/, /health ,/login')

  it('a prefix ending in / covers what is below it; another covers itself and below it, not a longer name', () => {
    assert.equal(isPublicPath('/public/a.css', prefixes), true)
    assert.equal(isPublicPath('/public/', prefixes), true)
    assert.equal(isPublicPath('/public', prefixes), false)
    assert.equal(isPublicPath('/health', prefixes), true)
    assert.equal(isPublicPath('/health/db?x=1', prefixes), true)
    assert.equal(isPublicPath('/healthy', prefixes), false)
    assert.equal(isPublicPath('/login?return_to=/a', prefixes), true)
    assert.equal(isPublicPath('/admin', prefixes), false)
    assert.equal(isPublicPath('/public/a', []), false)
  })

  it('path confusion (CVE-2021-41773 class): dot segments, encodings, backslashes and // are never public', () => {
    for (const target of [
      '/public/../admin',
      '/public/./x',
      '/public/%2e%2e/admin',
      '/public/..%2Fadmin',
      '/public/..\\admin',
      '/public//admin',
      '/health/%2F',
      '/public/a b',
    ]) {
      assert.equal(isPublicPath(target, prefixes), false, target)
    }
  })

  it('a bad prefix stops the app at start, naming it', () => {
    for (const bad of ['public', '/a/../b', '/%2e/', '/a b', '/a//b', '/./']) {
      assert.throws(() => parsePublicPaths(bad), /PUBLIC_PATHS: .* must be a path prefix/, bad)
    }
    assert.deepEqual(parsePublicPaths(''), [])
  })

  it('config: UPSTREAM_URL is an origin; PUBLIC_PATHS and INJECT_META_TAGS need it; timeouts bounded', () => {
    const base = { SQLITE_PATH: '/tmp/x.sqlite' }
    const config = readConfig({ ...base, UPSTREAM_URL: 'http://127.0.0.1:4000/', PUBLIC_PATHS: '/public/' })
    assert.deepEqual(config.proxy, {
      upstream: 'http://127.0.0.1:4000',
      publicPaths: ['/public/'],
      timeoutMs: 30_000,
      injectMetaTags: false,
    })
    assert.equal(
      readConfig({ ...base, UPSTREAM_URL: 'http://127.0.0.1:4000', INJECT_META_TAGS: 'true' }).proxy
        ?.injectMetaTags,
      true,
    )
    assert.equal(readConfig(base).proxy, undefined)
    for (const [env, message] of [
      [{ UPSTREAM_URL: 'http://u:p@127.0.0.1:4000' }, /origin only/],
      [{ UPSTREAM_URL: 'http://127.0.0.1:4000/app' }, /origin only/],
      [{ UPSTREAM_URL: 'ftp://127.0.0.1' }, /http:\/\/ or https:\/\//],
      [{ UPSTREAM_URL: 'nope' }, /must be a URL/],
      [{ PUBLIC_PATHS: '/public/' }, /PUBLIC_PATHS needs UPSTREAM_URL/],
      [{ INJECT_META_TAGS: 'true' }, /INJECT_META_TAGS needs UPSTREAM_URL/],
      [
        { UPSTREAM_URL: 'http://127.0.0.1:4000', INJECT_META_TAGS: 'yes' },
        /INJECT_META_TAGS must be true or false/,
      ],
      [{ UPSTREAM_URL: 'http://127.0.0.1:4000', UPSTREAM_TIMEOUT_SECONDS: '0' }, /UPSTREAM_TIMEOUT_SECONDS/],
      [{ AUTH_CLAIM_HEADERS: 'email' }, /AUTH_CLAIM_HEADERS must be claim=Header-Name pairs/],
    ] as const) {
      assert.throws(() => readConfig({ ...base, ...env }), message)
    }
    assert.deepEqual(
      readConfig({ ...base, AUTH_SUBJECT_HEADER: 'Remote-User', AUTH_CLAIM_HEADERS: 'email=Remote-Email' })
        .forwardAuth,
      { signInPath: '/auth/sign-in', subjectHeader: 'Remote-User', claimHeaders: { email: 'Remote-Email' } },
    )
  })
})

describe('upstream request headers', () => {
  const input = {
    identityHeaderNames: NAMES,
    remoteAddress: '127.0.0.9',
    host: 'app.example.com',
    secure: false,
    trustProxy: false,
    meta: undefined,
  }

  it('spoofing: any identity or meta header the client sent is removed, in any case, before the session’s are set', () => {
    const out = upstreamHeaders({
      ...input,
      headers: {
        'x-auth-subject': 'admin',
        'X-Auth-Email': 'admin@example.com',
        'x-auth-has-session': 'true',
        'x-auth-csrf-token': 'forged',
        accept: 'text/html',
      },
      identity: undefined,
    })
    for (const name of [...NAMES, 'x-auth-has-session', 'x-auth-csrf-token', 'X-Auth-Email']) {
      assert.equal(out[name], undefined, name)
    }
    assert.equal(out.accept, 'text/html')
    const signedIn = upstreamHeaders({
      ...input,
      headers: { 'x-auth-subject': 'admin' },
      identity: { 'x-auth-subject': 'ada', 'x-auth-identity-id': 'id-1' },
    })
    assert.equal(signedIn['x-auth-subject'], 'ada')
  })

  it('X-Forwarded-* from a client are replaced by what the connection shows, unless a trusted proxy is in front', () => {
    const headers = {
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=1.2.3.4',
      'x-real-ip': '1.2.3.4',
    }
    const direct = upstreamHeaders({ ...input, headers, identity: undefined })
    assert.equal(direct['x-forwarded-for'], '127.0.0.9')
    assert.equal(direct['x-forwarded-proto'], 'http')
    assert.equal(direct['x-forwarded-host'], 'app.example.com')
    assert.equal(direct.forwarded, undefined)
    assert.equal(direct['x-real-ip'], undefined)
    const trusted = upstreamHeaders({ ...input, trustProxy: true, headers, identity: undefined })
    assert.equal(trusted['x-forwarded-for'], '1.2.3.4, 127.0.0.9')
    assert.equal(trusted['x-forwarded-proto'], 'https')
    assert.equal(trusted['x-forwarded-host'], 'evil.example')
  })

  it('a page load carries the meta-tag values for an upstream that renders them', () => {
    const out = upstreamHeaders({
      ...input,
      headers: {},
      identity: undefined,
      meta: { authenticationUrl: '/auth', hasSession: false, csrfToken: 'tok' },
    })
    assert.equal(out['x-auth-authentication-url'], '/auth')
    assert.equal(out['x-auth-has-session'], 'false')
    assert.equal(out['x-auth-csrf-token'], 'tok')
  })
})
