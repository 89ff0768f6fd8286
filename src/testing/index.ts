/// <reference types="node" preserve="true" />
// Public signatures use Node's types (Buffer, KeyObject, http requests): the declarations reference
// them, so a TypeScript project without @types/node is first told which package it lacks.
/**
 * `jwks-bridge/testing`: helpers for an app's own tests. Nothing here is needed, or safe, in
 * production: the test issuer holds private keys in memory and the test sign-in route signs in
 * whoever asks (it refuses to exist outside NODE_ENV=test).
 */

export { TEST_ISSUER_PROFILES, type TestIssuerProfile } from '../dev-issuer/token-shapes.js'
export {
  type AdapterConformanceApp,
  type AdapterConformanceFixture,
  type AdapterConformanceSetup,
  CONFORMANCE_REQUEST_ID_HEADER,
  describeAdapterConformance,
} from './adapter-conformance.js'
export {
  describeIdentityStoreConformance,
  describeSessionStoreConformance,
  describeSignInTransactionConformance,
  type SessionStoreFixture,
} from './store-conformance.js'
export {
  createTestIssuer,
  type LogoutTokenOptions,
  type ServedTestIssuer,
  TEST_ISSUER_ALGORITHMS,
  type TestIssuer,
  type TestIssuerAlgorithm,
  type TestIssuerOptions,
  type TestIssuerVerifierOptions,
} from './test-issuer.js'
export {
  DEFAULT_TEST_SIGN_IN_PATH,
  enableTestSignIn,
  parseTestSignInInput,
  type TestSignInBridge,
  type TestSignInInput,
  type TestSignInOptions,
  type TestSignInRoute,
} from './test-sign-in.js'
