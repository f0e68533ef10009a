#!/usr/bin/env bash
# Issue 12's benchmark in one run: the same functions served by 3 local workers (gateway LOCAL, `--workers 3`) and by
# 3 `inferium-node` processes of 3 operators over the node port, TLS with the certificate pinned (gateway NET,
# `--no-local-workers`), side by side: both gateways up at once on the machine's PostgreSQL (separate databases), rows
# measured in the order LOCAL, NET, NET, LOCAL (ABBA; each side's mean in the table, every run in runs.txt). With
# NETNS=1 (the default; needs root) each node runs in its own network namespace with a veth pair and reaches the
# gateway only by IP (10.231.N.1, the node at 10.231.N.2); NETNS=0 keeps them on loopback. Every namespace and link
# made here is removed on exit. Load generator wrk (one thread); helpers from bench-lib.sh (as serving-path.sh).
#
#   [NEW=.] loadtest/scripts/network-vs-local.sh
#
# NEW: a checkout with engine/target/inferium.jar and engine/target/inferium-node.jar built. Rows: `add` unbatched at
# 1 and 32 connections; the committed benchmark MLP (256-512-512-10, loadtest/src/main/resources/models/mlp.onnx)
# with batching up to 64 at 64 connections. Columns as serving-path.sh: server-us/u is the gateway's CPU per request
# (its pid only), worker-us/u the workers' (LOCAL: the gateway's descendants; NET: the node processes). Both sides get
# the same per-worker terms: 1 slot, 1 ONNX Runtime thread, 4 calls in flight (NET: `--credits 4`, granted up to the
# gateway's `--max-inflight` 4), and the same process terms: a local worker runs at nice 5 with -Xmx1g and the serial
# GC, so each node does too (a node at nice 0 beside niced workers would win CPU on a busy machine, not on its link).
# DURATION / WARMUP (s, default 8 / 2); GATEWAY_WARMUP (s, default 30: each row's function at 32 connections on each
# side first, so the rows read steady state after C2 compilation in the gateways and the nodes); ROWS (default
# "add mlp"); OUT (default /tmp/inferium-network).
set -euo pipefail
NEW=$(cd "${NEW:-.}" && pwd)
D=${DURATION:-8}; W=${WARMUP:-2}; GW=${GATEWAY_WARMUP:-30}; ROWS=${ROWS:-add mlp}; NETNS=${NETNS:-1}
row() { case " $ROWS " in *" $1 "*) return 0;; *) return 1;; esac; }
out=${OUT:-/tmp/inferium-network}; rm -rf "$out"; mkdir -p "$out"
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)"; exit 2; }
[ "$NETNS" = 1 ] && [ "$(id -u)" != 0 ] && { echo "NETNS=1 needs root (ip netns); run as root or with NETNS=0"; exit 2; }
. "$(dirname "$0")/bench-lib.sh"
NODES=3 NODE_PORT=18443 port_LOCAL=18201 port_NET=18202
pids=() dbs=() nss=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
  for db in "${dbs[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres >/dev/null 2>&1 || true; done
  for i in "${nss[@]}"; do ip link del "ib-h$i" 2>/dev/null || true; ip netns del "inferium-bench-$i" 2>/dev/null || true; done
}
trap cleanup EXIT

# netns N: namespace inferium-bench-N with the node end of a veth pair (10.231.N.2/30); the host end 10.231.N.1.
netns() {
  local i=$1 ns=inferium-bench-$1
  ip netns del "$ns" 2>/dev/null || true; ip link del "ib-h$i" 2>/dev/null || true
  nss+=("$i")
  ip netns add "$ns"
  ip link add "ib-h$i" type veth peer name "ib-n$i"
  ip link set "ib-n$i" netns "$ns"
  ip addr add "10.231.$i.1/30" dev "ib-h$i"; ip link set "ib-h$i" up
  ip -n "$ns" addr add "10.231.$i.2/30" dev "ib-n$i"; ip -n "$ns" link set "ib-n$i" up; ip -n "$ns" link set lo up
}

