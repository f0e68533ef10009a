-- A receipt row is written for every answered request, so each costs as little as PostgreSQL allows (issue 13;
-- docs/BENCHMARKS.md, "Receipts made cheap"):
-- * an epoch closed from now on is a range of seq (first_seq..last_seq) over the receipts with epoch NULL: closing it
--   writes one receipt_epochs row and updates no receipt (an update rewrote the whole row, added index entries and
--   left a dead row for vacuum). receipts.epoch stays for the epochs closed before this migration (their first_seq
--   and last_seq are NULL); ReceiptLedger takes an advisory lock so no receipt can commit below a closed range;
-- * the body is the receipt's fields as JSON text, stored as given: nothing reads into it (the leaf the epochs are
--   built from is its own column, hashed once by the gateway), so a per-row jsonb parse bought nothing;
-- * seq needs no unique index of its own (a bigserial is unique already; receipts_unassigned, on seq for the rows
--   with epoch NULL, is what ranges and the closer read), and receipts_by_epoch only serves the older epochs.
ALTER TABLE receipts ALTER COLUMN body TYPE TEXT USING body::text;
ALTER TABLE receipts DROP CONSTRAINT receipts_seq_key;
DROP INDEX receipts_by_epoch;
CREATE INDEX receipts_by_epoch ON receipts (epoch) WHERE epoch IS NOT NULL;

ALTER TABLE receipt_epochs
  ADD COLUMN first_seq BIGINT,
  ADD COLUMN last_seq  BIGINT,
  ADD CHECK ((first_seq IS NULL) = (last_seq IS NULL) AND first_seq <= last_seq);
CREATE UNIQUE INDEX receipt_epochs_ranges ON receipt_epochs (last_seq) WHERE last_seq IS NOT NULL;
