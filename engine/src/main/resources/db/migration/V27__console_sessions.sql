-- Console sessions: a browser signs in with an API key once and then holds only a random session id in an
-- HttpOnly cookie. Only the id's SHA-256 is stored (a database leak yields no usable cookie). A session lives
-- no longer than its key: authentication joins api_keys, so revoking or expiring the key ends its sessions.
CREATE TABLE console_sessions (
  id_hash     text        PRIMARY KEY,
  key_id      text        NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX console_sessions_key_idx ON console_sessions (key_id, created_at);
CREATE INDEX console_sessions_expiry_idx ON console_sessions (expires_at);
