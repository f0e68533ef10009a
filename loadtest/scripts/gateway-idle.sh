#!/usr/bin/env bash
# What a gateway costs with nothing to do, by thread: starts the gateway of checkout DIR on PORT (the machine's
# PostgreSQL, one worker), waits until it is ready and 20 s more, then reads every thread's utime+stime from
# /proc/<pid>/task/* over 10 s and prints milliseconds of CPU per second per thread name. Background work that
# runs on timers (the worker memory watch, heartbeats, consumers' polls) shows here, apart from requests.
#
#   loadtest/scripts/gateway-idle.sh DIR [PORT]
#
# JOPTS: extra JVM options for the gateway.
set -euo pipefail
DIR=$(cd "$1" && pwd); PORT=${2:-18141}; out=$(mktemp -d); db=inferium_idle_$$
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
INFERIUM_ADMIN_KEY=spkey java -Xss8m ${JOPTS:-} -jar "$DIR/engine/target/inferium.jar" serve --port "$PORT" --data-dir "$out/data" \
  --db-url "postgresql://postgres@127.0.0.1:5432/$db" --workers 1 --worker-slots 1 --worker-threads 2 > "$out/serve.log" 2>&1 &
gp=$!
trap 'kill $gp 2>/dev/null; wait $gp 2>/dev/null || true; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres; rm -rf "$out"' EXIT
for i in $(seq 1 180); do curl -sf "localhost:$PORT/v2/health/ready" >/dev/null && break; sleep 1; done
sleep 20
snap() { for t in /proc/$gp/task/*; do s=$(cat "$t/stat" 2>/dev/null) || continue; n=$(cat "$t/comm"); s=${s#*) }; set -- $s; echo "${n//[0-9]/} $((${12} + ${13}))"; done | awk '{ c[$1] += $2 } END { for (k in c) print k, c[k] }' | sort; }
snap > $out/t0; sleep 10; snap > $out/t1
join $out/t0 $out/t1 | awk '{ d = $3 - $2; if (d > 0) printf "%-20s %5.1f ms CPU per s\n", $1, d; t += d } END { printf "TOTAL %5.1f ms CPU per s\n", t }'
