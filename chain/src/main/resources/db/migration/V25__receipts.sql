-- Receipts of answered requests (module chain; built from completion events) and the epochs whose Merkle
-- roots are anchored on chain. A receipt joins exactly one epoch, once; an epoch's root never changes.
CREATE TABLE receipt_epochs (
  epoch        BIGINT PRIMARY KEY CHECK (epoch >= 1),
  root         BYTEA NOT NULL CHECK (octet_length(root) = 32),
  receipts     INTEGER NOT NULL CHECK (receipts > 0),
  closed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  tx_hash      TEXT,
  block_number BIGINT,
  anchored_at  TIMESTAMPTZ,
  CHECK ((tx_hash IS NULL) = (block_number IS NULL) AND (tx_hash IS NULL) = (anchored_at IS NULL))
);

CREATE TABLE receipts (
  request_id  TEXT PRIMARY KEY,
  seq         BIGSERIAL NOT NULL UNIQUE,
  leaf        BYTEA NOT NULL CHECK (octet_length(leaf) = 32),
  body        JSONB NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  epoch       BIGINT REFERENCES receipt_epochs (epoch)
);

CREATE INDEX receipts_unassigned ON receipts (seq) WHERE epoch IS NULL;
CREATE INDEX receipts_by_epoch ON receipts (epoch, seq);
