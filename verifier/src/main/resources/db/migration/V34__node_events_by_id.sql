-- A node's events read back in pages by id, newest first (GET /api/nodes/{id}/events): one index walk a page.
CREATE INDEX node_events_node_id_idx ON node_events (node_id, id);
