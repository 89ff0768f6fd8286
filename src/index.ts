/// <reference types="node" preserve="true" />
// Public signatures use Node's types (Buffer, KeyObject, http requests): the declarations reference
// them, so a TypeScript project without @types/node is first told which package it lacks.
export { type Bridge, type BridgeOptions, createBridge } from './bridge/bridge.js'
export type { CsrfToken } from './bridge/csrf.js'
export type { BridgeEvent, BridgeEventListener, BridgeRoute, SessionsEndedReason } from './bridge/events.js'
export { errorResponse, statusForCode } from './bridge/http-status.js'
export * from './bridge/profiles.js'
export type {
  Authenticated,
  BridgeLogger,
  BridgeRequest,
  BridgeResponse,
  BridgeSession,
} from './bridge/types.js'
export { type ErrorCode, type ErrorDetails, isJwksBridgeError, JwksBridgeError } from './errors.js'
export { type Algorithm, SUPPORTED_ALGORITHMS } from './jose/algorithms.js'
export type { JwtPayload } from './jose/claims.js'
export type { ProtectedHeader } from './jose/header.js'
export { importPublicJwk, type KeyLimits, type VerificationKey } from './jose/jwk.js'
export { importKeySet, KeySet, type RejectedKey } from './jose/key-set.js'
export { type JwsVerifyOptions, type VerifiedJws, verifyCompactJws } from './jose/verify-jws.js'
export type { VerifiedJwt } from './jose/verify-jwt.js'
export type { FetchReason, KeySetEvent, KeySetStats } from './keys/events.js'
export type { FetchFunction } from './keys/http-fetch.js'
export { type CachedKeySet, type KeySetCache, MemoryKeySetCache } from './keys/key-set-cache.js'
export {
  createRedisKeySetCache,
  type RedisKeySetCacheOptions,
  type RedisLikeClient,
} from './keys/redis-key-set-cache.js'
export { isLoopbackHost } from './lib/loopback.js'
export * from './resource-server/index.js'
export {
  type CleanupOptions,
  type CleanupScheduler,
  type CleanupTarget,
  type CleanupTickResult,
  startCleanup,
} from './stores/cleanup.js'
export { createMemoryStores } from './stores/memory/stores.js'
export type {
  AppliedMigration,
  MigrateOptions,
  MigrateResult,
  Migration,
  MigrationStatus,
} from './stores/migrations.js'
export type { PgPool, PgPoolClient, PgResult } from './stores/postgres/driver.js'
export {
  createPostgresStores,
  type PostgresStores,
  type PostgresStoresOptions,
} from './stores/postgres/stores.js'
export type { RedisStoreClient } from './stores/redis/client.js'
export { createRedisStores, type RedisStores, type RedisStoresOptions } from './stores/redis/stores.js'
export type { SqliteDatabase, SqliteStatement } from './stores/sqlite/driver.js'
export {
  createSqliteStores,
  DEFAULT_SQLITE_PATH,
  type SqliteStores,
  type SqliteStoresOptions,
} from './stores/sqlite/stores.js'
export type {
  CleanupBatch,
  CleanupLease,
  Identity,
  IdentityStore,
  SessionRecord,
  SessionStore,
  SignInOutcome,
  SignInTransaction,
  SignInWrite,
  StoreLifecycle,
  UpsertIdentityInput,
} from './stores/types.js'
export type {
  IssuerOptions,
  JsonWebKeySet,
  KeyRejectedEvent,
  PolicyOptions,
  RemoteKeySetOptions,
  VerifierOptions,
} from './verifier/options.js'
export type { SignatureThreadPoolMode } from './verifier/signature-pool.js'
export { createVerifier, type Verifier } from './verifier/verifier.js'
