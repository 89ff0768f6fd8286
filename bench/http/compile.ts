// Both benchmark servers run as plain JavaScript, compiled the same way, so that neither pays for
// the other's toolchain: tsx's on-the-fly transform adds a helper call for every function created at
// run time (its keepNames), which a deployed app, built by tsc, does not have. Each child is bundled
// by esbuild with its own code inlined and every
// package left external, into bench/http/.build/ inside the package so that packages resolve as usual.
import { mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { build } from 'esbuild'

export async function compileChild(entry: string, outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true })
  const outfile = join(outDir, basename(entry).replace(/\.ts$/, '.mjs'))
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: false,
    logLevel: 'silent',
  })
  return outfile
}
