#!/usr/bin/env bash
# Where a streamed token's gateway CPU goes: one gateway (DIR, a checkout with engine/target/inferium.jar) with
# tiny-gpt, wrk streaming /v1/completions (TOKENS greedy tokens, default 64, at most 200; CONNS connections, default 4;
# MAXSEQ: the function's max_running_sequences, default 8); after WARM seconds (default
# 200: on 2 cores the JIT's C2 threads were still 3-4 us of a token's CPU at 150 s, docs/BENCHMARKS.md "Fourteenth session") it
# reads the gateway's per-thread /proc ticks over 10 s (thr0/thr1.txt, names, user and system ticks), times 20
# sequential requests' first byte with curl under the load (ttft.txt), and with STRACE=1 records 4 s of the
# gateway's system calls (strace.txt: count the writev per token); SYSCALLS=1 adds 5 s under `perf trace -s` (far
# lighter, so the token windows stay as under load; trace.txt, and per thread and call the count per token in
# per-token.txt; needs perf, Debian's linux-perf). JOPTS adds JVM options to the gateway (e.g.
# -XX:StartFlightRecording=settings=profile,delay=40s,duration=20s,filename=gw.jfr). WINDOW_MS sets the function's
# text.token_window_ms (default: the spec's default). Prints µs/token (all threads, and the event loop's alone: the JIT
# compiler threads can still be busy minutes in) and TTFT.
#   DIR=. OUT=/tmp/stream-profile [STRACE=1] flock /work/bench.lock loadtest/scripts/stream-profile.sh
set -euo pipefail
DIR=$(cd "${DIR:-.}" && pwd); out=${OUT:-/tmp/stream-profile}; rm -rf "$out"; mkdir -p "$out"
WARM=${WARM:-200}; REC=${REC:-20}; port=18131; db=inferium_prof_stream_$$
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
cleanup() { kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres >/dev/null 2>&1 || true; }
trap cleanup EXIT
INFERIUM_ADMIN_KEY=pk java -Xss8m ${JOPTS:-} \
  -jar "$DIR/engine/target/inferium.jar" serve --port $port --data-dir "$out/data" \
  --db-url "postgresql://postgres@127.0.0.1:5432/$db" --workers 1 --worker-slots 1 --worker-threads 2 > "$out/serve.log" 2>&1 &
gw=$!
gpt=$DIR/functions/src/main/resources/models/tiny-gpt
for i in $(seq 1 180); do curl -sf "localhost:$port/v2/health/ready" >/dev/null && break; sleep 1; done
curl -sf "localhost:$port/api/functions" -H "Authorization: Bearer pk" \
    -F "spec={\"name\":\"gpt\",\"kind\":\"text-generation\",\"text\":{\"max_running_sequences\":${MAXSEQ:-8}${WINDOW_MS:+,\"token_window_ms\":$WINDOW_MS}}}" \
    -F "model=@$gpt/model.onnx" -F "tokenizer=@$gpt/tokenizer.json" -F "tokenizer_config=@$gpt/tokenizer_config.json" \
    -F "generation_config=@$gpt/generation_config.json" >/dev/null
for i in $(seq 1 180); do curl -s "localhost:$port/api/functions/gpt" -H "Authorization: Bearer pk" | grep -q '"ready"' && break; sleep 1; done
echo "{\"model\":\"gpt\",\"prompt\":\"Licensed under the Apache License\",\"max_tokens\":${TOKENS:-64},\"temperature\":0,\"stream\":true}" > $out/gpt.json
cat > "$out/post.lua" <<'LUA'
wrk.method = "POST"
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer pk"
LUA
curl -sN localhost:$port/v1/completions -H "Authorization: Bearer pk" -H 'Content-Type: application/json' -d @$out/gpt.json > $out/sample.txt
# Greedy: every request streams the same tokens; count them (an end of text may come before max_tokens).
ntok=$(sed 's/"stream":true/"stream":false/' $out/gpt.json | curl -s localhost:$port/v1/completions -H "Authorization: Bearer pk" \
  -H 'Content-Type: application/json' -d @- | grep -o '"completion_tokens":[0-9]*' | cut -d: -f2)
