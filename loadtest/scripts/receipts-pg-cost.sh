#!/bin/bash
# PostgreSQL's work per receipt, the statements before V29 (jsonb body, unique seq, epoch index on every row, an
# UPDATE of every receipt when its epoch closes) against V29's (text body, epochs as seq ranges, the insert lock):
# WAL bytes, the backend's CPU time (/proc, so a busy machine inflates it less than wall time), a VACUUM after,
# and table + index bytes, per receipt. N receipts (default 20480) in batches of B (default 100), epochs of 1024.
# SIDES (default "old text new"): text is V29's text body and indexes with the old close (an UPDATE of every
# receipt), to tell what the text body and indexes save from what epochs as seq ranges save.
#   N=20480 loadtest/scripts/receipts-pg-cost.sh      (needs psql and the local PostgreSQL; uses a scratch database)
# Results: docs/BENCHMARKS.md, "Receipts made cheap".
set -e
tmp=$(mktemp -d)
N=${N:-20480}; B=${B:-100}; E=1024
db=rc_pgcost_$$
P="psql -h 127.0.0.1 -U postgres -q -v ON_ERROR_STOP=1"
$P -c "CREATE DATABASE $db" postgres
trap "$P -c 'DROP DATABASE IF EXISTS $db' postgres; rm -rf $tmp" EXIT
schema_old="CREATE TABLE receipt_epochs (epoch BIGINT PRIMARY KEY, root BYTEA NOT NULL, receipts INT NOT NULL, closed_at TIMESTAMPTZ NOT NULL DEFAULT now(), tx_hash TEXT, block_number BIGINT, anchored_at TIMESTAMPTZ, anchor_attempts INT NOT NULL DEFAULT 0, anchor_error TEXT);
CREATE TABLE receipts (request_id TEXT PRIMARY KEY, seq BIGSERIAL NOT NULL UNIQUE, leaf BYTEA NOT NULL CHECK (octet_length(leaf) = 32), body JSONB NOT NULL, recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(), epoch BIGINT REFERENCES receipt_epochs (epoch), tenant_id TEXT);
CREATE INDEX receipts_unassigned ON receipts (seq) WHERE epoch IS NULL; CREATE INDEX receipts_by_epoch ON receipts (epoch, seq);
CREATE INDEX receipt_epochs_unanchored ON receipt_epochs (epoch) WHERE tx_hash IS NULL;"
schema_new="$schema_old
ALTER TABLE receipts ALTER COLUMN body TYPE TEXT USING body::text; ALTER TABLE receipts DROP CONSTRAINT receipts_seq_key;
DROP INDEX receipts_by_epoch; CREATE INDEX receipts_by_epoch ON receipts (epoch) WHERE epoch IS NOT NULL;
ALTER TABLE receipt_epochs ADD COLUMN first_seq BIGINT, ADD COLUMN last_seq BIGINT; CREATE UNIQUE INDEX receipt_epochs_ranges ON receipt_epochs (last_seq) WHERE last_seq IS NOT NULL;"
# The receipts: bodies as Receipt.fieldsJson writes them for an add call (about 600 bytes), random request ids.
src="CREATE UNLOGGED TABLE src AS SELECT i, 'req-' || md5(i::text) AS id, decode(md5(i::text) || md5((i+1)::text), 'hex') AS leaf,
  json_build_object('format',1,'request_id','req-' || md5(i::text),'function','add','version',1,'model_sha256',repeat('ab',32),
  'input_sha256',md5(i::text) || md5(i::text),'output_sha256',md5((i+7)::text) || md5(i::text),'nodes',json_build_array('w1-1'),
  'evidence_json','{\"signature\":\"' || repeat('c2ln',22) || '\",\"workers\":[\"w1-1\"]}','verdict','','units',1,'charge_micro_usd',100,
  'answered_at_us',1796441937581003 + i)::text AS body FROM generate_series(1, $N) i; CREATE INDEX ON src (i); ANALYZE src;"
