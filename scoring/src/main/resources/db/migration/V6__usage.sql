-- One row per completed request, keyed by the request id: the database, not code, makes metering
-- exactly-once (a redelivered event is ignored). Money is integer micro-dollars.
CREATE TABLE usage_events (
  id                 text        PRIMARY KEY,
  tenant_id          text,
  function_name      text        NOT NULL,
  function_version   integer     NOT NULL,
  function_owner     text,
  modality           text        NOT NULL,
  units              bigint      NOT NULL,
  compute_us         bigint      NOT NULL,
  charge_micro_usd   bigint      NOT NULL,
  at                 timestamptz NOT NULL
);

CREATE INDEX usage_events_tenant_at_idx ON usage_events (tenant_id, at);
