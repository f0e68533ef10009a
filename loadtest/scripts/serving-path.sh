#!/usr/bin/env bash
# Issue 11's table in one run: the serving path against a bare Vert.x 5 JSON echo, with the CPU each
# request (and each streamed token) costs the gateway and its workers, read from /proc (utime+stime of
# the gateway pid and of its descendants over the measured window), and the machine's PostgreSQL's (every process
# of the postgres user: db-us/u). Load generator: wrk (one thread,
# a Lua script for POST bodies), so the client takes as little of the two cores as possible.
#
#   NEW=. [OLD=/path/to/old-checkout] loadtest/scripts/serving-path.sh
#
# NEW (and OLD, optional: the builds side by side, in one run) are checkouts with engine/target/inferium.jar
# built; NEW also loadtest/target/inferium-loadtest.jar. Rows: echo at 1 and 32 connections; `add`
# unbatched at 1 and 32; issue 11's MLP 64-2048-2048-2048-64 in-process (ONNX Runtime, batch 64) vs the
# gateway batching to 64 with one row per request at 64 connections; tiny-gpt streaming (64 tokens per
# request, 4 connections): gateway CPU per token. Needs wrk, psql, curl and Debian's python3-onnx
# (/usr/bin/python3) for the MLP file. Loopback only. DURATION / WARMUP in seconds (default 8 / 2).
# GATEWAY_WARMUP (seconds, default 60): `add` at 32 connections on each gateway before the table, so that
# rows read steady state: on two cores the C2 compiler still takes about half the gateway's CPU for the
# first ~40 s of load (per-thread /proc ticks), which a short per-row warm-up would bill to requests.
# GPT_WARMUP (seconds, default 90): with the gpt rows, streams at 4 connections on each gateway after that, for the
# same reason (the streaming path is code `add` does not run).
# MLP_CONNS (default 64): connections for the MLP row (one row per request; with 64 closed-loop callers and one worker
# slot batches settle near 22 rows, so more callers than the batch size are needed for full batches).
# ROWS (default "add mlp gpt"): which rows to run (echo always runs with add). OUT: output folder
# (default /tmp/inferium-serving; give each concurrent run its own). SERVE_ARGS: extra `inferium serve`
# flags for both gateways (e.g. "--max-inflight 2"); SERVE_ARGS_OLD / SERVE_ARGS_NEW for one side only (with
# OLD=. NEW=. and one of them set: a setting side by side with the default, in one run). JAVA_OPTS / JAVA_OPTS_OLD /
# JAVA_OPTS_NEW: JVM options the same way (e.g. JAVA_OPTS_OLD=-Dinferium.benchmark.receiptsOff=true: receipts off on
# one side, the benchmark-only switch in Gateway).
# With OLD, each gateway row runs four times in the order OLD, NEW, NEW, OLD (ABBA) and the table shows each
# side's mean: whichever side is measured second reads up to 1.5x the CPU per unit of the first (round three),
# so a fixed order would bill the position to a build. runs.txt keeps every single run.
set -euo pipefail
NEW=$(cd "${NEW:-.}" && pwd)
OLD=${OLD:+$(cd "$OLD" && pwd)}
D=${DURATION:-8}; W=${WARMUP:-2}; GW=${GATEWAY_WARMUP:-60}; GPT_W=${GPT_WARMUP:-90}; ROWS=${ROWS:-add mlp gpt}
MC=${MLP_CONNS:-64}
row() { case " $ROWS " in *" $1 "*) return 0;; *) return 1;; esac; }
out=${OUT:-/tmp/inferium-serving}; rm -rf "$out"; mkdir -p "$out"
LT=(java -Xss8m -jar "$NEW/loadtest/target/inferium-loadtest.jar")
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)"; exit 2; }
pids=() dbs=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
  for db in "${dbs[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

. "$(dirname "$0")/bench-lib.sh"

# order: the sides in measuring order, OLD NEW NEW OLD when both run (each run numbered NAME.1, NAME.2).
order() { if [ -n "$OLD" ]; then echo "OLD.1 NEW.1 NEW.2 OLD.2"; else echo "NEW.1"; fi; }