schema_text=$schema_new
for side in ${SIDES:-old text new}; do
  $P -c "DROP SCHEMA IF EXISTS s_$side CASCADE; CREATE SCHEMA s_$side" $db
  v=schema_$side
  $P -c "SET search_path = s_$side; ${!v}; $src" $db
  f=$tmp/$side.sql; echo "SET search_path = s_$side;" > $f
  echo "SELECT pg_backend_pid() AS pid, pg_current_wal_lsn() AS lsn0 \\gset" >> $f; echo "\\setenv PGPID :pid" >> $f
  echo "\\! cat /proc/\$PGPID/stat > $tmp/$side.stat0" >> $f
  closed=0
  for ((a = 1; a <= N; a += B)); do
    b=$((a + B - 1))
    if [ $side = old ]; then
      echo "INSERT INTO receipts (request_id, leaf, body, tenant_id) SELECT id, leaf, body::jsonb, 't' FROM src WHERE i BETWEEN $a AND $b ORDER BY i ON CONFLICT (request_id) DO NOTHING;" >> $f
    elif [ $side = text ]; then
      echo "INSERT INTO receipts (request_id, leaf, body, tenant_id) SELECT id, leaf, body, 't' FROM src WHERE i BETWEEN $a AND $b ORDER BY i ON CONFLICT (request_id) DO NOTHING;" >> $f
    else
      echo "BEGIN; SELECT pg_advisory_xact_lock_shared(2) \\g /dev/null" >> $f
      echo "INSERT INTO receipts (request_id, leaf, body, tenant_id) SELECT id, leaf, body, 't' FROM src WHERE i BETWEEN $a AND $b ORDER BY i ON CONFLICT (request_id) DO NOTHING; COMMIT;" >> $f
    fi
    if [ $((b / E)) -gt $closed ]; then # an epoch of E closes
      closed=$((closed + 1))
      if [ $side = old ]; then
        echo "BEGIN; SELECT pg_advisory_xact_lock(1) \\g /dev/null
SELECT array_agg(request_id) AS ids FROM (SELECT request_id, body FROM receipts WHERE epoch IS NULL ORDER BY seq LIMIT $E) t \\gset
INSERT INTO receipt_epochs (epoch, root, receipts) VALUES ($closed, '\\x00', $E);
UPDATE receipts SET epoch = $closed WHERE request_id = ANY(:'ids'::text[]); COMMIT;" >> $f
      elif [ $side = text ]; then
        echo "BEGIN; SELECT pg_advisory_xact_lock(1) \\g /dev/null
SELECT array_agg(request_id) AS ids FROM (SELECT request_id, leaf FROM receipts WHERE epoch IS NULL ORDER BY seq LIMIT $E) t \\gset
INSERT INTO receipt_epochs (epoch, root, receipts) VALUES ($closed, '\\x00', $E);
UPDATE receipts SET epoch = $closed WHERE request_id = ANY(:'ids'::text[]); COMMIT;" >> $f
      else
        echo "BEGIN; SELECT pg_advisory_xact_lock(2) \\g /dev/null
SELECT COALESCE(MAX(seq), 0) AS hi FROM receipts WHERE epoch IS NULL \\gset
COMMIT; BEGIN; SELECT pg_advisory_xact_lock(1) \\g /dev/null
SELECT min(seq) AS lo, max(seq) AS top FROM (SELECT request_id, leaf, seq FROM receipts WHERE epoch IS NULL AND seq > (SELECT COALESCE(MAX(last_seq), 0) FROM receipt_epochs) AND seq <= :hi ORDER BY seq LIMIT $E) t \\gset
INSERT INTO receipt_epochs (epoch, root, receipts, first_seq, last_seq) VALUES ($closed, '\\x00', $E, :lo, :top); COMMIT;" >> $f
      fi
    fi
  done
  echo "SELECT pg_current_wal_lsn() - :'lsn0'::pg_lsn AS wal \\gset" >> $f
  echo "\\! cat /proc/\$PGPID/stat > $tmp/$side.stat1" >> $f
  echo "\\echo wal :wal" >> $f
  echo "SELECT pg_current_wal_lsn() AS lsn0 \\gset" >> $f
  echo "\\! cat /proc/\$PGPID/stat > $tmp/$side.stat2" >> $f
  echo "VACUUM receipts;" >> $f
  echo "SELECT pg_current_wal_lsn() - :'lsn0'::pg_lsn AS vwal \\gset" >> $f
  echo "\\! cat /proc/\$PGPID/stat > $tmp/$side.stat3" >> $f
  echo "\\echo vacuum_wal :vwal" >> $f
  echo "SELECT pg_total_relation_size('receipts') AS size \\gset" >> $f
  echo "\\echo size :size" >> $f
  out=$($P -f $f $db)
  cpu() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "$1"; }
  c=$(( $(cpu $tmp/$side.stat1) - $(cpu $tmp/$side.stat0) )); v=$(( $(cpu $tmp/$side.stat3) - $(cpu $tmp/$side.stat2) ))
  wal=$(echo "$out" | awk '/^wal/ { print $2 }'); vwal=$(echo "$out" | awk '/^vacuum_wal/ { print $2 }'); size=$(echo "$out" | awk '/^size/ { print $2 }')
  awk -v s=$side -v n=$N -v c=$c -v v=$v -v w=$wal -v vw=$vwal -v z=$size 'BEGIN { printf "%s: per receipt: backend CPU %.1f us (+ VACUUM %.1f us), WAL %.0f bytes (+ VACUUM %.0f), table+indexes %.0f bytes\n", s, c * 10000 / n, v * 10000 / n, w / n, vw / n, z / n }'
done
