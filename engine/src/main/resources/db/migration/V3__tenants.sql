-- Tenants: who owns functions and keys, and which tier's limits apply to them.
CREATE TABLE tenants (
  id          text        PRIMARY KEY,
  name        text        NOT NULL,
  tier        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE api_keys ADD CONSTRAINT api_keys_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
CREATE INDEX functions_owner_idx ON functions (owner);
