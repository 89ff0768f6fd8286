// INJECT_META_TAGS, the pure parts: finding `<head>`, which responses are rewritten, and the streaming
// transformer fed by hand, chunk by chunk (no server).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { scanHead } from '../../src/app/head-scanner.ts'
import {
  createMetaInjector,
  type InjectionOutcome,
  injectionFor,
  renderMetaTags,
} from '../../src/app/meta-injection.ts'

const TAGS = renderMetaTags({ authenticationUrl: '/auth', hasSession: false, csrfToken: 'tok' })

/** Runs `chunks` through an injector; the output bytes and the outcomes it reported. */
async function run(
  chunks: (string | Buffer)[],
  maxHeadBytes = 64 * 1024,
): Promise<{ out: Buffer; outcomes: InjectionOutcome[] }> {
  const outcomes: InjectionOutcome[] = []
  const injector = createMetaInjector({ tags: TAGS, maxHeadBytes, onOutcome: (o) => outcomes.push(o) })
  const parts: Buffer[] = []
  injector.on('data', (chunk: Buffer) => parts.push(chunk))
  const ended = new Promise((resolve) => injector.on('end', resolve))
  for (const chunk of chunks) injector.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  injector.end()
  await ended
  return { out: Buffer.concat(parts), outcomes }
}

/** Every way of cutting `text` in two, and one byte at a time. */
function splits(text: string): string[][] {
  const out: string[][] = [[...text]]
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)])
  return out
}

describe('INJECT_META_TAGS: finding <head>', () => {
  it('after a doctype, comments and <html ...>; the index after the start tag', () => {
    const page = '\ufeff<!DOCTYPE html>\n<!-- <head> in a comment --><html lang="en">\n  <head data-x="a>b">'
    const latin1 = Buffer.from(page).toString('latin1')
    assert.deepEqual(scanHead(latin1, 0, false), { state: 'found', at: latin1.length })
  })

  it('<header>, a fragment, a page without <head>, text first: no head', () => {
    for (const page of [
      '<header>x</header>',
      '<div>x</div>',
      '<html><body>x',
      'hello <head>',
      '</p><head>',
    ]) {
      assert.deepEqual(scanHead(page, 0, false), { state: 'no-head' }, page)
    }
  })

  it('an unfinished tag, comment or doctype asks for more; at the end of the body it is no head', () => {
    for (const page of ['<', '<!', '<!-- x', '<!doctype html', '<html', '<hea', '<head class="a>']) {
      assert.equal(scanHead(page, 0, false).state, 'more', page)
      assert.deepEqual(scanHead(page, 0, true), { state: 'no-head' }, page)
    }
  })
})

describe('INJECT_META_TAGS: which responses', () => {
  const html = { 'content-type': 'text/html; charset=utf-8' }
  it('an HTML page with a body is rewritten', () => {
    assert.equal(injectionFor('GET', 200, html), 'inject')
    assert.equal(injectionFor('GET', 404, { 'content-type': 'TEXT/HTML' }), 'inject')
    assert.equal(injectionFor('GET', 200, { ...html, 'content-encoding': 'identity' }), 'inject')
  })
  it('RFC 9110 §9.3.2 HEAD, §15.4.5 304, 204, 206 and redirects have no page to rewrite', () => {
    assert.equal(injectionFor('HEAD', 200, html), 'pass')
    for (const status of [101, 204, 205, 206, 301, 303, 304])
      assert.equal(injectionFor('GET', status, html), 'pass')
  })
  it('not HTML (JSON, XHTML as XML, text/htmlx, no type) passes', () => {
    for (const type of ['application/json', 'application/xhtml+xml', 'text/htmlx', undefined]) {
      assert.equal(injectionFor('GET', 200, { 'content-type': type }), 'pass', type)
    }
  })
  it('RFC 9110 §8.4 a compressed body is never rewritten (its bytes would be corrupted)', () => {
    assert.equal(injectionFor('GET', 200, { ...html, 'content-encoding': 'gzip' }), 'encoded')
    assert.equal(injectionFor('GET', 200, { ...html, 'content-encoding': 'br' }), 'encoded')
  })
})

describe('INJECT_META_TAGS: the streaming transformer', () => {
  const page = '<!doctype html><html><HEAD lang="x"><title>T</title></head><body>é ✓</body></html>'
  const expected = page.replace('<HEAD lang="x">', `<HEAD lang="x">${TAGS}`)

  it('chunk boundaries anywhere (splitting `<head`, its attributes, the doctype): the same output', async () => {
    for (const chunks of splits(page)) {
      const { out, outcomes } = await run(chunks)
      assert.equal(out.toString('utf8'), expected, JSON.stringify(chunks))
      assert.deepEqual(outcomes, ['injected'])
    }
  })

  it('every byte but the inserted tags is the upstream’s, multi-byte characters split across chunks included', async () => {
    const bytes = Buffer.from(page)
    const cut = bytes.indexOf(0xa9) // inside é
    const { out } = await run([bytes.subarray(0, cut), bytes.subarray(cut)])
    assert.deepEqual(out, Buffer.from(expected))
  })

  it('no head (a fragment): untouched', async () => {
    const { out, outcomes } = await run(['<div>', 'x</div>'])
    assert.equal(out.toString(), '<div>x</div>')
    assert.deepEqual(outcomes, ['no-head'])
  })

  it('a body that ends before any tag, or an empty body: untouched', async () => {
    assert.equal((await run(['<!-- never closed'])).out.toString(), '<!-- never closed')
    const empty = await run([])
    assert.equal(empty.out.length, 0)
    assert.deepEqual(empty.outcomes, ['no-head'])
  })

  it('size bound: <head> past maxHeadBytes is not looked for; the body passes untouched, reported once', async () => {
    const long = `<!doctype html><!-- ${'x'.repeat(200)} --><html><head><title>T</title></head></html>`
    const chunks = long.match(/.{1,16}/gs) as string[]
    const { out, outcomes } = await run(chunks, 100)
    assert.equal(out.toString(), long)
    assert.deepEqual(outcomes, ['too-large'])
  })

  it('the head within the bound is found even when a chunk runs past the bound', async () => {
    const { out } = await run([`<head>${'x'.repeat(500)}`], 10)
    assert.equal(out.toString(), `<head>${TAGS}${'x'.repeat(500)}`)
  })

  it('a tag already in the head (user content): ours is inserted anyway, and the duplicate reported', async () => {
    const theirs = '<html><head><meta name="authentication-url" content="/comments"></head></html>'
    const { out, outcomes } = await run([theirs])
    assert.equal(out.toString(), theirs.replace('<head>', `<head>${TAGS}`))
    assert.deepEqual(outcomes, ['duplicate'])
  })

  it('attribute values are escaped (HTML injection through a value)', () => {
    const tags = renderMetaTags({
      authenticationUrl: '/a"><script>x</script>',
      hasSession: true,
      csrfToken: "'&<",
    })
    assert.equal(
      tags,
      '<meta name="authentication-url" content="/a&#34;&#62;&#60;script&#62;x&#60;/script&#62;">' +
        '<meta name="has-session" content="true"><meta name="csrf-token" content="&#39;&#38;&#60;">',
    )
  })
})
