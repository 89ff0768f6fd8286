// The artifacts users load: the minified ES module and classic script, their size budget (issue 5:
// at most 2 KB minified and gzipped; 16 bytes more since issue 13's `crossOrigin` opt-in), and that
// they carry no dependency and no Node import.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { runInNewContext } from 'node:vm'
import { gzipSync } from 'node:zlib'
import { bundleClient } from '../../scripts/build-client.mjs'

const BUDGET_BYTES = 2064
const API = ['devIssuerSource', 'functionSource', 'looksLikeJwt', 'signOut', 'start', 'superTokensSource']

describe('browser script bundles', () => {
  let esm = ''
  let iife = ''
  before(async () => {
    ;({ esm, iife } = await bundleClient())
  })

  it(`the classic script is at most ${BUDGET_BYTES} bytes gzipped`, () => {
    const size = gzipSync(iife).length
    assert.ok(size <= BUDGET_BYTES, `classic script is ${size} bytes gzipped`)
  })

  it(`the ES module is at most ${BUDGET_BYTES} bytes gzipped`, () => {
    const size = gzipSync(esm).length
    assert.ok(size <= BUDGET_BYTES, `ES module is ${size} bytes gzipped`)
  })

  it('the ES module imports nothing and loads without a DOM (Node, server-side rendering)', async () => {
    assert.doesNotMatch(esm, /\bimport\s*[\w{*"']/)
    assert.doesNotMatch(esm, /\brequire\(/)
    const dir = mkdtempSync(join(tmpdir(), 'jwks-bridge-client-'))
    try {
      const file = join(dir, 'client.mjs')
      writeFileSync(file, esm)
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      assert.deepEqual(Object.keys(module).sort(), API)
      for (const name of API) assert.equal(typeof module[name], 'function', name)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the classic script defines JwksBridge and nothing else, without touching the DOM', () => {
    const context: Record<string, unknown> = {}
    runInNewContext(iife, context)
    assert.deepEqual(Object.keys(context), ['JwksBridge'])
    assert.deepEqual(Object.keys(context.JwksBridge as object).sort(), API)
  })

  it('src/client imports only its own files (no Node built-ins, no packages)', () => {
    const dir = new URL('../../src/client/', import.meta.url)
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
    assert.ok(files.length > 3)
    let imports = 0
    for (const file of files) {
      const text = readFileSync(new URL(file, dir), 'utf8')
      for (const [, specifier] of text.matchAll(/^(?:import|export|\})[^\n]*\bfrom\s+'([^']+)'/gm)) {
        assert.match(specifier!, /^\.\/[\w-]+\.js$/, `${file} imports ${specifier}`)
        imports++
      }
      assert.doesNotMatch(text, /\bimport\(|\brequire\(|\bprocess\.|\bBuffer\b/, file)
    }
    assert.ok(imports > 5, 'the import scan found the imports of the modules')
  })
})
