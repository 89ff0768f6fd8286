// Properties of the duplicate-member scanner (parseJsonObject): JSON.stringify of an object can
// never hold a duplicate, so it must always pass; the same text with one member name repeated
// (plainly or spelled with escapes, at any depth) must always fail (RFC 7515 §4, RFC 7519 §4).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isJwksBridgeError } from '../../src/errors.ts'
import { parseJsonObject } from '../../src/jose/json.ts'
import { params } from './params.ts'

// Few distinct letters, so the same name often appears in sibling and nested objects; plus the
// characters a scanner has to get right inside strings: quotes, backslashes, brackets, commas.
const tricky = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', '\\"', '\\\\'),
  },
  { weight: 1, arbitrary: fc.constantFrom('é', '\u2028', '😀', '\u0000', '\ud800', '\udc00') },
)
const name = fc.string({ unit: tricky, maxLength: 4 })
const value = fc.jsonValue({ maxDepth: 4, stringUnit: tricky })
const object = fc.dictionary(name, value, { maxKeys: 6 })

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8')

/** `name` as JSON string text with every UTF-16 unit escaped (`"a"` becomes `"\u0061"`). */
const escaped = (n: string): string =>
  `"${[...Array(n.length).keys()].map((i) => `\\u${n.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`

describe('property: duplicate member names', () => {
  it('never rejects JSON.stringify of an object, compact or indented', () => {
    fc.assert(
      fc.property(object, fc.constantFrom(undefined, 1, '\t'), (obj, indent) => {
        const text = JSON.stringify(obj, null, indent)
        assert.deepEqual(parseJsonObject(bytes(text), 'claims set'), JSON.parse(text))
      }),
      params(2000),
    )
  })

  it('always rejects when a member name is repeated, at any depth and in any spelling', () => {
    const injection = fc.record({
      obj: fc.dictionary(name, value, { minKeys: 1, maxKeys: 6 }),
      pick: fc.nat(),
      spelling: fc.constantFrom('plain', 'escaped', 'first-escaped'),
      where: fc.constantFrom('first', 'last'),
      depth: fc.constantFrom('top', 'member', 'array', 'deep'),
      dup: value,
    })
    fc.assert(
      fc.property(injection, ({ obj, pick, spelling, where, depth, dup }) => {
        const names = Object.keys(obj)
        const n = names[pick % names.length] as string
        const key =
          spelling === 'plain'
            ? JSON.stringify(n)
            : spelling === 'escaped' || n.length === 0
              ? escaped(n)
              : `${escaped(n[0] as string).slice(0, -1)}${JSON.stringify(n.slice(1)).slice(1)}`
        const member = `${key}:${JSON.stringify(dup)}`
        const body = JSON.stringify(obj)
        const inner = where === 'first' ? `{${member},${body.slice(1)}` : `${body.slice(0, -1)},${member}}`
        const text =
          depth === 'top'
            ? inner
            : depth === 'member'
              ? `{"x":1,"o":${inner}}`
              : depth === 'array'
                ? `{"l":[1,${inner}]}`
                : `{"a":{"b":[{"c":[${inner}]}]}}`
        assert.throws(
          () => parseJsonObject(bytes(text), 'claims set'),
          (error: unknown) => isJwksBridgeError(error, 'ERR_JSON_DUPLICATE_MEMBER'),
        )
      }),
      params(2000),
    )
  })

  it('accepts the same name in different objects (duplicates are per object)', () => {
    fc.assert(
      fc.property(name, value, value, (n, v1, v2) => {
        const text = `{${JSON.stringify(n)}:{${JSON.stringify(n)}:${JSON.stringify(v1)}},"z":[{${JSON.stringify(n)}:${JSON.stringify(v2)}}]}`
        assert.deepEqual(parseJsonObject(bytes(text), 'header'), JSON.parse(text))
      }),
      params(1000),
    )
  })
})
