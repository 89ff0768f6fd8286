// The code the documentation shows is the code that runs (issue #13, "a complete, runnable example per
// framework"; issue #12, "README ≤ 250 lines"): docs/express.md and docs/fastify.md show
// examples/<name>/server.js and public/app.js verbatim, and every code block of the README's Express
// and Fastify sections is either one of those files whole or an excerpt of server.js: its lines, in
// order, with `// …` lines marking what was left out. test/examples/examples.test.ts installs and runs
// those same files in Chromium, so neither the README nor the pages can drift from what works.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLES = [
  { name: 'express', page: 'docs/express.md', section: '### Express' },
  { name: 'fastify', page: 'docs/fastify.md', section: '### Fastify' },
] as const

const read = (path: string): string => readFileSync(join(root, path), 'utf8')

/** A fenced block of `markdown` holding exactly this text. */
function showsWhole(markdown: string, text: string, language: string): boolean {
  return markdown.includes(`\`\`\`${language}\n${text}\`\`\`\n`)
}

/** The fenced js and html blocks between `heading` and the next heading of its level or above. */
export function sectionBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n${heading}\n`)
  assert.ok(start >= 0, `no "${heading}" section`)
  const rest = markdown.slice(start + heading.length + 2)
  const level = heading.split(' ')[0] as string
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'))
  const section = end < 0 ? rest : rest.slice(0, end)
  return [...section.matchAll(/^```(?:js|html)\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string)
}

/**
 * Whether every line of `excerpt` but its `// …` marks appears in `file`, in the same order
 * (compared without leading and trailing spaces: an HTML line inside a template literal is indented).
 * Returns the first line that does not, or undefined.
 */
export function missingLine(excerpt: string, file: string): string | undefined {
  const lines = file.split('\n').map((line) => line.trim())
  let at = 0
  for (const raw of excerpt.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('// …')) continue
    const found = lines.indexOf(line, at)
    if (found < 0) return line
    at = found + 1
  }
  return undefined
}

describe('excerpts: a line left out or changed is found', () => {
  it('an in-order excerpt passes; a changed line, a line out of order and a made-up line are named', () => {
    const file = 'a\n  b\nc\nd\n'
    assert.equal(missingLine('a\n// … b\nc', file), undefined)
    assert.equal(missingLine('b\nd', file), undefined)
    assert.equal(missingLine('a\nc\nb', file), 'b')
    assert.equal(missingLine('a\nx', file), 'x')
  })
})

describe('the docs show the examples as they are (they cannot drift)', () => {
  const readme = read('README.md')
  for (const { name, page, section } of EXAMPLES) {
    const server = read(`examples/${name}/server.js`)
    const script = read(`examples/${name}/public/app.js`)

    it(`${page} shows examples/${name}/server.js and public/app.js verbatim`, () => {
      const markdown = read(page)
      assert.ok(
        showsWhole(markdown, server, 'js'),
        `${page} does not show examples/${name}/server.js as it is`,
      )
      assert.ok(
        showsWhole(markdown, script, 'js'),
        `${page} does not show examples/${name}/public/app.js as it is`,
      )
    })

    it(`the README's ${name} section shows only excerpts of examples/${name}/server.js, or public/app.js whole`, () => {
      const blocks = sectionBlocks(readme, section)
      const excerpts = blocks.filter((block) => block !== script)
      assert.ok(excerpts.length > 0, `the README's ${section} section shows no code`)
      for (const block of excerpts) {
        const shown = block
          .split('\n')
          .filter((line) => line.trim() !== '' && !line.trim().startsWith('// …'))
        assert.ok(shown.length >= 5, `a code block of ${section} with fewer than 5 lines of the example`)
        const missing = missingLine(block, server)
        assert.equal(missing, undefined, `README ${section}: not in examples/${name}/server.js: ${missing}`)
      }
    })
  }
})
