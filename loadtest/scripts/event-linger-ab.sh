#!/usr/bin/env bash
# The event log's consumer linger measured alone, in one build: two gateways up at once, one with
# -Dinferium.events.lingerMs=$A_MS (default 0; port 18220), one with $B_MS (default 100, the default; 18221); `add` unbatched, 45 s of
# warm-up at 32 connections each, then two alternating rounds of 15 s at 1 and 32 connections. Prints
# req/s, p50 and the gateway pid's CPU (utime+stime from /proc) per request. Needs wrk, psql, curl and
# engine/target/inferium.jar; run from the repository root.
set -euo pipefail
JAR=${JAR:-engine/target/inferium.jar}
out=${OUT:-/tmp/inferium-linger-ab}; rm -rf "$out"; mkdir -p "$out"
echo '{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"FP32","data":[10,20,30,40]}]}' > "$out/add.json"
cat > "$out/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$out/add.json", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer k"
LUA
pids=() dbs=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
  for d in "${dbs[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $d" postgres >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
linger() { [ "$1" = 18220 ] && echo "${A_MS:-0}" || echo "${B_MS:-100}"; }
for p in 18220 18221; do
  db=inferium_linger_${p}_$$; dbs+=("$db")
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
  INFERIUM_ADMIN_KEY=k java -Xss8m -Dinferium.events.lingerMs="$(linger $p)" -jar "$JAR" serve --port $p \
    --data-dir "$out/data-$p" --db-url "postgresql://postgres@127.0.0.1:5432/$db" --workers 1 --worker-slots 1 \
    --worker-threads 2 > "$out/serve-$p.log" 2>&1 &
  pids+=($!); eval "pid_$p=$!"
done
for p in 18220 18221; do
  for i in $(seq 1 180); do curl -sf localhost:$p/v2/health/ready >/dev/null && break; sleep 1; done
  curl -sf localhost:$p/api/functions -H "Authorization: Bearer k" -F 'spec={"name":"add","batching":{"max_batch_size":0}}' \
    -F "model=@functions/src/test/resources/models/add.onnx" >/dev/null
  for i in $(seq 1 180); do curl -s localhost:$p/api/functions/add -H "Authorization: Bearer k" | grep -q '"ready"' && break; sleep 1; done
done
for p in 18220 18221; do wrk -t1 -c32 -d45s -s "$out/post.lua" http://127.0.0.1:$p/v2/models/add/infer >/dev/null; done
ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); t += f[12] + f[13] } END { print t + 0 }' /proc/$1/stat; }
for round in 1 2; do for c in 1 32; do for p in 18220 18221; do
  pid=$(eval echo "\$pid_$p"); g0=$(ticks "$pid")
  wrk -t1 -c$c -d15s --latency -s "$out/post.lua" http://127.0.0.1:$p/v2/models/add/infer > "$out/wrk.txt"
  g1=$(ticks "$pid"); n=$(awk '/requests in/ {print $1}' "$out/wrk.txt"); p50=$(awk '/^ +50%/ {print $2}' "$out/wrk.txt")
  echo "round=$round c=$c linger_ms=$(linger $p) req/s=$((n / 15)) p50=$p50 gateway_us_per_req=$(( (g1 - g0) * 10000 / n ))"
done; done; done
