-- Model blobs kept in the database for gateways that share it (issue 12, several gateways): a gateway that receives
-- a deploy stores the model's bytes here; the others copy them to their own disk before they serve it. Off unless a
-- gateway runs with --shared-db. A blob is written in one transaction (chunks and its row together), so a row means
-- every chunk is there. roots: the functions' model hashes (a model, or a text bundle's manifest) the blob serves;
-- a blob no function references any more is removed.
CREATE TABLE shared_models (
  sha256     text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  bytes      bigint      NOT NULL CHECK (bytes >= 0),
  chunks     integer     NOT NULL CHECK (chunks >= 0),
  roots      text[]      NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shared_model_chunks (
  sha256  text    NOT NULL,
  idx     integer NOT NULL CHECK (idx >= 0),
  data    bytea   NOT NULL,
  PRIMARY KEY (sha256, idx)
);