BODY=$out/gpt.json wrk -t1 -c${CONNS:-4} -d$((WARM + REC + 40))s --latency -s $out/post.lua http://127.0.0.1:$port/v1/completions > $out/wrk.txt 2>&1 &
wp=$!
sleep $WARM
thr() { for t in /proc/$gw/task/*; do echo "$(cat $t/comm | tr ' ' _)-${t##*/} $(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12], f[13] }' $t/stat)"; done | sort; }
thr > $out/thr0.txt; date +%s.%N > $out/t0
sleep 10
thr > $out/thr1.txt; date +%s.%N > $out/t1
for i in $(seq 1 20); do curl -s -o /dev/null -w '%{time_starttransfer}\n' localhost:$port/v1/completions -H "Authorization: Bearer pk" -H 'Content-Type: application/json' -d @$out/gpt.json; done > $out/ttft.txt
[ -n "${STRACE:-}" ] && timeout 4 strace -f -tt -p $gw -o $out/strace.txt || true
if [ -n "${SYSCALLS:-}" ]; then # perf trace -s: far lighter than strace, so the windows stay as they are under load
  timeout 20 perf trace -s -p $gw -o $out/trace.txt -- sleep 5 || true
fi
wait $wp || true

awk 'FNR==1{f++} {k=$1; sub(/-?[0-9]+$/,"",k); if (f==1) {u[k]-=$2; s[k]-=$3} else {u[k]+=$2; s[k]+=$3}}
  END {for (k in u) if (u[k]+s[k]>0) printf "%-36s user %5d sys %5d\n", k, u[k], s[k]}' $out/thr0.txt $out/thr1.txt | sort -k3 -rn
echo "busiest threads (ticks):"
awk 'FNR==1{f++} {if (f==1) t[$1]-=$2+$3; else t[$1]+=$2+$3} END {for (k in t) if (t[k]>0) print "  " k, t[k]}' $out/thr0.txt $out/thr1.txt | sort -k2 -rn | head -8
rps=$(awk '/^Requests\/sec/{print $2}' $out/wrk.txt); secs=$(echo "$(cat $out/t1) - $(cat $out/t0)" | bc)
awk -v rps=$rps -v secs=$secs -v ntok=$ntok 'FNR==1{f++} {if (f==1) t-=$2+$3; else t+=$2+$3}
  END {printf "gateway: %d ticks over %.1f s at %.1f req/s (wrk average), %d tokens a request: %.1f us/token, %.0f us/request\n", t, secs, rps, ntok, t*10000/(rps*secs*ntok), t*10000/(rps*secs)}' \
  $out/thr0.txt $out/thr1.txt
awk -v rps=$rps -v secs=$secs -v ntok=$ntok 'FNR==1{f++} $1 ~ /^vert.x-eventloo/ {if (f==1) t-=$2+$3; else t+=$2+$3}
  END {printf "event loop: %.1f us/token\n", t*10000/(rps*secs*ntok)}' $out/thr0.txt $out/thr1.txt
if [ -n "${SYSCALLS:-}" ]; then
  echo "system calls per token (perf trace -s, 5 s; tokens from the measured window's rate):"
  awk -v n=$(echo "$rps * 5 * $ntok" | bc) '/^ [^ ].*\([0-9]+\), [0-9]+ events/ { t = $1; sub(/-?\([0-9]+\),?$/, "", t); sub(/-[0-9]+$/, "", t) }
    /^ +[a-z_0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+/ && t != "" { k = t " " $1; c[k] += $2; ms[k] += $4 }
    END { for (k in c) { split(k, p, " "); printf "  %-16s %-14s %6.3f per token, %6.1f us each\n", p[1], p[2], c[k] / n, ms[k] * 1000 / c[k] } }' $out/trace.txt |
    sort -k3 -rn | head -24 | tee $out/per-token.txt
fi
sort -n $out/ttft.txt | awk '{a[NR]=$1} END {printf "TTFT (curl, under the load): median %.1f ms, max %.1f ms over %d\n", a[int((NR+1)/2)]*1000, a[NR]*1000, NR}'
