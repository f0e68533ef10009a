-- Worker nodes as the verification network sees them: stake, reputation, state, and every event
-- (agreement, slash, reward, ejection, deposit) with its evidence.
CREATE TABLE nodes (
  node_id            text             PRIMARY KEY,
  public_key         text,
  state              text             NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'ejected')),
  reputation         double precision NOT NULL DEFAULT 1.0,
  stake_micro_usd    bigint           NOT NULL DEFAULT 0,
  slashes            integer          NOT NULL DEFAULT 0,
  verified_tasks     bigint           NOT NULL DEFAULT 0,
  rewards_micro_usd  bigint           NOT NULL DEFAULT 0,
  ejected_reason     text,
  first_seen         timestamptz      NOT NULL DEFAULT now(),
  updated_at         timestamptz      NOT NULL DEFAULT now()
);

CREATE TABLE node_events (
  id                     bigserial        PRIMARY KEY,
  node_id                text             NOT NULL REFERENCES nodes (node_id),
  kind                   text             NOT NULL CHECK (kind IN ('agree', 'slash', 'eject', 'reward', 'deposit')),
  task_id                text,
  stake_delta_micro_usd  bigint           NOT NULL DEFAULT 0,
  reputation_after       double precision,
  evidence               jsonb,
  at                     timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX node_events_node_idx ON node_events (node_id, at);
