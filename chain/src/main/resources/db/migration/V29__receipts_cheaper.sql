-- A receipt row is written for every answered request, so each costs as little as PostgreSQL allows (issue 13;
-- docs/BENCHMARKS.md, "Receipts made cheap"):
-- * the body is the receipt's fields as JSON text, stored as given: nothing reads into it (the leaf the epochs are
--   built from is its own column, hashed once by the gateway), so a per-row jsonb parse bought nothing;
-- * seq keeps the answering order but needs no index of its own (a bigserial is unique already, and the closer reads
--   the oldest unassigned receipts through receipts_unassigned);
-- * receipts_by_epoch holds only receipts in an epoch, so a new receipt adds no entry to it, only its update does.
ALTER TABLE receipts ALTER COLUMN body TYPE TEXT USING body::text;
ALTER TABLE receipts DROP CONSTRAINT receipts_seq_key;
DROP INDEX receipts_by_epoch;
CREATE INDEX receipts_by_epoch ON receipts (epoch) WHERE epoch IS NOT NULL;
