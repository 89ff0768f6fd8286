// The page's script: hands the provider's token to the server once (PUT /auth with X-CSRF-Token),
// and signs out of both (DELETE /auth, then the provider). JwksBridge is defined by the script tag
// before it (jwks-bridge/client/jwks-bridge-client.min.js).
const source = JwksBridge.devIssuerSource('/dev-issuer')
JwksBridge.start({ source })
document.querySelector('#sign-out')?.addEventListener('click', () => JwksBridge.signOut({ source }))
