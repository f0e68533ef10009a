#!/usr/bin/env bash
# Image classification throughput with batching on and off, side by side: starts the gateway of checkout DIR on
# PORT (the machine's PostgreSQL, one worker), deploys the demo's `shapes` classifier twice — `shapes-batched`
# (max_batch_size 32) and `shapes-single` (max_batch_size 0: every request runs alone) — and drives each with wrk,
# C connections posting the demo's sample PNG to /api/functions/<name>/predict for SECONDS seconds, in the order
# batched, single, batched, single (ABAB, so drift on a shared machine hits both). Prints wrk's requests/s and
# latency per run, and the mean rows per batch the gateway's metrics saw.
#
#   flock /work/bench.lock loadtest/scripts/image-batching.sh DIR [PORT] [C] [SECONDS]
#
# Needs engine/target/inferium.jar and inferium-node.jar in DIR (`mvn -o -q -DskipTests package -pl engine -am`).
set -euo pipefail
DIR=$(cd "$1" && pwd); PORT=${2:-18151}; C=${3:-32}; SECONDS_EACH=${4:-10}
out=$(mktemp -d); db=inferium_img_$$; key=imgbench-admin-key
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
INFERIUM_ADMIN_KEY=$key java -Xss8m ${JOPTS:-} -jar "$DIR/engine/target/inferium.jar" serve --port "$PORT" \
  --data-dir "$out/data" --db-url "postgresql://postgres@127.0.0.1:5432/$db" --workers 1 > "$out/serve.log" 2>&1 &
gp=$!
trap 'kill $gp 2>/dev/null; wait $gp 2>/dev/null || true; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres; rm -rf "$out"' EXIT
for i in $(seq 1 180); do curl -sf "localhost:$PORT/v2/health/ready" >/dev/null && break; sleep 1; done
U=http://127.0.0.1:$PORT
PNG=$DIR/engine/src/main/resources/demo/shapes-sample.png
MODEL=$DIR/engine/src/main/resources/demo/shapes.onnx
PRE='"preprocess":{"size":20,"channels":"rgb","layout":"NCHW","mean":[0.5,0.5,0.5],"std":[0.5,0.5,0.5]},"postprocess":{"labels":["circle","square","triangle"],"top_k":3,"softmax":true}'
for fn in "shapes-batched 32" "shapes-single 0"; do
  set -- $fn
  curl -sf "$U/api/functions" -H "Authorization: Bearer $key" \
    -F "spec={\"name\":\"$1\",\"kind\":\"image-classifier\",$PRE,\"batching\":{\"max_batch_size\":$2}}" -F "model=@$MODEL" >/dev/null
  for i in $(seq 1 120); do
    state=$(curl -sf "$U/api/functions/$1" -H "Authorization: Bearer $key" | grep -o '"state":"[a-z]*"' | head -1)
    [[ "$state" == '"state":"ready"' ]] && break; sleep 1
  done
  curl -sf "$U/api/functions/$1/predict" -H "Authorization: Bearer $key" -H 'Content-Type: image/png' --data-binary "@$PNG" >/dev/null
done
cat > "$out/post.lua" <<EOF
local f = assert(io.open("$PNG", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/png"
wrk.headers["Authorization"] = "Bearer $key"
EOF
rows() { curl -sf "$U/metrics" -H "Authorization: Bearer $key" | awk -v f="$1" '
  $0 ~ "^inferium_batch_size_rows_(sum|count)" && $0 ~ "function=\"" f "\"" { if ($0 ~ /_sum/) s = $NF; else c = $NF }
  END { printf "%.0f %.0f\n", s, c }'; }
for fn in shapes-batched shapes-single shapes-batched shapes-single; do
  read -r s0 c0 < <(rows $fn)
  echo "== $fn, $C connections, ${SECONDS_EACH}s"
  wrk -t2 -c"$C" -d"${SECONDS_EACH}s" --latency -s "$out/post.lua" "$U/api/functions/$fn/predict" \
    | grep -E 'Requests/sec|Non-2xx|^ +(50|99)%'
  read -r s1 c1 < <(rows $fn)
  awk -v s=$((s1 - s0)) -v c=$((c1 - c0)) 'BEGIN { if (c > 0) printf "  mean rows per batch %.1f (%d batches)\n", s / c, c }'
done
