// ARCHITECTURE.md stays true of src/ (issue #12: "ARCHITECTURE.md matches src/"): its tree names every
// folder and file at the top of src/, and every file name it mentions exists under src/. A folder
// added, moved or removed fails here until the map says so.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const architecture = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8')
const tree = /^## Layers\n+```\n([\s\S]*?)^```$/m.exec(architecture)?.[1] ?? ''

function filesUnder(dir: string, out = new Set<string>()): Set<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) filesUnder(join(dir, entry.name), out)
    else out.add(entry.name)
  }
  return out
}

describe('ARCHITECTURE.md matches src/', () => {
  it('the Layers tree names every folder and file at the top of src/', () => {
    assert.ok(tree.length > 0, 'ARCHITECTURE.md has no Layers tree')
    const named = new Set([...tree.matchAll(/^ {2}([\w.-]+\/?)/gm)].map((match) => match[1]))
    const missing = readdirSync(join(root, 'src'), { withFileTypes: true })
      .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
      .filter((name) => !named.has(name))
    assert.deepEqual(missing, [], 'entries of src/ the tree does not name')
  })

  it('every .ts file name it mentions exists under src/', () => {
    const files = filesUnder(join(root, 'src'))
    const mentioned = new Set(
      [...architecture.matchAll(/(?<![\w*.-])([a-z][\w-]*\.ts)\b/g)].map((match) => match[1] as string),
    )
    const absent = [...mentioned].filter((name) => !files.has(name))
    assert.deepEqual(absent, [], 'files ARCHITECTURE.md names that src/ does not have')
  })
})
