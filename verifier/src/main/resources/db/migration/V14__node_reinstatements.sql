-- Node identity is its key (node ids are derived from the Ed25519 public key), and an admin can put an
-- ejected node back in service. Every reinstatement is audited: who (the admin key), when, why, and
-- the state and reputation before and after.
CREATE TABLE node_reinstatements (
  id                 bigserial        PRIMARY KEY,
  node_id            text             NOT NULL REFERENCES nodes (node_id),
  admin_key_id       text             NOT NULL,
  reason             text             NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  state_before       text             NOT NULL,
  reputation_before  double precision NOT NULL,
  reputation_after   double precision NOT NULL,
  at                 timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX node_reinstatements_node_idx ON node_reinstatements (node_id, at);

ALTER TABLE node_events DROP CONSTRAINT node_events_kind_check;
ALTER TABLE node_events ADD CONSTRAINT node_events_kind_check
  CHECK (kind IN ('agree', 'slash', 'eject', 'reward', 'deposit', 'heartbeat_miss', 'deadline_miss', 'reinstate'));
