#!/usr/bin/env bash
# The CPU a worker takes to start, with and without the workers' class archive (WorkerClassArchive), alternated:
# each run starts `serve --workers 2` of checkout DIR (embedded PostgreSQL, a fresh data directory), waits until its
# two pool workers and its standby sandbox have attached plus 4 s, and sums the CPU of the gateway's descendants from
# /proc (utime + stime of each, plus what each reaped: the sandbox's mount(8) runs), and the wall time from spawn to
# attach the gateway logs. "off" runs with
# INFERIUM_WORKER_CDS_DIR=off; "cds" with a shared archive directory, made by one warm-up run first.
#
#   loadtest/scripts/worker-start.sh DIR [ROUNDS]     (default 2 rounds of off, cds, cds, off)
#
# WORKER_CLASSPATH: the worker class path to measure instead of DIR's inferium-node.jar (e.g. a long test class path).
set -euo pipefail
DIR=$(cd "$1" && pwd); ROUNDS=${2:-2}; PORT=${PORT:-18141}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
jar="$DIR/engine/target/inferium.jar"

run() { # $1 label, $2 archive dir or off; prints "label seconds"
  local data="$out/data-$1-$RANDOM" log="$out/serve-$1.log"
  INFERIUM_WORKER_CDS_DIR="$2" ${WORKER_CLASSPATH:+INFERIUM_WORKER_CLASSPATH=$WORKER_CLASSPATH} \
    java -Xss8m -jar "$jar" serve --workers 2 --port "$PORT" --node-port 0 --data-dir "$data" > "$log" 2>&1 &
  local gp=$!
  for _ in $(seq 1 240); do
    [ "$(grep -c 'attached as node' "$log" || true)" -ge 3 ] && break
    sleep 0.5
  done
  sleep 4
  python3 - "$gp" "$1" <<'PY'
import os, sys
gw, label = int(sys.argv[1]), sys.argv[2]
hz = os.sysconf('SC_CLK_TCK')
procs = {}
for p in os.listdir('/proc'):
    if p.isdigit():
        try:
            s = open(f'/proc/{p}/stat').read()
        except OSError:
            continue
        f = s.rsplit(')', 1)[1].split()
        procs[int(p)] = (int(f[1]), sum(int(x) for x in f[11:15]))
def descendants(p):
    out = [c for c, (pp, _) in procs.items() if pp == p]
    return out + [d for c in out for d in descendants(c)]
ds = descendants(gw)
print(f"{label} {sum(procs[d][1] for d in ds) / hz:.2f} s over {len(ds)} processes", end="")
PY
  # Wall time from spawn to attach, from the gateway's attach lines.
  grep -o '[0-9]* ms after its spawn' "$log" | awk '{s += $1; n++} END {if (n) printf ", spawn to attach %d ms on average over %d\n", s / n, n; else print ""}'
  if [ "$2" != off ] && ! ls "$2"/worker-*.jsa > /dev/null 2>&1; then
    for _ in $(seq 1 60); do grep -q 'Worker class archive' "$log" && break; sleep 1; done
  fi
  kill "$gp"; wait "$gp" 2>/dev/null || true
}

echo "warm-up (makes the archive):"; run warmup "$out/cds"
ls "$out"/cds/worker-*.jsa > /dev/null || { echo "no archive was made; see the warm-up log" >&2; exit 1; }
for r in $(seq 1 "$ROUNDS"); do
  run off off; run cds "$out/cds"; run cds "$out/cds"; run off off
done
