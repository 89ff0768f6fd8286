// The option kit every factory validates with (src/lib/options.ts), as pure functions: unknown names
// refused with the nearest known one (issue #13), numbers with their unit, string lists, booleans.
// Every failure is ERR_INVALID_OPTIONS naming the factory, the option and what it must be.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isJwksBridgeError } from '../../src/errors.ts'
import {
  booleanOption,
  editDistance,
  functionOption,
  integerInRange,
  isPlainObject,
  milliseconds,
  nearestName,
  nonEmptyString,
  oneOf,
  optionNames,
  positiveInteger,
  readOptions,
  refuseUnknownKeys,
  seconds,
  stringList,
} from '../../src/lib/options.ts'

/** `run` throws ERR_INVALID_OPTIONS whose message is exactly `message`. */
function refused(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isJwksBridgeError(error, 'ERR_INVALID_OPTIONS'), String(error))
    assert.equal(error.message, message)
    return true
  })
}

describe('option kit: names', () => {
  it('editDistance counts inserts, deletes, substitutions and swapped neighbours, ignoring case', () => {
    assert.equal(editDistance('audience', 'audience'), 0)
    assert.equal(editDistance('audiance', 'audience'), 1)
    assert.equal(editDistance('pth', 'path'), 1)
    assert.equal(editDistance('crsf', 'csrf'), 1)
    assert.equal(editDistance('jwksURI', 'jwksUri'), 0)
    assert.equal(editDistance('', 'abc'), 3)
    assert.equal(editDistance('kitten', 'sitting'), 3)
  })

  it('nearestName suggests a close known name, the first of equals, and nothing for a far one', () => {
    const known = ['issuer', 'audience', 'algorithms', 'typ']
    assert.equal(nearestName('audiance', known), 'audience')
    assert.equal(nearestName('issuers', known), 'issuer')
    assert.equal(nearestName('Audience', known), 'audience')
    assert.equal(nearestName('tpy', known), 'typ')
    assert.equal(nearestName('colour', known), undefined)
    assert.equal(nearestName('x', ['a', 'b']), 'a', 'one edit is always close enough')
  })

  it('refuseUnknownKeys names the factory, the unknown name and the nearest known one', () => {
    refused(
      () => refuseUnknownKeys('createVerifier', { issuer: 'x', audiance: 'api' }, ['issuer', 'audience']),
      'createVerifier: unknown option "audiance" (did you mean "audience"?)',
    )
    refused(
      () => refuseUnknownKeys('createBridge', { nmae: 's' }, ['name', 'domain'], 'cookie.'),
      'createBridge: unknown option "cookie.nmae" (did you mean "cookie.name"?)',
    )
    refused(
      () => refuseUnknownKeys('createMemoryStores', { colour: 1 }, ['nowMs']),
      'createMemoryStores: unknown option "colour" (known options: nowMs)',
    )
  })

  it('refuseUnknownKeys refuses a misspelt name even when its value is undefined', () => {
    refused(
      () => refuseUnknownKeys('f', { audiance: undefined }, ['audience']),
      'f: unknown option "audiance" (did you mean "audience"?)',
    )
    assert.doesNotThrow(() => refuseUnknownKeys('f', { audience: undefined }, ['audience']))
  })

  it('readOptions wants a plain object, optional only when asked, and refuses unknown names', () => {
    const value = { a: 1 }
    assert.equal(readOptions('f', value, ['a']), value)
    assert.deepEqual(readOptions('f', undefined, ['a'], { optional: true }), {})
    for (const bad of [undefined, null, 'a', 1, [], true]) {
      refused(() => readOptions('f', bad, ['a']), 'f: options must be an object')
    }
    refused(() => readOptions('f', null, ['a'], { optional: true }), 'f: options must be an object')
    refused(() => readOptions('f', 'x', ['a'], { name: 'cookie' }), 'f: cookie must be an object')
    refused(() => readOptions('f', { b: 1 }, ['a']), 'f: unknown option "b" (did you mean "a"?)')
  })

  it('isPlainObject: objects (class instances too), not null, arrays or primitives', () => {
    assert.equal(isPlainObject({}), true)
    assert.equal(isPlainObject(new Map()), true)
    for (const value of [null, undefined, [], 'x', 1, () => {}]) assert.equal(isPlainObject(value), false)
  })

  it('optionNames returns the list it is given, frozen (the compiler checks it against the interface)', () => {
    interface Example {
      a?: number
      b: string
    }
    const names = optionNames<Example>()(['a', 'b'])
    assert.deepEqual(names, ['a', 'b'])
    assert.ok(Object.isFrozen(names))
    // @ts-expect-error: "b" is a key of Example and is not listed
    optionNames<Example>()(['a'])
    // @ts-expect-error: "c" is not a key of Example
    optionNames<Example>()(['a', 'b', 'c'])
  })
})

