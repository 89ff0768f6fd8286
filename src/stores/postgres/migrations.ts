import type { Migration } from '../migrations.js'

/**
 * The PostgreSQL schema, one step per version. Append only: a released step is never edited,
 * because databases that applied it would not run it again. The SQL names no schema: the runner
 * sets search_path for the transaction. Times are bigint milliseconds since the epoch, as the API
 * gives them (exact, no time zone, no rounding).
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'identities, sessions and used_tokens',
    sql: `
CREATE TABLE identities (
  id text PRIMARY KEY,
  issuer text NOT NULL,
  subject text NOT NULL,
  -- json, not jsonb: kept as written, and a claim holding \\u0000 is stored rather than refused.
  claims json NOT NULL,
  created_at bigint NOT NULL,
  last_sign_in_at bigint NOT NULL,
  CONSTRAINT identities_issuer_subject_key UNIQUE (issuer, subject)
);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
  identity_id text NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  issuer text NOT NULL,
  provider_session_id text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  last_seen_at bigint NOT NULL
);
CREATE INDEX sessions_identity_id_idx ON sessions (identity_id);
CREATE INDEX sessions_provider_session_idx ON sessions (issuer, provider_session_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE used_tokens (
  key text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX used_tokens_expires_at_idx ON used_tokens (expires_at);

COMMENT ON TABLE identities IS 'jwks-bridge: local identities; times in ms since the epoch';
COMMENT ON TABLE sessions IS 'jwks-bridge: sessions (SHA-256 of the secret only); times in ms since the epoch';
COMMENT ON TABLE used_tokens IS 'jwks-bridge: replay guard; expires_at in ms since the epoch';
`,
  },
]
