-- Operator keys: platform keys (no tenant) that read /metrics and node info and nothing else.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('admin', 'developer', 'operator', 'user'));
