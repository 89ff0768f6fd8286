/** The browser script bundled and minified in memory: `esm` is dist/client/index.js, `iife` the classic script. */
export function bundleClient(): Promise<{ esm: string; iife: string }>
