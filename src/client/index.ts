// jwks-bridge/client: the browser script. No dependencies and no Node imports: it is bundled for the
// browser as an ES module and as a classic script exposing window.JwksBridge.
export { devIssuerSource } from './dev-issuer-source.js'
export { functionSource } from './function-source.js'
export { type SignOutOptions, signOut } from './sign-out.js'
export { type StartOptions, start } from './start.js'
export { type SuperTokensSessionLike, superTokensSource } from './supertokens-source.js'
export { looksLikeJwt, type TokenSource } from './token-source.js'
