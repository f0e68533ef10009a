#!/usr/bin/env bash
# A local EVM node (Foundry's Anvil, from the npm package pinned in chain/package-lock.json) for
# `inferium serve --chain-rpc http://127.0.0.1:8545` and for trying the contracts by hand.
# No Foundry installation or Docker needed; Node and npm install it into chain/node_modules once.
#
#   infra/scripts/anvil.sh start    # in the background; state is lost when it stops
#   infra/scripts/anvil.sh stop
#   infra/scripts/anvil.sh status
#
# Environment: ANVIL_DIR (pid and log; default .inferium/anvil), ANVIL_PORT (default 8545),
# ANVIL_CHAIN_ID (default 31337). Anvil's dev accounts hold test ether and their keys are public:
# never reuse them on a real chain.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
chain="$here/../../chain"
dir="${ANVIL_DIR:-.inferium/anvil}"
port="${ANVIL_PORT:-8545}"
chain_id="${ANVIL_CHAIN_ID:-31337}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pidfile="$dir/anvil.pid"

running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

binary() {
  if [[ ! -x "$chain/node_modules/.bin/anvil" ]]; then
    command -v npm >/dev/null || { echo "anvil needs Node.js and npm (to install @foundry-rs/anvil-linux-amd64)" >&2; exit 1; }
    (cd "$chain" && npm ci --no-audit --no-fund >&2)
  fi
  echo "$chain/node_modules/.bin/anvil"
}

answers() {
  curl -s -m 1 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$port" | grep -q result
}

start() {
  if running; then
    echo "Anvil already running (pid $(cat "$pidfile")): http://127.0.0.1:$port"
    return
  fi
  local bin
  bin="$(binary)"
  nohup "$bin" --host 127.0.0.1 --port "$port" --chain-id "$chain_id" >"$dir/anvil.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if answers; then
      echo "Anvil running (pid $(cat "$pidfile")): http://127.0.0.1:$port, chain id $chain_id, log $dir/anvil.log"
      return
    fi
    running || { echo "Anvil exited; see $dir/anvil.log" >&2; rm -f "$pidfile"; exit 1; }
    sleep 0.1
  done
  echo "Anvil did not answer on port $port within 10 s; see $dir/anvil.log" >&2
  exit 1
}

stop() {
  if running; then
    kill "$(cat "$pidfile")"
    echo "Anvil stopped"
  else
    echo "Anvil not running"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$pidfile")): http://127.0.0.1:$port"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
