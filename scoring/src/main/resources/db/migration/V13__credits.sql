-- Credits that are not a share of a charge: contest rewards, paid from a contest's reward pool to the
-- developer (tenant) of each placed function, written in the same transaction that finishes the
-- contest and keyed so that finishing twice credits once. Integer micro-dollars.
CREATE TABLE credits (
  id                text        PRIMARY KEY,
  party             text        NOT NULL,
  kind              text        NOT NULL CHECK (kind IN ('contest_reward')),
  function_name     text        NOT NULL,
  source            text        NOT NULL,
  amount_micro_usd  bigint      NOT NULL CHECK (amount_micro_usd > 0),
  at                timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX credits_party_at_idx ON credits (party, at);
