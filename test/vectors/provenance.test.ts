// The vector files must stay byte-identical to their sources: PROVENANCE.md lists the SHA-256 of
// each copy, and this test holds the folder to that list (no file edited, none added unlisted).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'

const root = import.meta.dirname

function jsonFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) jsonFiles(path, out)
    else if (name.endsWith('.json')) out.push(relative(root, path).split('\\').join('/'))
  }
  return out
}

describe('test/vectors provenance', () => {
  const provenance = readFileSync(join(root, 'PROVENANCE.md'), 'utf8')
  const listed = new Map(
    [...provenance.matchAll(/^([0-9a-f]{64}) {2}(\S+\.json)$/gm)].map((m) => [
      m[2] as string,
      m[1] as string,
    ]),
  )

  it('lists every JSON file of the folder with its SHA-256, and each copy still matches', () => {
    const files = jsonFiles(root)
    assert.deepEqual([...listed.keys()].sort(), files)
    const changed = files.filter(
      (file) =>
        createHash('sha256')
          .update(readFileSync(join(root, file)))
          .digest('hex') !== listed.get(file),
    )
    assert.deepEqual(changed, [])
  })

  it('carries the licences: Apache-2.0 with a notice for Wycheproof, the Unlicense for the cookbook', () => {
    assert.match(readFileSync(join(root, 'wycheproof/LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/)
    assert.ok(existsSync(join(root, 'wycheproof/NOTICE')))
    assert.match(readFileSync(join(root, 'rfc7520/LICENSE'), 'utf8'), /released into the public domain/)
  })
})
