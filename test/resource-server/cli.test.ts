import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runVerify } from '../../src/cli/verify.ts'
import { signToken } from '../helpers/tokens.ts'
import {
  API_URL,
  accessToken,
  clientKey,
  dpopProof,
  ISSUER,
  issuerKey,
  NOW_SECONDS,
  RESOURCE,
  thumbprintOf,
} from './support.ts'

const dir = mkdtempSync(join(tmpdir(), 'jb-cli-at-'))
const jwksFile = join(dir, 'jwks.json')
writeFileSync(jwksFile, JSON.stringify({ keys: [issuerKey().jwk] }))
after(() => rmSync(dir, { recursive: true, force: true }))

const context = (stdin = '') => ({ stdin, env: {}, nowMs: () => NOW_SECONDS * 1000 })
const base = ['--access-token', '--resource', RESOURCE, '--issuer', ISSUER, '--jwks-file', jwksFile]

describe('jwks-bridge verify --access-token', () => {
  it('RFC 9068: an access token for the resource → exit 0 with payload, scopes and scheme', async () => {
    const result = await runVerify([...base, '--scope', 'read', '-'], context(accessToken()))
    assert.equal(result.exitCode, 0, result.stderr)
    const out = JSON.parse(result.stdout)
    assert.equal(out.scheme, 'Bearer')
    assert.deepEqual(out.scopes, ['read', 'write'])
    assert.equal(out.payload.client_id, 'client-1')
  })

  it('RFC 9449 §4.3: with --dpop-proof, the proof is checked for --method and --url', async () => {
    const key = clientKey()
    const token = accessToken({}, {}, key)
    const proof = dpopProof(key, token)
    const ok = await runVerify([...base, '--dpop-proof', proof, '--url', API_URL, '-'], context(token))
    assert.equal(ok.exitCode, 0, ok.stderr)
    assert.equal(JSON.parse(ok.stdout).jkt, thumbprintOf(key))
    const proofFile = join(dir, 'proof.txt')
    writeFileSync(proofFile, `${dpopProof(key, token)}\n`)
    const wrongMethod = await runVerify(
      [...base, '--dpop-proof', `@${proofFile}`, '--method', 'POST', '--url', API_URL, '-'],
      context(token),
    )
    assert.equal(wrongMethod.exitCode, 1)
    assert.match(wrongMethod.stderr, /^ERR_DPOP_PROOF_INVALID: .*"htm"/)
    assert.ok(!wrongMethod.stderr.includes(token.slice(0, 40)))
  })

  it('RFC 9449 §7.2 and RFC 9068 §4: a bound token without proof, and an ID token, are refused (exit 1)', async () => {
    const bound = await runVerify([...base, '-'], context(accessToken({}, {}, clientKey())))
    assert.equal(bound.exitCode, 1)
    assert.match(bound.stderr, /^ERR_TOKEN_BOUND: /)
    const idToken = signToken(issuerKey(), { aud: RESOURCE, nonce: 'n' })
    const refused = await runVerify([...base, '-'], context(idToken))
    assert.equal(refused.exitCode, 1)
    assert.match(refused.stderr, /^ERR_TYP_MISMATCH: /)
  })

  it('usage errors exit 2: no --resource, --dpop-proof without --url, a bad resource', async () => {
    const noResource = await runVerify(
      ['--access-token', '--issuer', ISSUER, '--jwks-file', jwksFile, 'x'],
      context(),
    )
    assert.equal(noResource.exitCode, 2)
    assert.match(noResource.stderr, /missing --resource/)
    const noUrl = await runVerify([...base, '--dpop-proof', 'a.b.c', 'x'], context())
    assert.equal(noUrl.exitCode, 2)
    const badResource = await runVerify(
      ['--access-token', '--resource', 'my-api', '--issuer', ISSUER, '--jwks-file', jwksFile, 'x'],
      context(),
    )
    assert.equal(badResource.exitCode, 2)
    assert.match(badResource.stderr, /^ERR_INVALID_OPTIONS: createResourceServer: resource/)
    assert.equal((await runVerify(['--access-token', '--help'], context())).exitCode, 0)
  })
})
