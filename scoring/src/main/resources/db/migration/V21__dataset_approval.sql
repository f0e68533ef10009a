-- Datasets belong to their owners: a tenant's dataset is listed to that tenant (and admins) unless it
-- was uploaded as public or an admin approved it. Only approved category datasets count toward the
-- public leaderboard's metric score and run on other tenants' functions. Datasets uploaded before this
-- by platform keys (owner null) are the platform's and count as approved.
ALTER TABLE eval_datasets ADD COLUMN public boolean NOT NULL DEFAULT false;
ALTER TABLE eval_datasets ADD COLUMN approved boolean NOT NULL DEFAULT false;
ALTER TABLE eval_datasets ADD COLUMN approved_at timestamptz;
UPDATE eval_datasets SET approved = true, public = true, approved_at = now() WHERE owner IS NULL;

-- Who started a run by hand (a tenant, or null for the platform and its scheduler): per-tenant daily caps.
ALTER TABLE benchmark_runs ADD COLUMN started_by text;
CREATE INDEX benchmark_runs_started_by_idx ON benchmark_runs (started_by, started_at) WHERE started_by IS NOT NULL;
