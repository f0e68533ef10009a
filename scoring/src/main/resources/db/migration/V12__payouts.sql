-- The payout ledger: per stored usage event, who is owed what. Written in the same transaction as
-- the usage row, keyed so that a redelivered event adds nothing. For every usage_id the amounts add
-- up to its charge exactly. Money is integer micro-dollars.
CREATE TABLE payouts (
  usage_id          text        NOT NULL REFERENCES usage_events (id),
  role              text        NOT NULL CHECK (role IN ('developer', 'operator', 'platform')),
  party             text        NOT NULL,
  function_name     text        NOT NULL,
  amount_micro_usd  bigint      NOT NULL,
  burned            boolean     NOT NULL DEFAULT false,
  at                timestamptz NOT NULL,
  PRIMARY KEY (usage_id, role, party)
);

CREATE INDEX payouts_party_at_idx ON payouts (role, party, at);

-- Usage stored before this ledger existed: the developer's share as RevenueSplit.DEFAULT computes it
-- (70 %, rounded down), the rest to the platform (the workers that ran it were not recorded).
INSERT INTO payouts (usage_id, role, party, function_name, amount_micro_usd, burned, at)
SELECT id, 'developer', coalesce(function_owner, 'platform'), function_name, charge_micro_usd * 70 / 100, false, at
FROM usage_events;
INSERT INTO payouts (usage_id, role, party, function_name, amount_micro_usd, burned, at)
SELECT id, 'platform', 'platform', function_name, charge_micro_usd - charge_micro_usd * 70 / 100, false, at
FROM usage_events;
