#!/usr/bin/env bash
# Side by side: two builds of the gateway (A = OLD, B = NEW: checkouts whose engine/target/inferium.jar
# is built), both up at once on the machine's PostgreSQL (separate databases), one worker each, the
# `add` model unbatched, V2 JSON, closed loop at 1 and 16 callers, rounds alternating A and B
# (ORDER="B A" to swap) so both see the same machine noise. Loopback only.
#   OLD=/path/to/old-checkout NEW=. loadtest/scripts/side-by-side.sh
set -euo pipefail
pids=() dbs=()
: "${OLD:?checkout of the baseline, with engine/target/inferium.jar built}"
NEW=$(cd "${NEW:-.}" && pwd)
out=${OUT:-/tmp/inferium-side-by-side}; rm -rf $out; mkdir -p $out
for side in A B; do
  dir=$([ $side = A ] && echo $OLD || echo $NEW)
  port=$([ $side = A ] && echo 18081 || echo 18082)
  db=inferium_ab_$(echo $side | tr A-Z a-z)_$$
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
  INFERIUM_ADMIN_KEY=abkey-$side java -Xss8m -jar $dir/engine/target/inferium.jar serve --port $port \
     --data-dir $out/data-$side --db-url postgresql://postgres@127.0.0.1:5432/$db --workers 1 > $out/serve-$side.log 2>&1 &
  pids+=($!) dbs+=($db)
done
for side in A B; do
  port=$([ $side = A ] && echo 18081 || echo 18082)
  for i in $(seq 1 120); do curl -sf localhost:$port/v2/health/ready >/dev/null && break; sleep 1; done
  curl -s localhost:$port/api/functions -H "Authorization: Bearer abkey-$side" \
    -F 'spec={"name":"add","batching":{"max_batch_size":0}}' -F model=@$NEW/functions/src/test/resources/models/add.onnx; echo
  for i in $(seq 1 120); do curl -s localhost:$port/api/functions/add -H "Authorization: Bearer abkey-$side" | grep -q '"ready"' && break; sleep 1; done
done
body='{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"FP32","data":[10,20,30,40]}]}'
echo "$body" > $out/body.json
for round in 1 2 3 4; do
  for side in ${ORDER:-A B}; do
    port=$([ $side = A ] && echo 18081 || echo 18082)
    java -Xss8m -jar $NEW/loadtest/target/inferium-loadtest.jar run --url http://127.0.0.1:$port --key abkey-$side \
      --function add --body=@$out/body.json --concurrency 1,16 --warmup 1 --duration 5 --out $out/r$round-$side > $out/r$round-$side.txt 2>&1 || true
    echo "round $round $side"; grep -E "^ *[0-9]+ " $out/r$round-$side.txt | head -4 || tail -5 $out/r$round-$side.txt
  done
done
kill "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
for db in "${dbs[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres || true; done
