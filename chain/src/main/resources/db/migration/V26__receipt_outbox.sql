-- The gateway's receipts consumer (engine, io.inferium.engine.receipts). Who may read a receipt: the tenant whose
-- request it was (NULL for platform keys: admins only). The anchoring outbox is receipt_epochs itself: a closed
-- epoch with tx_hash NULL waits to be anchored, in epoch order; attempts and the last error say why it still waits.
ALTER TABLE receipts ADD COLUMN tenant_id TEXT;

ALTER TABLE receipt_epochs
  ADD COLUMN anchor_attempts INTEGER NOT NULL DEFAULT 0 CHECK (anchor_attempts >= 0),
  ADD COLUMN anchor_error    TEXT;

CREATE INDEX receipt_epochs_unanchored ON receipt_epochs (epoch) WHERE tx_hash IS NULL;