start_gateway() { # SIDE DIR PORT: starts a gateway, deploys add, the MLP and tiny-gpt; echoes its pid
  local side=$1 dir=$2 port=$3 db=inferium_sp_$(echo "$1" | tr A-Z a-z)_$$
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
  dbs+=("$db")
  INFERIUM_ADMIN_KEY=spkey-$side java -Xss8m ${JAVA_OPTS:-} $(eval echo "\${JAVA_OPTS_$side:-}") -jar "$dir/engine/target/inferium.jar" serve --port "$port" \
    --data-dir "$out/data-$side" --db-url "postgresql://postgres@127.0.0.1:5432/$db" --workers 1 \
    --worker-slots 1 --worker-threads 2 ${SERVE_ARGS:-} $(eval echo "\${SERVE_ARGS_$side:-}") > "$out/serve-$side.log" 2>&1 &
  pids+=($!)
  eval "pid_$side=$!"
}

deploy() { # SIDE PORT
  local side=$1 port=$2 auth="Authorization: Bearer spkey-$1" gpt=$NEW/functions/src/main/resources/models/tiny-gpt
  for i in $(seq 1 180); do curl -sf "localhost:$port/v2/health/ready" >/dev/null && break; sleep 1; done
  curl -sf "localhost:$port/api/functions" -H "$auth" -F 'spec={"name":"add","batching":{"max_batch_size":0}}' \
    -F "model=@$NEW/functions/src/test/resources/models/add.onnx" >/dev/null
  curl -sf "localhost:$port/api/functions" -H "$auth" -F 'spec={"name":"mlp","batching":{"max_batch_size":64}}' \
    -F "model=@$out/mlp-wide.onnx" >/dev/null
  curl -sf "localhost:$port/api/functions" -H "$auth" \
    -F 'spec={"name":"gpt","kind":"text-generation","text":{"max_running_sequences":8}}' \
    -F "model=@$gpt/model.onnx" -F "tokenizer=@$gpt/tokenizer.json" -F "tokenizer_config=@$gpt/tokenizer_config.json" \
    -F "generation_config=@$gpt/generation_config.json" >/dev/null
  for f in add mlp gpt; do
    for i in $(seq 1 180); do curl -s "localhost:$port/api/functions/$f" -H "$auth" | grep -q '"ready"' && break; sleep 1; done
  done
}

/usr/bin/python3 "$NEW/loadtest/src/main/python/make_mlp.py" --wide "$out/mlp-wide.onnx"
echo '{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"FP32","data":[10,20,30,40]}]}' > "$out/add.json"
python3 -c 'import json; print(json.dumps({"inputs":[{"name":"x","shape":[1,64],"datatype":"FP32","data":[((i*37)%100)/100.0 for i in range(64)]}]}))' > "$out/mlp.json"
echo '{"model":"gpt","prompt":"Licensed under the Apache License","max_tokens":64,"temperature":0,"stream":true}' > "$out/gpt.json"

sides="NEW"; [ -n "$OLD" ] && sides="OLD NEW"
port_OLD=18101; port_NEW=18102
for side in $sides; do
  dir=$([ "$side" = OLD ] && echo "$OLD" || echo "$NEW"); port=$(eval echo "\$port_$side")
  start_gateway "$side" "$dir" "$port"
done
"${LT[@]}" echo --port 18100 > "$out/echo.log" 2>&1 &
pids+=($!); pid_ECHO=$!
for side in $sides; do deploy "$side" "$(eval echo "\$port_$side")"; done
for side in $sides; do
  [ "$GW" -gt 0 ] && BODY=$out/add.json KEY=spkey-$side wrk -t1 -c32 -d"${GW}s" -s "$out/post.lua" \
    "http://127.0.0.1:$(eval echo "\$port_$side")/v2/models/add/infer" >/dev/null 2>&1 || true
  # The streaming path is code `add` never runs: warmed on its own, or its C2 compilation lands in the gpt rows
  # (27 % of the gateway's CPU per token after 40 s of streams, 5 % after 150 s: stream-profile.sh, eighth session).
  row gpt && [ "$GPT_W" -gt 0 ] && BODY=$out/gpt.json KEY=spkey-$side wrk -t1 -c4 -d"${GPT_W}s" -s "$out/post.lua" \
    "http://127.0.0.1:$(eval echo "\$port_$side")/v1/completions" >/dev/null 2>&1 || true
done

