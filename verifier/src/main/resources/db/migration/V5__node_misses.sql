-- Reputation also reflects reliability: a node replaced for missed heartbeats, or for not stopping a
-- cancelled run within its grace, is recorded with the reason.
ALTER TABLE node_events DROP CONSTRAINT node_events_kind_check;
ALTER TABLE node_events ADD CONSTRAINT node_events_kind_check
  CHECK (kind IN ('agree', 'slash', 'eject', 'reward', 'deposit', 'heartbeat_miss', 'deadline_miss'));
