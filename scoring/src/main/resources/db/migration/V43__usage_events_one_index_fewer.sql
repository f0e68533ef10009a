-- Every answered request inserts one usage_events row, so each index on the table is paid on the request path
-- (issue 11). usage_events_function_tenant_idx (V11) served the leaderboard's users column, which reads
-- function_users since V22; no query filters usage_events by function_name since then (invoices and the usage
-- summary read it by tenant and time, the id is the primary key). One btree insert per request fewer.
DROP INDEX IF EXISTS usage_events_function_tenant_idx;