start_gateway() { # SIDE FLAGS...: a gateway on its own database; sets pid_SIDE
  local side=$1; shift
  local db=inferium_nl_$(echo "$side" | tr A-Z a-z)_$$ port; port=$(eval echo "\$port_$side")
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
  dbs+=("$db")
  INFERIUM_ADMIN_KEY=nlkey-$side java -Xss8m -jar "$NEW/engine/target/inferium.jar" serve --port "$port" \
    --data-dir "$out/data-$side" --db-url "postgresql://postgres@127.0.0.1:5432/$db" --worker-slots 1 --worker-threads 1 \
    --max-inflight 4 "$@" > "$out/serve-$side.log" 2>&1 &
  pids+=($!)
  eval "pid_$side=$!"
  # live, not ready: NET has no worker until its nodes join
  for i in $(seq 1 180); do curl -sf "localhost:$port/v2/health/live" >/dev/null && return 0; sleep 1; done
  echo "gateway $side did not become ready (see $out/serve-$side.log)"; exit 1
}

api() { # SIDE METHOD PATH [BODY]
  curl -sf -X "$2" "localhost:$(eval echo "\$port_$1")$3" -H "Authorization: Bearer nlkey-$1" \
    ${4:+-H 'Content-Type: application/json' -d "$4"}
}

deploy() { # SIDE
  local auth="Authorization: Bearer nlkey-$1" port; port=$(eval echo "\$port_$1")
  curl -sf "localhost:$port/api/functions" -H "$auth" -F 'spec={"name":"add","batching":{"max_batch_size":0}}' \
    -F "model=@$NEW/functions/src/test/resources/models/add.onnx" >/dev/null
  curl -sf "localhost:$port/api/functions" -H "$auth" -F 'spec={"name":"mlp","batching":{"max_batch_size":64}}' \
    -F "model=@$NEW/loadtest/src/main/resources/models/mlp.onnx" >/dev/null
  for f in add mlp; do
    for i in $(seq 1 180); do curl -s "localhost:$port/api/functions/$f" -H "$auth" | grep -q '"ready"' && break; sleep 1; done
  done
}

echo '{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"FP32","data":[10,20,30,40]}]}' > "$out/add.json"
python3 -c 'import json; print(json.dumps({"inputs":[{"name":"x","shape":[1,256],"datatype":"FP32","data":[((i*37)%100)/100.0 for i in range(256)]}]}))' > "$out/mlp.json"

start_gateway LOCAL --workers "$NODES"
start_gateway NET --no-local-workers --node-port "$NODE_PORT" --node-host 0.0.0.0
fingerprint=$(cat "$out/data-NET/node-tls/fingerprint")
node_pids=""
for i in $(seq 1 "$NODES"); do
  dir=$out/node-$i; mkdir -p "$dir"
  api NET POST /api/operator-keys "{\"name\":\"bench-op-$i\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' > "$dir/operator.key"
  chmod 600 "$dir/operator.key"
  run=() host=127.0.0.1
  if [ "$NETNS" = 1 ]; then netns "$i"; run=(ip netns exec "inferium-bench-$i"); host=10.231.$i.1; fi
  # As a local worker runs (WorkerSandbox, SupervisorSettings): nice 5, 1 GiB heap, serial GC; only the link differs.
  "${run[@]}" nice -n 5 java -Xss8m -Xmx1g -XX:+UseSerialGC -jar "$NEW/engine/target/inferium-node.jar" node --gateway "$host:$NODE_PORT" \
    --operator-key "$dir/operator.key" --gateway-fingerprint "$fingerprint" --data-dir "$dir" --label "bench-$i" \
    --slots 1 --threads 1 --credits 4 > "$dir/node.log" 2>&1 &
  pids+=($!); node_pids="$node_pids $!"
done
# Each node connected (from its namespace's address when NETNS=1), then staked to the gateway's minimum.
for i in $(seq 1 120); do
  n=$(api NET GET /api/nodes | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin)["nodes"] if n.get("remote") and n.get("connection") == "connected"))')
  [ "$n" -ge "$NODES" ] && break; sleep 1
done
api NET GET /api/nodes | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n.get("remote"):
        print(n["node_id"], n.get("connection"), n.get("operator"), n.get("tier"))' | tee "$out/nodes.txt"
