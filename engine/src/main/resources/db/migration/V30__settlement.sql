-- Settlement of the payout ledger on chain (issue 13): each settlement epoch takes the unsettled payout rows (and
-- contest credits) of parties that named a payout address, sums them per address into PayoutDistributor leaves,
-- and burns the platform's burned share. A row belongs to at most one epoch (settlement_epoch, set once, under
-- the epoch's transaction); a party without an address keeps its rows for a later epoch.

-- Where a tenant (developer, or operator for its nodes' shares) is paid: one address, changeable; an epoch keeps
-- the address it was built with.
CREATE TABLE payout_addresses (
  tenant_id   text        PRIMARY KEY,
  address     text        NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE payouts ADD COLUMN settlement_epoch bigint;
ALTER TABLE credits ADD COLUMN settlement_epoch bigint;
-- The builder's scans: what is not settled yet.
CREATE INDEX payouts_unsettled_idx ON payouts (at) WHERE settlement_epoch IS NULL;
CREATE INDEX credits_unsettled_idx ON credits (at) WHERE settlement_epoch IS NULL;

-- The durable outbox: an epoch with no tx_hash waits to be opened on chain. Token amounts are base units (numeric:
-- 18 decimals overflow bigint).
CREATE TABLE settlement_epochs (
  epoch                 bigint      PRIMARY KEY CHECK (epoch >= 1),
  root                  bytea       NOT NULL,
  cutoff                timestamptz NOT NULL,
  payout_total          numeric     NOT NULL,
  platform_share        numeric     NOT NULL,
  payout_micro_usd      bigint      NOT NULL,
  platform_micro_usd    bigint      NOT NULL,
  accounts              integer     NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  tx_hash               text,
  block_number          bigint,
  opened_at             timestamptz,
  attempts              integer     NOT NULL DEFAULT 0,
  last_error            text
);

-- One leaf per (epoch, address); tenants: whose shares it sums (who may read it and its proof).
CREATE TABLE settlement_claims (
  epoch             bigint  NOT NULL REFERENCES settlement_epochs (epoch),
  address           text    NOT NULL,
  amount            numeric NOT NULL,
  amount_micro_usd  bigint  NOT NULL,
  tenants           text[]  NOT NULL,
  PRIMARY KEY (epoch, address)
);

CREATE INDEX settlement_claims_tenants_idx ON settlement_claims USING gin (tenants);