echo "name     conns     req/s  p50(ms)  p99(ms) server-us/u worker-us/u non2xx   units/s   db-us/u" | tee "$out/runs.txt" > "$out/results.txt"
for c in 1 32; do
  row add || continue
  measure echo "$pid_ECHO" http://127.0.0.1:18100/echo "$out/add.json" "" "$c"
  combine echo "$c"
  for run in $(order); do
    side=${run%.*}
    measure "add-$run" "$(eval echo "\$pid_$side")" "http://127.0.0.1:$(eval echo "\$port_$side")/v2/models/add/infer" \
      "$out/add.json" "spkey-$side" "$c"
  done
  for side in $sides; do combine "add-$side" "$c"; done
done
# batchstat SIDE: "sum count" of the MLP's inferium_batch_size (rows per batch sent to a worker) so far.
batchstat() {
  curl -s "localhost:$(eval echo "\$port_$1")/metrics" -H "Authorization: Bearer spkey-$1" |
    awk '/^inferium_batch_size(_rows)?_(sum|count)\{.*function="mlp"/ { if ($1 ~ /_sum/) s = $2; else c = $2 } END { print s + 0, c + 0 }'
}
if row mlp; then
  for side in $sides; do eval "b0_$side=\"$(batchstat "$side")\""; done
  for run in $(order); do
    side=${run%.*}
    measure "mlp-$run" "$(eval echo "\$pid_$side")" "http://127.0.0.1:$(eval echo "\$port_$side")/v2/models/mlp/infer" \
      "$out/mlp.json" "spkey-$side" "$MC"
  done
  for side in $sides; do
    combine "mlp-$side" "$MC"
    echo "$(eval echo "\$b0_$side") $(batchstat "$side")" | awk -v s="$side" '{ n = $4 - $2
      printf "MLP %s: %.1f rows per batch (%d batches, warm-ups and measured windows)\n", s, (n > 0 ? ($3 - $1) / n : 0), n }' |
      tee -a "$out/batches.txt"
  done
fi
if row gpt; then
  for run in $(order); do
    side=${run%.*}
    measure "gpt-$run" "$(eval echo "\$pid_$side")" "http://127.0.0.1:$(eval echo "\$port_$side")/v1/completions" \
      "$out/gpt.json" "spkey-$side" 4 64
  done
  for side in $sides; do combine "gpt-$side" 4; done
fi
row mlp && "${LT[@]}" ceiling --model-file "$out/mlp-wide.onnx" --width 64 --batch 64 --seconds "$D" > "$out/ceiling.txt" 2>&1 || true
ort=$(awk '/best_rows_per_s/ { print $2 }' "$out/ceiling.txt" 2>/dev/null || true)
echo "ONNX Runtime in-process, MLP batch 64: ${ort:-?} rows/s" | tee -a "$out/results.txt"
echo; echo "Means per side (ABBA when OLD is given; every run in runs.txt):"; cat "$out/results.txt"

echo; echo "Targets (same run):"
awk -v ort="${ort:-0}" -v sides="$sides" -v mc="$MC" '
  { rps[$1 "@" $2] = $3; p50[$1 "@" $2] = $4; gus[$1 "@" $2] = $6; ups[$1 "@" $2] = $9 }
  END {
    n = split(sides, s, " ")
    for (i = 1; i <= n; i++) {
      x = s[i]
      if (rps["echo@32"] > 0 && gus["echo@32"] > 0) {
        printf "%s: add@32 / echo@32 req/s = %.2f (target >= 0.35)\n", x, rps["add-" x "@32"] / rps["echo@32"]
        printf "%s: gateway CPU per request @32 / echo CPU per request = %.2f (target <= 2.5)\n", x, gus["add-" x "@32"] / gus["echo@32"]
        printf "%s: added p50 at 1 connection = %.2f ms (target <= 0.3)\n", x, p50["add-" x "@1"] - p50["echo@1"]
      }
      if (ort > 0 && ("mlp-" x "@" mc) in ups) printf "%s: MLP gateway / in-process rows/s = %.2f at %d connections (target >= 0.8)\n", x, ups["mlp-" x "@" mc] / ort, mc
      if (("gpt-" x "@4") in gus) printf "%s: gateway CPU per streamed token = %.1f us (target <= 10)\n", x, gus["gpt-" x "@4"]
    }
  }' "$out/results.txt" | tee "$out/targets.txt"
echo "Written: $out/results.txt (means), runs.txt (each run), targets.txt, wrk outputs"
