#!/usr/bin/env node
// Builds the browser script (src/client) for the package:
//   dist/client/index.js                 ES module, minified (the `jwks-bridge/client` export)
//   dist/client/jwks-bridge-client.min.js classic script, minified, exposes window.JwksBridge
//   dist/client/*.d.ts                   declarations, from tsc with the DOM lib (tsconfig.client.json)
// bundleClient() is also what test/client builds from, so the size budget is checked on these bytes.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

/** @returns {Promise<{ esm: string, iife: string }>} */
export async function bundleClient() {
  const common = {
    absWorkingDir: root,
    entryPoints: ['src/client/index.ts'],
    bundle: true,
    minify: true,
    platform: 'browser',
    // Optional chaining and ?? are kept as written: every browser Turbo 7/8 supports has them.
    target: 'es2020',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  }
  const [esm, iife] = await Promise.all([
    esbuild.build({ ...common, format: 'esm' }),
    esbuild.build({ ...common, format: 'iife', globalName: 'JwksBridge' }),
  ])
  return { esm: esm.outputFiles[0].text, iife: iife.outputFiles[0].text }
}

async function main() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const types = spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.client.json', '--noEmit', 'false', '--emitDeclarationOnly'],
    { cwd: root, stdio: 'inherit' },
  )
  if (types.status !== 0) process.exit(types.status ?? 1)
  const { esm, iife } = await bundleClient()
  mkdirSync(`${root}dist/client`, { recursive: true })
  writeFileSync(`${root}dist/client/index.js`, esm)
  writeFileSync(`${root}dist/client/jwks-bridge-client.min.js`, iife)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
