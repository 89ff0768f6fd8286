/**
 * Fastify plugin mounting the development identity provider: every request under the issuer URL's
 * path (sign-in page, discovery, key set, token, sign-out) is answered by
 * `createDevIssuer(...).handle`, so the browser script's `devIssuerSource('/dev-issuer')` reaches it
 * on the page's own origin (the script refuses token URLs of other origins). Its routes read raw
 * bodies in a context of their own: the app's parsers are left alone.
 *
 * @example
 * import { createDevIssuer } from 'jwks-bridge/dev-issuer'
 * import { devIssuerFastify } from 'jwks-bridge/fastify'
 * const devIssuer = createDevIssuer({ issuer: 'http://127.0.0.1:3000/dev-issuer' })
 * await app.register(devIssuerFastify, { devIssuer })
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DevIssuer } from '../dev-issuer/dev-issuer.js'
import { MAX_BODY_BYTES } from '../dev-issuer/http.js'
import { optionError, optionNames, readOptions } from '../lib/options.js'
import { checkMountedDevIssuer } from './dev-issuer-mount.js'

export interface DevIssuerFastifyOptions {
  /** A `createDevIssuer` result whose issuer URL has a path on the app's URL, e.g. `/dev-issuer`. */
  devIssuer: DevIssuer
}

const WHERE = 'devIssuerFastify'
// Fastify's register passes its own options on too: logLevel and logSerializers change nothing here.
const PLUGIN_KEYS = [
  ...optionNames<DevIssuerFastifyOptions>()(['devIssuer']),
  'prefix',
  'logLevel',
  'logSerializers',
]

export async function devIssuerFastify(
  fastify: FastifyInstance,
  options: DevIssuerFastifyOptions,
): Promise<void> {
  // Unknown names are refused: a misspelt `devIsuer` would mount nothing.
  const raw = readOptions(WHERE, options, PLUGIN_KEYS)
  const devIssuer = checkMountedDevIssuer(WHERE, raw.devIssuer)
  // The issuer URL decides where the provider answers (its tokens' `iss` and discovery URLs name it):
  // a prefix would move the routes away from the URLs it announces.
  if (raw.prefix !== undefined && raw.prefix !== '') {
    throw optionError(WHERE, "prefix is not used: the issuer URL's path says where the provider is mounted")
  }
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
    (_request, body, done) => done(null, body),
  )
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const answer = await devIssuer.handle({
      method: request.method,
      path: request.url,
      headers: request.headers,
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
    })
    return reply.code(answer.status).headers(answer.headers).send(answer.body)
  }
  // The identity lookup is not needed on the provider's own pages.
  const config = { jwksBridge: { authenticate: false } }
  fastify.all(devIssuer.basePath, { config }, handler)
  fastify.all(`${devIssuer.basePath}/*`, { config }, handler)
}
