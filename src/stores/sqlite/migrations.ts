import type { Migration } from '../migrations.js'

/**
 * The SQLite schema, one step per version. Append only: a released step is never edited, because
 * databases that applied it would not run it again. Times are INTEGER milliseconds since the epoch;
 * STRICT tables make SQLite check the column types.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'identities, sessions and used_tokens',
    sql: `
CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  claims TEXT NOT NULL CHECK (json_valid(claims)),
  created_at INTEGER NOT NULL,
  last_sign_in_at INTEGER NOT NULL,
  UNIQUE (issuer, subject)
) STRICT;

-- WITHOUT ROWID: sessions are read by their text primary key on every request; one B-tree lookup.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
  identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  issuer TEXT NOT NULL,
  provider_session_id TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_identity_id ON sessions (identity_id);
CREATE INDEX sessions_provider_session ON sessions (issuer, provider_session_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE used_tokens (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX used_tokens_expires_at ON used_tokens (expires_at);
`,
  },
  {
    version: 2,
    name: 'leaner session indexes',
    // Each index is one more B-tree page written per sign-in. sessions_expires_at served no query: the
    // cleanup's "expires_at <= ? OR last_seen_at < ?" scans the table either way (last_seen_at has no
    // index, and one is not worth a write on every touch). Back-channel logout looks sessions up by
    // provider session id, which only sessions from providers that send one have.
    sql: `
DROP INDEX sessions_expires_at;
DROP INDEX sessions_provider_session;
CREATE INDEX sessions_provider_session ON sessions (issuer, provider_session_id)
  WHERE provider_session_id IS NOT NULL;
`,
  },
]
