-- The storage quota sums a tenant's function versions on every deploy (each version counts its
-- model bytes); index the owner so that stays a short index scan however many functions exist.
CREATE INDEX IF NOT EXISTS functions_owner_idx ON functions (owner);
