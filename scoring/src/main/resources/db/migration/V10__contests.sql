-- Contests: a category, a dataset and its metric, a window and a reward pool (micro-dollars).
-- Private contests belong to one tenant, whose members alone see them.
CREATE TABLE contests (
  id                     text        PRIMARY KEY,
  name                   text        NOT NULL,
  category               text        NOT NULL,
  dataset_id             text        NOT NULL REFERENCES eval_datasets (id),
  metric                 text        NOT NULL,
  starts_at              timestamptz NOT NULL,
  ends_at                timestamptz NOT NULL,
  reward_pool_micro_usd  bigint      NOT NULL CHECK (reward_pool_micro_usd >= 0),
  owner                  text,
  private                boolean     NOT NULL DEFAULT false,
  finished               boolean     NOT NULL DEFAULT false,
  created_at             timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);

CREATE TABLE contest_entries (
  contest_id     text        NOT NULL REFERENCES contests (id) ON DELETE CASCADE,
  function_name  text        NOT NULL,
  entered_by     text,
  entered_at     timestamptz NOT NULL DEFAULT now(),
  place          integer,
  points         integer     NOT NULL DEFAULT 0,
  reward_micro_usd bigint    NOT NULL DEFAULT 0,
  PRIMARY KEY (contest_id, function_name)
);
