-- API keys, stored as SHA-256 of the secret (secrets are 32 random bytes, so a fast hash is enough;
-- the secret itself is shown once and never stored). tenant_id is null for platform keys such as the
-- bootstrap admin key; tenants arrive with the billing issue.
CREATE TABLE api_keys (
  id          text        PRIMARY KEY,
  key_hash    text        NOT NULL UNIQUE,
  tenant_id   text,
  role        text        NOT NULL CHECK (role IN ('admin', 'developer', 'user')),
  name        text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz
);
