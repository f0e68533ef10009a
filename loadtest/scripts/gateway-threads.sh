#!/usr/bin/env bash
# Where a gateway's CPU goes per request, by thread: starts the gateway of checkout DIR on PORT (the machine's
# PostgreSQL, one worker), deploys `add` unbatched, drives it at 32 connections for WARMUP seconds (default 50),
# then reads every thread's utime+stime and context switches from /proc/<pid>/task/* before and after
# DURATION seconds (default 15) more, and prints µs and context switches per request per thread name, and the CPU of
# every process of the postgres user over the same window (a shared PostgreSQL counts other databases' work too).
#
#   loadtest/scripts/gateway-threads.sh DIR [PORT]
#
# SYSCALLS=DIR: afterwards, 6 s more of load with 5 s of it under `perf trace -s` (DIR/trace.txt): each thread's
# system calls per request and their mean time (DIR/per-request.txt); needs perf (Debian: linux-perf).
# JOPTS: extra JVM options for the gateway (e.g. a JFR recording: -XX:StartFlightRecording=delay=50s,duration=15s,...).
# The worker process's threads are listed the same way below the gateway's. WORKER_JFR=FILE: a JFR recording of the
# worker over the measured window, started with jcmd (WORKER_JFC: its settings, default the JDK's "profile").
set -euo pipefail
DIR=$(cd "$1" && pwd); PORT=${2:-18131}; W=${WARMUP:-50}; D=${DURATION:-15}
out=$(mktemp -d); db=inferium_threads_$$
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
INFERIUM_ADMIN_KEY=spkey java -Xss8m ${JOPTS:-} -jar "$DIR/engine/target/inferium.jar" serve --port "$PORT" --data-dir "$out/data" \
  --db-url "postgresql://postgres@127.0.0.1:5432/$db" --workers 1 --worker-slots 1 --worker-threads 2 > "$out/serve.log" 2>&1 &
gp=$!
trap 'kill $gp 2>/dev/null; wait $gp 2>/dev/null || true; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres; rm -rf "$out"' EXIT
auth="Authorization: Bearer spkey"
for i in $(seq 1 180); do curl -sf "localhost:$PORT/v2/health/ready" >/dev/null && break; sleep 1; done
curl -sf "localhost:$PORT/api/functions" -H "$auth" -F 'spec={"name":"add","batching":{"max_batch_size":0}}' \
  -F "model=@$DIR/functions/src/test/resources/models/add.onnx" >/dev/null
for i in $(seq 1 180); do curl -s "localhost:$PORT/api/functions/add" -H "$auth" | grep -q '"ready"' && break; sleep 1; done
echo '{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"FP32","data":[10,20,30,40]}]}' > "$out/add.json"
# post.lua and pgticks (every process of the postgres user: the database's share per request) are the serving
# benchmarks' own; KEY is the bearer token post.lua sends.
. "$(dirname "$0")/bench-lib.sh"
export KEY=spkey
url="http://127.0.0.1:$PORT/v2/models/add/infer"
BODY=$out/add.json wrk -t1 -c32 -d"${W}s" -s "$out/post.lua" "$url" >/dev/null 2>&1 || true
snap() { # PID: thread name (digits dropped), CPU ticks, context switches
  for t in /proc/$1/task/*; do
    s=$(cat "$t/stat" 2>/dev/null) || continue; n=$(cat "$t/comm"); s=${s#*) }; set -- $s
    echo "${n//[0-9]/} $((${12} + ${13})) $(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t/status")"
  done | awk '{ c[$1] += $2; x[$1] += $3 } END { for (k in c) print k, c[k], x[k] }' | sort
}
# The worker: of the gateway's java descendants (the pool worker, a standby), the one that has used the most CPU.
wp=$(for c in $(descendants "$gp"); do [ "$(cat /proc/$c/comm 2>/dev/null)" = java ] && echo "$(ticks "$c") $c"; done |
  sort -rn | awk 'NR == 1 { print $2 }')
snap "$gp" > "$out/t0"; [ -n "$wp" ] && snap "$wp" > "$out/w0"; pg0=$(pgticks)
if [ -n "${WORKER_JFR:-}" ] && [ -n "$wp" ]; then
  jcmd "$wp" JFR.start name=wt settings="${WORKER_JFC:-profile}" duration="${D}s" filename="$WORKER_JFR" >/dev/null \
    || echo "jcmd could not attach to the worker ($wp): no worker JFR" >&2
fi
BODY=$out/add.json wrk -t1 -c32 -d"${D}s" -s "$out/post.lua" "$url" > "$out/wrk.txt" 2>&1 || true
snap "$gp" > "$out/t1"; [ -n "$wp" ] && snap "$wp" > "$out/w1"; pg1=$(pgticks)
n=$(awk '/requests in/ { print $1 }' "$out/wrk.txt")
echo "$n requests, $(awk '/^Requests\/sec/ { print $2 }' "$out/wrk.txt") req/s"
per_thread() { # BEFORE AFTER: each thread's µs and context switches per request
  join "$1" "$2" | awk -v n="$n" '{ d = $4 - $2; cs = $5 - $3; tot += d; tcs += cs
    if (d > 0) printf "%-20s %8.1f us/req %6.2f ctxsw/req\n", $1, d * 10000 / n, cs / n }
    END { printf "%-20s %8.1f us/req %6.2f ctxsw/req\n", "TOTAL", tot * 10000 / n, tcs / n }' | sort -k2 -n -r
}
per_thread "$out/t0" "$out/t1"
if [ -n "$wp" ]; then echo "worker process (pid $wp):"; per_thread "$out/w0" "$out/w1" | sed 's/^/  /'; fi
awk -v n="$n" -v d="$((pg1 - pg0))" 'BEGIN { printf "%-20s %8.1f us/req (all postgres processes)\n", "POSTGRES", d * 10000 / n }'
if [ -n "${SYSCALLS:-}" ]; then
  mkdir -p "$SYSCALLS"
  BODY=$out/add.json wrk -t1 -c32 -d6s -s "$out/post.lua" "$url" > "$SYSCALLS/wrk.txt" 2>&1 &
  wp=$!; sleep 0.5; timeout 20 perf trace -s -p "$gp" -o "$SYSCALLS/trace.txt" -- sleep 5 || true; wait $wp || true
  m=$(awk '/requests in/ { print $1 }' "$SYSCALLS/wrk.txt")
  echo "system calls per request (perf trace -s over 5 of the 6 s; $m requests in 6 s):"
  awk -v m="$m" '/^ [^ ].*\([0-9]+\), [0-9]+ events/ { t = $1 } /^ +[a-z_0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+/ && t != "" {
      k = t " " $1; c[k] += $2; ms[k] += $4 }
    END { for (k in c) { split(k, p, " "); printf "  %-16s %-14s %6.2f per request, %6.1f us each\n", p[1], p[2], c[k] * 6 / 5 / m, ms[k] * 1000 / c[k] } }' "$SYSCALLS/trace.txt" |
    sort -k3 -rn | head -24 | tee "$SYSCALLS/per-request.txt"
fi
