/**
 * Finds where an HTML page's `<head>` start tag ends, in the first bytes of the page, so that the
 * reverse proxy can insert the meta tags right after it. Plain data in and out: the text so far (bytes
 * decoded as latin1, so that string offsets are byte offsets), where to resume, whether the text is
 * all there is.
 *
 * Not an HTML parser: it tokenizes just enough of what may come before `<head>` (a byte-order mark,
 * comments, the doctype, `<html ...>`, whitespace) to tell a real start tag from `<head` inside a
 * comment or an attribute value, and `<head>` from `<header>`. Anything else before `<head>` (a
 * fragment such as `<div>`, a page that leaves `<head>` out) means "no head": the page passes
 * through untouched rather than get tags somewhere the browser script would refuse them.
 */

export type HeadScan =
  /** Not decided yet: call again with more text, from `from`. */
  | { state: 'more'; from: number }
  /** The `<head ...>` start tag ends at `at` (the index after its `>`): insert there. */
  | { state: 'found'; at: number }
  /** The page has no `<head>` start tag where one belongs. */
  | { state: 'no-head' }

const NAME_START = /[A-Za-z]/
const TAG_NAME_END = /[\s/>]/

/**
 * The end (index after `>`) of the start tag at `lt`, skipping quoted attribute values (a `>` inside
 * one does not end the tag), or -1 when the text ends first.
 */
function startTagEnd(text: string, from: number): number {
  let i = from
  while (i < text.length) {
    const c = text[i]
    if (c === '>') return i + 1
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1)
      if (close === -1) return -1
      i = close + 1
    } else {
      i++
    }
  }
  return -1
}

/**
 * Scans `text` from `from` for the `<head>` start tag. With `final` (the whole body is in `text`), an
 * undecided scan is "no head".
 */
export function scanHead(text: string, from: number, final: boolean): HeadScan {
  let i = from
  const more = (at: number): HeadScan => (final ? { state: 'no-head' } : { state: 'more', from: at })
  while (i < text.length) {
    const lt = text.indexOf('<', i)
    if (lt === -1) {
      // Text before `<head>`: whitespace and a byte-order mark (EF BB BF as latin1) are allowed.
      if (!/^(?:\s|\u00ef\u00bb\u00bf)*$/.test(text.slice(i))) return { state: 'no-head' }
      return more(text.length)
    }
    if (!/^(?:\s|\u00ef\u00bb\u00bf)*$/.test(text.slice(i, lt))) return { state: 'no-head' }
    if (lt + 1 >= text.length) return more(lt)
    const next = text[lt + 1] as string
    if (next === '!' || next === '?') {
      // `<!--` needs its `-->`; `<!doctype ...>` and `<?...>` end at the first `>`.
      if (text.length < lt + 4) return more(lt)
      const comment = text.startsWith('<!--', lt)
      const end = comment ? text.indexOf('-->', lt + 4) : text.indexOf('>', lt + 2)
      if (end === -1) return more(lt)
      i = end + (comment ? 3 : 1)
      continue
    }
    if (next === '/' || !NAME_START.test(next)) return { state: 'no-head' }
    // A start tag: its name ends at whitespace, `/` or `>`.
    let nameEnd = lt + 1
    while (nameEnd < text.length && !TAG_NAME_END.test(text[nameEnd] as string)) nameEnd++
    if (nameEnd >= text.length) return more(lt)
    const name = text.slice(lt + 1, nameEnd).toLowerCase()
    if (name !== 'html' && name !== 'head') return { state: 'no-head' }
    const end = startTagEnd(text, nameEnd)
    if (end === -1) return more(lt)
    if (name === 'head') return { state: 'found', at: end }
    i = end
  }
  return more(i)
}
