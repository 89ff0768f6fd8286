/// <reference types="node" preserve="true" />
// Public signatures use Node's types (Buffer, KeyObject, http requests): the declarations reference
// them, so a TypeScript project without @types/node is first told which package it lacks.
export {
  createDevIssuer,
  DEV_ISSUER_COOKIE,
  type DevIssuer,
} from './dev-issuer.js'
export type { DevIssuerRequest, DevIssuerResponse } from './http.js'
export {
  DEV_ISSUER_ALGORITHMS,
  DEV_ISSUER_EXPOSED_WARNING,
  DEV_ISSUER_PROFILES,
  type DevIssuerAlgorithm,
  type DevIssuerOptions,
  type DevIssuerProfile,
} from './options.js'
export {
  DEFAULT_DEV_ISSUER_PORT,
  type RunningDevIssuer,
  type StartDevIssuerOptions,
  startDevIssuer,
} from './server.js'
