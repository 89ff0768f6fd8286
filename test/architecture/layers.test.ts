// The layers of ARCHITECTURE.md ("Layers"), checked on the source text: every import in src/ goes to
// the importing file's own part or to a lower layer, and nothing outside src/testing imports the test
// helpers (issue #12, item 4: the shipped development provider used to import testing/signing.ts).
// Pure: reads files and lists their imports with TypeScript's own pre-processor, no I/O beyond that.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

/**
 * Lowest first. A file may import its own part and any part of an earlier row, never a part of its own
 * row or a later one. A part is a folder directly under src/, or a file directly under src/ (by name
 * without `.ts`). `client` is the browser script: it imports nothing outside src/client (see below).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'random'],
  ['lib'],
  ['jose'],
  ['keys'],
  ['verifier'],
  ['stores'],
  ['bridge'],
  ['resource-server'],
  // Below the adapters: express-dev-issuer.ts and fastify-dev-issuer.ts mount the provider.
  ['dev-issuer'],
  ['adapters'],
  // The package's entry points besides the adapters: the root, the test helpers, the browser script.
  ['index', 'testing', 'client'],
  ['app'],
  ['cli'],
]

const rank = new Map<string, number>(LAYERS.flatMap((row, index) => row.map((part) => [part, index])))

interface Import {
  /** The importing file, relative to src/ with `/` separators. */
  from: string
  specifier: string
  /** The imported file's part, or undefined when the import leaves src/ or is not relative. */
  part: string | undefined
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|mts|tsx)$/.test(name))
    .map((name) => name.split(sep).join('/'))
    .sort()
}

/** The part a path under src/ belongs to: its first folder, or its file name without extension. */
function partOf(pathUnderSrc: string): string {
  const first = pathUnderSrc.split('/')[0] ?? ''
  return pathUnderSrc.includes('/') ? first : first.replace(/\.(ts|js|mts|mjs|tsx)$/, '')
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(SRC, file), 'utf8')
  // preProcessFile skips comments and strings; it lists imports, `export ... from` and import().
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith('.')) return { from: file, specifier, part: undefined }
    const target = relative(SRC, resolve(SRC, dirname(file), specifier))
    const inside = target !== '' && !target.startsWith('..')
    return { from: file, specifier, part: inside ? partOf(target.split(sep).join('/')) : undefined }
  })
}

const files = sourceFiles()
const imports = files.flatMap(importsOf)
const show = (found: Import) => `${found.from} imports ${found.specifier}`

describe('ARCHITECTURE.md layers (issue #12 item 4): imports only go down', () => {
  it('every part of src/ has a place in the layer order', () => {
    const unplaced = [...new Set(files.map(partOf))].filter((part) => !rank.has(part))
    assert.deepEqual(unplaced, [], 'add each new part of src/ to LAYERS and to ARCHITECTURE.md')
  })

  it('no file outside src/testing imports src/testing: shipped code never uses the test helpers', () => {
    const found = imports.filter((i) => i.part === 'testing' && partOf(i.from) !== 'testing')
    assert.deepEqual(found.map(show), [])
  })

  it('no part imports a part of its own layer or a higher one', () => {
    const found = imports.filter((i) => {
      const own = partOf(i.from)
      if (i.part === undefined || i.part === own) return false
      const mine = rank.get(own)
      const theirs = rank.get(i.part)
      return mine === undefined || theirs === undefined || theirs >= mine
    })
    assert.deepEqual(found.map(show), [])
  })

  it('relative imports stay inside src/, and src/ never imports the package by its own name', () => {
    const found = imports.filter(
      (i) =>
        (i.specifier.startsWith('.') && i.part === undefined) ||
        i.specifier === 'jwks-bridge' ||
        i.specifier.startsWith('jwks-bridge/'),
    )
    assert.deepEqual(found.map(show), [])
  })

  it('the browser script (src/client) imports nothing from src/ outside itself', () => {
    const found = imports.filter(
      (i) => partOf(i.from) === 'client' && i.part !== undefined && i.part !== 'client',
    )
    assert.deepEqual(found.map(show), [])
  })
})
