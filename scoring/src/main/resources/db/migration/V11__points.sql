-- Usage points that come from events other than ratings and votes: downloads or clones, deploys on
-- a space, contest finishes. Keyed so that a repeated event is counted once.
CREATE TABLE points_events (
  id             text        PRIMARY KEY,
  function_name  text        NOT NULL,
  kind           text        NOT NULL CHECK (kind IN ('download', 'space_deploy', 'contest_win', 'contest_top5')),
  points         integer     NOT NULL,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX points_events_function_idx ON points_events (function_name);
CREATE INDEX usage_events_function_tenant_idx ON usage_events (function_name, tenant_id);
