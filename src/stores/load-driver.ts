import { JwksBridgeError } from '../errors.js'

/**
 * Loads a database driver only when its store is created: drivers are optional peer dependencies, and
 * `import 'jwks-bridge'` must work without them. A driver that is not installed is a clear error that
 * names the package to install; any other failure (a broken native build) is passed on as it is.
 */
export async function loadDriver<T>(load: () => Promise<T>, store: string, install: string): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new JwksBridgeError('ERR_STORE_UNAVAILABLE', `the ${store} store needs ${install}`, {
        reason: 'driver not installed',
      })
    }
    throw error
  }
}