describe('option kit: values', () => {
  it('positiveInteger: a safe integer from 1, the fallback when undefined', () => {
    assert.equal(positiveInteger('f', 'maxKeys', undefined, 100), 100)
    assert.equal(positiveInteger('f', 'maxKeys', 1, 100), 1)
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '5', null]) {
      refused(() => positiveInteger('f', 'maxKeys', bad, 100), 'f: maxKeys must be a positive integer')
    }
  })

  it('integerInRange: a whole number within the bounds, inclusive', () => {
    assert.equal(integerInRange('f', 'port', undefined, 4000, 0, 65535), 4000)
    assert.equal(integerInRange('f', 'port', 0, 4000, 0, 65535), 0)
    assert.equal(integerInRange('f', 'port', 65535, 4000, 0, 65535), 65535)
    for (const bad of [-1, 65536, 1.5, '80']) {
      refused(
        () => integerInRange('f', 'port', bad, 4000, 0, 65535),
        'f: port must be a whole number from 0 to 65535',
      )
    }
  })

  it('seconds: a finite number >= 0, or > 0 when zero is not allowed; fractions allowed', () => {
    assert.equal(seconds('f', 'clockToleranceSeconds', undefined, 0), 0)
    assert.equal(seconds('f', 'clockToleranceSeconds', 0, 5), 0)
    assert.equal(seconds('f', 'clockToleranceSeconds', 1.5, 0), 1.5)
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      refused(
        () => seconds('f', 'clockToleranceSeconds', bad, 0),
        'f: clockToleranceSeconds must be a finite number of seconds >= 0',
      )
    }
    refused(
      () => seconds('f', 'idleTimeoutSeconds', 0, 86400, false),
      'f: idleTimeoutSeconds must be a finite number of seconds > 0',
    )
  })

  it('milliseconds: a whole number from the minimum (1 unless given)', () => {
    assert.equal(milliseconds('f', 'timeoutMs', undefined, 5000), 5000)
    assert.equal(milliseconds('f', 'busyTimeoutMs', 0, 5000, 0), 0)
    refused(
      () => milliseconds('f', 'timeoutMs', 0, 5000),
      'f: timeoutMs must be a whole number of milliseconds, at least 1',
    )
    refused(
      () => milliseconds('f', 'timeoutMs', 1.5, 5000),
      'f: timeoutMs must be a whole number of milliseconds, at least 1',
    )
    refused(
      () => milliseconds('f', 'busyTimeoutMs', -1, 5000, 0),
      'f: busyTimeoutMs must be a whole number of milliseconds, at least 0',
    )
  })

  it('stringList: arrays of non-empty strings; a single string and an empty list only when allowed', () => {
    assert.equal(stringList('f', 'audience', undefined), undefined)
    assert.deepEqual(stringList('f', 'claims', ['a', 'b']), ['a', 'b'])
    assert.deepEqual(stringList('f', 'claims', []), [])
    assert.deepEqual(stringList('f', 'audience', 'api', { allowSingle: true }), ['api'])
    const given = ['a']
    assert.notEqual(stringList('f', 'claims', given), given, 'a copy: the caller may change its array')
    refused(() => stringList('f', 'claims', 'a'), 'f: claims must be an array of non-empty strings')
    refused(() => stringList('f', 'claims', ['a', '']), 'f: claims must be an array of non-empty strings')
    refused(() => stringList('f', 'claims', [1]), 'f: claims must be an array of non-empty strings')
    refused(
      () => stringList('f', 'tenantIds', [], { allowSingle: true, allowEmpty: false }),
      'f: tenantIds must be a non-empty string or a non-empty array of non-empty strings',
    )
    refused(
      () => stringList('f', 'audience', '', { allowSingle: true }),
      'f: audience must be a non-empty string or an array of non-empty strings',
    )
  })

  it('booleanOption, nonEmptyString, functionOption, oneOf', () => {
    assert.equal(booleanOption('f', 'csrf', undefined, false), false)
    assert.equal(booleanOption('f', 'csrf', true, false), true)
    refused(() => booleanOption('f', 'csrf', 'yes', false), 'f: csrf must be true or false')
    assert.equal(nonEmptyString('f', 'issuer', 'x'), 'x')
    refused(() => nonEmptyString('f', 'issuer', ''), 'f: issuer must be a non-empty string')
    const clock = () => 5
    assert.equal(functionOption('f', 'nowMs', clock), clock)
    assert.equal(functionOption('f', 'nowMs', undefined), undefined)
    refused(() => functionOption('f', 'nowMs', 5), 'f: nowMs must be a function')
    assert.equal(oneOf('f', 'alg', undefined, ['RS256', 'ES256'], 'RS256'), 'RS256')
    assert.equal(oneOf('f', 'alg', 'ES256', ['RS256', 'ES256'], 'RS256'), 'ES256')
    refused(
      () => oneOf('f', 'alg', 'es256', ['RS256', 'ES256'], 'RS256'),
      'f: alg must be one of "RS256", "ES256"',
    )
  })
})
