-- The leaderboard's users column: which tenants chose to call each function, fed by the 'leaderboard'
-- consumer group from completion events (one row per function and tenant, so a redelivered event adds
-- nothing). Arena battles and benchmark runs are nobody's choice of the function and are not counted.
-- Backfilled from the usage stored so far.
CREATE TABLE function_users (
  function_name      text        NOT NULL,
  tenant_id          text        NOT NULL,
  first_request_id   text        NOT NULL,
  first_at           timestamptz NOT NULL,
  PRIMARY KEY (function_name, tenant_id)
);

INSERT INTO function_users (function_name, tenant_id, first_request_id, first_at)
SELECT DISTINCT ON (function_name, tenant_id) function_name, tenant_id, id, at
  FROM usage_events
 WHERE tenant_id IS NOT NULL AND modality NOT IN ('arena', 'benchmark')
 ORDER BY function_name, tenant_id, at, id;
