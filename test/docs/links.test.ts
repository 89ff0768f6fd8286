// The documentation's links lead somewhere (issue #12: "docs/ pages linked from the README"; "every
// link must resolve"): every relative link in README.md and docs/*.md names a file or folder of this
// repository, and every #anchor names a heading of its page, with GitHub's anchor rules. Links inside
// code and HTML comments are not links. Absolute URLs are not fetched (no network in tests).
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The markdown without fenced code, inline code and HTML comments, where a `[x](y)` is no link. */
export function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/`[^`\n]*`/g, '')
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** The anchors of a page's headings; a repeated heading gets -1, -2, … as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
  for (const [, text] of withoutCode.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(text as string)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    out.add(count === 0 ? base : `${base}-${count}`)
  }
  return out
}

/** The targets of a page's inline links and images, `[text](target "title")`. */
export function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (match) => match[1] as string,
  )
}

/** Why `target`, linked from the file `from`, does not resolve; undefined when it does. */
export function brokenLink(from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined // https:, mailto:: not checked here
  const [pathPart = '', anchor] = target.split('#', 2)
  const file = pathPart === '' ? from : join(dirname(from), decodeURIComponent(pathPart))
  if (!existsSync(file)) return `${relative(root, file)} does not exist`
  if (anchor === undefined) return undefined
  if (statSync(file).isDirectory() || !file.endsWith('.md'))
    return `#${anchor} on a file that is not markdown`
  if (!anchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor))) {
    return `${relative(root, file)} has no heading #${anchor}`
  }
  return undefined
}

const pages = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
]

describe('the checker itself', () => {
  it('anchors follow GitHub: punctuation and backticks dropped, spaces to hyphens, repeats numbered', () => {
    assert.equal(slug('The reverse proxy: `UPSTREAM_URL`'), 'the-reverse-proxy-upstream_url')
    assert.equal(slug("The bridge's endpoints and options"), 'the-bridges-endpoints-and-options')
    assert.deepEqual([...anchors('# A\n## B\n```\n# not a heading\n```\n## B\n')], ['a', 'b', 'b-1'])
  })

  it('links in code, inline code and comments are not links; a missing file and a missing anchor are found', () => {
    assert.deepEqual(linkTargets('[a](x.md) `[b](y.md)` <!-- [c](z.md) -->\n```\n[d](w.md)\n```\n'), ['x.md'])
    const readme = join(root, 'README.md')
    assert.equal(brokenLink(readme, 'docs/README.md'), undefined)
    assert.match(brokenLink(readme, 'docs/no-such-page.md') ?? '', /does not exist/)
    assert.match(brokenLink(readme, 'docs/README.md#no-such-heading') ?? '', /has no heading/)
    assert.equal(brokenLink(readme, 'https://example.com/missing'), undefined)
  })
})

describe('every relative link and anchor in README.md and docs/*.md resolves', () => {
  for (const page of pages) {
    it(relative(root, page), () => {
      const markdown = readFileSync(page, 'utf8')
      const broken = linkTargets(markdown)
        .map((target) => [target, brokenLink(page, target)] as const)
        .filter(([, why]) => why !== undefined)
        .map(([target, why]) => `${target}: ${why}`)
      assert.deepEqual(broken, [], `broken links in ${relative(root, page)}`)
    })
  }

  it('the README links every page of docs/', () => {
    const linked = new Set(
      linkTargets(readFileSync(join(root, 'README.md'), 'utf8')).map((t) => t.split('#')[0]),
    )
    const unlinked = pages
      .filter((page) => page.includes(`${join(root, 'docs')}`))
      .map((page) => relative(root, page))
      .filter((page) => !linked.has(page))
    assert.deepEqual(unlinked, [], 'docs pages the README does not link')
  })
})
