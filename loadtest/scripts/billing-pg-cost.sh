#!/bin/bash
# PostgreSQL's work per billed request: the billing consumer's transaction per batch as it was before V42 (the
# usage rows, then three payout rows per request, each with a foreign-key check) against V42's (the usage rows
# RETURNING id, then one payout row per party of the batch). Backend CPU time from /proc (so a busy machine inflates
# it less than wall time), WAL bytes and table + index bytes, per request. N requests (default 20000) in batches of B
# (default 100), each request's charge split developer / operator / platform as RevenueSplit.DEFAULT does.
#   N=20000 B=100 loadtest/scripts/billing-pg-cost.sh     (needs psql and the local PostgreSQL; uses a scratch database)
# Results: docs/BENCHMARKS.md, "Payouts per batch".
set -e
tmp=$(mktemp -d); N=${N:-20000}; B=${B:-100}; db=bill_pgcost_$$
P="psql -h 127.0.0.1 -U postgres -q -v ON_ERROR_STOP=1"
$P -c "CREATE DATABASE $db" postgres
trap "$P -c 'DROP DATABASE IF EXISTS $db' postgres >/dev/null; rm -rf $tmp" EXIT
# V6's usage table and V12's payouts (with V30's column and index), as main had them before V42.
usage="CREATE TABLE usage_events (id text PRIMARY KEY, tenant_id text, function_name text NOT NULL,
  function_version int NOT NULL, function_owner text, modality text NOT NULL, units bigint NOT NULL,
  compute_us bigint NOT NULL, charge_micro_usd bigint NOT NULL, at timestamptz NOT NULL);
  CREATE INDEX ON usage_events (function_name, tenant_id); CREATE INDEX ON usage_events (tenant_id, at);"
schema_old="$usage CREATE TABLE payouts (usage_id text NOT NULL REFERENCES usage_events (id),
  role text NOT NULL CHECK (role IN ('developer', 'operator', 'platform')), party text NOT NULL,
  function_name text NOT NULL, amount_micro_usd bigint NOT NULL, burned boolean NOT NULL DEFAULT false,
  at timestamptz NOT NULL, settlement_epoch bigint, PRIMARY KEY (usage_id, role, party));
  CREATE INDEX ON payouts (role, party, at); CREATE INDEX ON payouts (at) WHERE settlement_epoch IS NULL;"
schema_new="$usage CREATE TABLE payouts (batch_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('developer', 'operator', 'platform')), party text NOT NULL,
  function_name text NOT NULL, amount_micro_usd bigint NOT NULL, burned boolean NOT NULL DEFAULT false,
  at timestamptz NOT NULL, settlement_epoch bigint, requests integer NOT NULL CHECK (requests > 0),
  charge_micro_usd bigint NOT NULL, PRIMARY KEY (batch_id, role, party, function_name, at));
  CREATE INDEX ON payouts (role, party, at); CREATE INDEX ON payouts (at) WHERE settlement_epoch IS NULL;"
src="CREATE UNLOGGED TABLE src AS SELECT i, md5(i::text) AS id, 10 + i % 90 AS charge,
  now() + i * interval '500 microseconds' AS at FROM generate_series(1, $N) i; CREATE INDEX ON src (i); ANALYZE src;"
usage_insert="INSERT INTO usage_events SELECT id, 't1', 'add', 1, 'dev1', 'request', 1, 40, charge, at FROM src"
shares="(VALUES ('developer', 'dev1', 70), ('operator', 'node-1', 20), ('platform', 'platform', 10)) r(role, party, pct)"
for side in ${SIDES:-old new}; do
  $P -c "DROP SCHEMA IF EXISTS s_$side CASCADE; CREATE SCHEMA s_$side" $db 2>/dev/null
  v=schema_$side; $P -c "SET search_path = s_$side; ${!v}; $src" $db
  f=$tmp/$side.sql; echo "SET search_path = s_$side;" > $f
  echo "SELECT pg_backend_pid() AS pid, pg_current_wal_lsn() AS lsn0 \\gset" >> $f; echo "\\setenv PGPID :pid" >> $f
  echo "\\! cat /proc/\$PGPID/stat > $tmp/$side.stat0" >> $f
  for ((a = 1; a <= N; a += B)); do
    b=$((a + B - 1)); w="WHERE i BETWEEN $a AND $b"
    if [ $side = old ]; then
      echo "BEGIN; $usage_insert $w ON CONFLICT (id) DO NOTHING;
INSERT INTO payouts (usage_id, role, party, function_name, amount_micro_usd, burned, at) SELECT id, r.role, r.party,
  'add', charge * r.pct / 100, false, at FROM src CROSS JOIN $shares $w ON CONFLICT DO NOTHING; COMMIT;" >> $f
    else # the ids come back to the consumer, which sends the summed rows (here summed by the server, same rows)
      echo "BEGIN; $usage_insert $w ON CONFLICT (id) DO NOTHING RETURNING id \\g /dev/null
INSERT INTO payouts (batch_id, role, party, function_name, requests, charge_micro_usd, amount_micro_usd, burned, at)
  SELECT min(id), r.role, r.party, 'add', count(*), sum(charge), sum(charge * r.pct / 100), false, max(at)
  FROM src CROSS JOIN $shares $w GROUP BY r.role, r.party, date_trunc('second', at); COMMIT;" >> $f
    fi
  done
  echo "SELECT pg_current_wal_lsn() - :'lsn0'::pg_lsn AS wal \\gset" >> $f
  echo "\\! cat /proc/\$PGPID/stat > $tmp/$side.stat1" >> $f
  echo "\\echo wal :wal" >> $f
  echo "SELECT pg_total_relation_size('usage_events') + pg_total_relation_size('payouts') AS size, (SELECT count(*) FROM payouts) AS rows \\gset" >> $f
  echo "\\echo size :size :rows" >> $f
  out=$($P -d $db -f $f)
  t0=$(awk '{print $14 + $15}' $tmp/$side.stat0); t1=$(awk '{print $14 + $15}' $tmp/$side.stat1)
  wal=$(echo "$out" | awk '/^wal/ {print $2}'); size=$(echo "$out" | awk '/^size/ {print $2}'); rows=$(echo "$out" | awk '/^size/ {print $3}')
  awk -v s=$side -v t=$((t1 - t0)) -v w=$wal -v z=$size -v r=$rows -v n=$N 'BEGIN {
    printf "%-4s backend CPU %6.1f us/request  WAL %5.0f B/request  tables+indexes %5.0f B/request  payout rows %d\n",
      s, t * 10000 / n, w / n, z / n, r }'
done
