-- Evaluation datasets (uploaded to a category or to one function) and benchmark runs over them.
-- A run keeps its full metric report, the primary metric and the previous run's value so a drop is
-- visible in history without recomputation.
CREATE TABLE eval_datasets (
  id             text        PRIMARY KEY,
  name           text        NOT NULL,
  category       text,
  function_name  text,
  owner          text,
  format         text        NOT NULL CHECK (format IN ('jsonl', 'csv')),
  row_count      integer     NOT NULL,
  rows           jsonb       NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (category IS NOT NULL OR function_name IS NOT NULL)
);
CREATE INDEX eval_datasets_category_idx ON eval_datasets (category);
CREATE INDEX eval_datasets_function_idx ON eval_datasets (function_name);

CREATE TABLE benchmark_runs (
  id               text             PRIMARY KEY,
  dataset_id       text             NOT NULL REFERENCES eval_datasets (id) ON DELETE CASCADE,
  function_name    text             NOT NULL,
  function_version integer          NOT NULL,
  category         text,
  trigger          text             NOT NULL CHECK (trigger IN ('deploy', 'schedule', 'manual', 'contest')),
  state            text             NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  metrics          jsonb,
  primary_metric   text,
  primary_value    double precision,
  previous_value   double precision,
  dropped          boolean          NOT NULL DEFAULT false,
  rows_scored      integer,
  latency_p50_ms   double precision,
  latency_p95_ms   double precision,
  cost_micro_usd   bigint,
  error            text,
  started_at       timestamptz      NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX benchmark_runs_function_idx ON benchmark_runs (function_name, started_at DESC);