echo "node port peers:"; ss -tnH state established "( sport = :$NODE_PORT )" | awk '{ print "  " $4 " -> " $3 }' | tee "$out/peers.txt"
for id in $(awk '{ print $1 }' "$out/nodes.txt"); do api NET POST "/api/nodes/$id/stake" '{"amount_micro_usd":1000000}' >/dev/null; done
[ "$(wc -l < "$out/nodes.txt")" -ge "$NODES" ] || { echo "only $(wc -l < "$out/nodes.txt") nodes connected"; exit 1; }
deploy LOCAL; deploy NET
workers_of() { if [ "$1" = NET ]; then for p in $node_pids; do echo "$p"; descendants "$p"; done | tr '\n' ' '; fi; }
for side in LOCAL NET; do
  for fn in add mlp; do
    row "$fn" && [ "$GW" -gt 0 ] && BODY=$out/$fn.json KEY=nlkey-$side wrk -t1 -c32 -d"${GW}s" -s "$out/post.lua" \
      "http://127.0.0.1:$(eval echo "\$port_$side")/v2/models/$fn/infer" >/dev/null 2>&1 || true
  done
done

echo "name     conns     req/s  p50(ms)  p99(ms) server-us/u worker-us/u non2xx   units/s   db-us/u" | tee "$out/runs.txt" > "$out/results.txt"
rows=(); row add && rows+=("add 1" "add 32"); row mlp && rows+=("mlp 64")
for r in "${rows[@]}"; do
  set -- $r; fn=$1 c=$2
  for run in LOCAL.1 NET.1 NET.2 LOCAL.2; do
    side=${run%.*}
    WORKER_PIDS=$(workers_of "$side") measure "$fn-$run" "$(eval echo "\$pid_$side")" \
      "http://127.0.0.1:$(eval echo "\$port_$side")/v2/models/$fn/infer" "$out/$fn.json" "nlkey-$side" "$c"
  done
  for side in LOCAL NET; do combine "$fn-$side" "$c"; done
done
# Who served: calls per node on NET (every node should have worked), and the MLP's rows per batch on each side.
api NET GET /api/nodes | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n.get("remote"):
        print("NET node", n["node_id"], "connection", n.get("connection"), "reported", json.dumps(n.get("reported")))' | tee "$out/served.txt"
for side in LOCAL NET; do
  curl -s "localhost:$(eval echo "\$port_$side")/metrics" -H "Authorization: Bearer nlkey-$side" |
    awk -v s="$side" '/^inferium_batch_size(_rows)?_(sum|count)\{.*function="mlp"/ { if ($1 ~ /_sum/) t = $2; else n = $2 }
      END { if (n > 0) printf "MLP %s: %.1f rows per batch (%d batches, warm-ups included)\n", s, t / n, n }' | tee -a "$out/batches.txt"
done
echo; echo "Means per side (ABBA; every run in runs.txt; nodes $([ "$NETNS" = 1 ] && echo "in network namespaces over veth" || echo "on loopback")):"
cat "$out/results.txt"
echo; echo "NET / LOCAL (same run):"
awk 'NR > 1 { k = $1; sub(/-(LOCAL|NET)$/, "", k); side = ($1 ~ /-NET$/) ? "NET" : "LOCAL"; rps[k "@" $2, side] = $3; p50[k "@" $2, side] = $4
       p99[k "@" $2, side] = $5; g[k "@" $2, side] = $6; w[k "@" $2, side] = $7; keys[k "@" $2] = 1 }
     END { for (k in keys) if (rps[k, "LOCAL"] > 0 && g[k, "LOCAL"] > 0 && rps[k, "NET"] > 0)
       printf "%-8s req/s %.2fx  p50 %+.2f ms  p99 %+.2f ms  gateway CPU/request %.2fx  worker CPU/request %.2fx\n", k,
         rps[k, "NET"] / rps[k, "LOCAL"], p50[k, "NET"] - p50[k, "LOCAL"], p99[k, "NET"] - p99[k, "LOCAL"],
         g[k, "NET"] / g[k, "LOCAL"], (w[k, "LOCAL"] > 0 ? w[k, "NET"] / w[k, "LOCAL"] : 0) }' "$out/results.txt" |
  sort | tee "$out/ratios.txt"
echo "Written: $out/results.txt (means), runs.txt (each run), ratios.txt, nodes.txt, served.txt, wrk outputs"
