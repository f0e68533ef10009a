-- Deployed function versions. Model bytes live in the content-addressed blob store (by sha256);
-- the row holds the spec as sent, the lifecycle state and the verification report.
CREATE TABLE functions (
  name          text        NOT NULL,
  version       integer     NOT NULL CHECK (version > 0),
  kind          text        NOT NULL,
  category      text,
  description   text,
  visibility    text        NOT NULL,
  owner         text,
  spec          jsonb       NOT NULL,
  model_sha256  text        NOT NULL,
  model_bytes   bigint      NOT NULL,
  state         text        NOT NULL CHECK (state IN ('verifying', 'ready', 'rejected')),
  state_reason  text,
  report        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  signature     jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);

CREATE INDEX functions_state_idx ON functions (state);
CREATE INDEX functions_sha_idx ON functions (model_sha256);
CREATE INDEX functions_kind_category_idx ON functions (kind, category);
