-- A node whose result seal is wrong (results altered after they were sent, a seal forged or signed for
-- another link) or that keeps talking but stops sealing is charged: the event is recorded with the
-- evidence, and the node is ejected at once (its results can no longer be trusted).
ALTER TABLE node_events DROP CONSTRAINT node_events_kind_check;
ALTER TABLE node_events ADD CONSTRAINT node_events_kind_check
  CHECK (kind IN ('agree', 'slash', 'eject', 'reward', 'deposit', 'heartbeat_miss', 'deadline_miss', 'reinstate',
    'attestation_failed'));
