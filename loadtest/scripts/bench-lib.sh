# Helpers shared by the serving benchmarks (serving-path.sh, network-vs-local.sh); sourced, not run. They expect
# $out (output folder), $D and $W (measured and warm-up seconds) to be set, and wrk on the PATH.
#   post.lua    wrk script for POST bodies: BODY (a file) and KEY (a bearer token, optional) from the environment
#   descendants PID: every descendant pid of PID
#   ticks PID...: utime+stime (clock ticks) of the pids, summed
#   measure NAME PID URL BODY KEY CONNECTIONS [UNITS_PER_REQUEST]: one measured row (see below); WORKER_PIDS (if set)
#               names the processes whose CPU counts as the workers' instead of PID's descendants (remote nodes)
#   pgticks: ticks of every process of the postgres user (the machine's PostgreSQL: every database on it counts)
#   combine NAME CONNECTIONS: the mean of NAME's numbered runs as one row of results.txt

cat > "$out/post.lua" <<'LUA'
wrk.method = "POST"
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
if os.getenv("KEY") and os.getenv("KEY") ~= "" then wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY") end
LUA

descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); t += f[12] + f[13] } END { print t + 0 }' \
  $(for p in "$@"; do [ -r /proc/$p/stat ] && echo /proc/$p/stat; done) /dev/null; }

pgticks() { ticks $(pgrep -u postgres 2>/dev/null || true); }

# measure NAME PID URL BODY KEY CONNECTIONS [UNITS_PER_REQUEST]: warm-up, then D seconds measured; appends
# "name conns req/s p50_ms p99_ms server_us_per_unit workers_us_per_unit non2xx units/s db_us_per_unit" to runs.txt
# (db: every process of the postgres user over the same window, i.e. the machine's PostgreSQL that both scripts
# point their gateways at, whichever database did the work).
measure() {
  local name=$1 pid=$2 url=$3 body=$4 key=$5 c=$6 units=${7:-1}
  BODY=$body KEY=$key wrk -t1 -c"$c" -d"${W}s" -s "$out/post.lua" "$url" >/dev/null 2>&1 || true
  local kids; kids=${WORKER_PIDS:-$(descendants "$pid" | tr '\n' ' ')}
  local g0 w0 g1 w1 p0 p1; g0=$(ticks "$pid"); w0=$(ticks $kids); p0=$(pgticks)
  BODY=$body KEY=$key wrk -t1 -c"$c" -d"${D}s" --latency -s "$out/post.lua" "$url" > "$out/$name-c$c.txt" 2>&1 || true
  g1=$(ticks "$pid"); w1=$(ticks $kids); p1=$(pgticks)
  awk -v name="$name" -v c="$c" -v g="$((g1 - g0))" -v w="$((w1 - w0))" -v p="$((p1 - p0))" -v units="$units" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /requests in/ { n = $1 } /Non-2xx/ { bad = $NF } /^Requests\/sec/ { rps = $2 }
    END { if (n == 0) n = 1; printf "%-10s %3d %9.0f %8.2f %8.2f %9.1f %9.1f %6d %9.0f %9.1f\n", name, c, rps, p50, p99,
          g * 10000 / (n * units), w * 10000 / (n * units), bad, rps * units, p * 10000 / (n * units) }' "$out/$name-c$c.txt" | tee -a "$out/runs.txt"
}

# combine NAME CONNECTIONS: the mean of NAME's runs (NAME, NAME.1, NAME.2, ...) at CONNECTIONS, as one results row.
combine() {
  awk -v name="$1" -v c="$2" '
    { base = $1; sub(/\.[0-9]+$/, "", base) }
    base == name && $2 == c { n++; for (i = 3; i <= 10; i++) sum[i] += $i }
    END { if (n > 0) printf "%-10s %3d %9.0f %8.2f %8.2f %9.1f %9.1f %6d %9.0f %9.1f\n", name, c, sum[3] / n, sum[4] / n,
          sum[5] / n, sum[6] / n, sum[7] / n, sum[8], sum[9] / n, sum[10] / n }' "$out/runs.txt" >> "$out/results.txt"
}

