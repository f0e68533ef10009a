-- Slashes decided by the verifier for nodes registered on chain, waiting to be sent to NodeRegistry (issue 13): a
-- durable outbox, one row per (task, node), sent in id order; the chain's own answer (amount taken, burned,
-- ejected) is stored once it is confirmed.
CREATE TABLE chain_slashes (
  id                bigserial   PRIMARY KEY,
  task_id           text        NOT NULL,
  node_id           text        NOT NULL,
  node_key          bytea       NOT NULL CHECK (length(node_key) = 32),
  amount            numeric     NOT NULL,
  evidence_hash     bytea       NOT NULL CHECK (length(evidence_hash) = 32),
  evidence          text        NOT NULL,
  eject             boolean     NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  tx_hash           text,
  block_number      bigint,
  taken             numeric,
  burned            boolean,
  ejected           boolean,
  attempts          integer     NOT NULL DEFAULT 0,
  last_error        text,
  UNIQUE (task_id, node_id)
);
