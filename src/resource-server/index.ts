export type { AccessTokenProfile } from './access-token.js'
export type { RequestHeaders } from './authorization-header.js'
export type { ChallengeAnswer, DpopMode } from './challenge.js'
export { accessTokenHash } from './dpop-proof.js'
export { type ProtectedResourceMetadata, WELL_KNOWN_PATH } from './metadata.js'
export type { ReplayStore, ResourceIssuerOptions, ResourceServerOptions } from './options.js'
export {
  type AccessTokenAuth,
  type AccessTokenRequest,
  type AuthenticateOptions,
  type ChallengeOptions,
  createResourceServer,
  type ResourceServer,
} from './resource-server.js'
export { jwkThumbprint } from './thumbprint.js'
