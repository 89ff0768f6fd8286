/** The SQL the SQLite stores and the sign-in transaction share, so that both write rows the same way. */

export const IDENTITY_COLUMNS = 'id, issuer, subject, claims, created_at, last_sign_in_at'

/**
 * One statement, so it is atomic even across processes sharing the file: the row is inserted, or the
 * existing row is updated, never both, never two rows. created_at is never overwritten. Parameters:
 * new id, issuer, subject, claims JSON, now, now.
 */
export const UPSERT_IDENTITY_SQL = `INSERT INTO identities (${IDENTITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (issuer, subject) DO UPDATE SET claims = excluded.claims, last_sign_in_at = excluded.last_sign_in_at
  RETURNING ${IDENTITY_COLUMNS}`

export const SESSION_COLUMNS =
  'id, secret_hash, identity_id, issuer, provider_session_id, created_at, expires_at, last_seen_at'

/** Parameters in SESSION_COLUMNS order. */
export const INSERT_SESSION_SQL = `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
export const DELETE_SESSION_SQL = 'DELETE FROM sessions WHERE id = ?'
/**
 * One statement decides and records: a new key is inserted; an existing key is overwritten only when
 * its record has expired. RETURNING yields a row exactly when this call recorded the key, so two
 * processes marking the same token cannot both see true. Parameters: key, expires at, now.
 */
export const MARK_TOKEN_USED_SQL = `INSERT INTO used_tokens (key, expires_at) VALUES (?, ?)
  ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_tokens.expires_at <= ?
  RETURNING 1 AS recorded`
