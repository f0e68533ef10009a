#!/usr/bin/env bash
# A single-node Kafka (KRaft: broker and controller in one JVM) from Maven artifacts, for
# `inferium serve --kafka 127.0.0.1:9092`. No Kafka installation or Docker needed.
#
#   infra/scripts/kafka.sh start    # formats storage on first use, starts in the background
#   infra/scripts/kafka.sh stop
#   infra/scripts/kafka.sh status
#
# Environment: KAFKA_DIR (data, logs, pid; default .inferium/kafka), KAFKA_PORT (default 9092),
# KAFKA_CONTROLLER_PORT (default 9093), KAFKA_HEAP (default 512m).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/../kafka/pom.xml"
dir="${KAFKA_DIR:-.inferium/kafka}"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-9093}"
heap="${KAFKA_HEAP:-512m}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pidfile="$dir/broker.pid"

running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

classpath() {
  if [[ ! -s "$dir/classpath" ]]; then
    # Offline first (artifacts already in ~/.m2), then from the configured repositories.
    mvn -q -B -o -f "$pom" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" >/dev/null 2>&1 \
      || mvn -q -B -f "$pom" dependency:build-classpath -Dmdep.outputFile="$dir/classpath"
  fi
  cat "$dir/classpath"
}

start() {
  if running; then
    echo "Kafka already running (pid $(cat "$pidfile")): 127.0.0.1:$port"
    return
  fi
  local cp
  cp="$(classpath)"
  if [[ ! -f "$dir/server.properties" ]]; then
    cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  fi
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local id
    id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java -cp "$cp" kafka.tools.StorageTool format --cluster-id="$id" -c "$dir/server.properties" --standalone \
      >> "$dir/format.log" 2>&1
  fi
  nohup java "-Xmx$heap" -cp "$cp" kafka.Kafka "$dir/server.properties" >> "$dir/broker.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "Kafka listening: 127.0.0.1:$port (pid $(cat "$pidfile"), logs $dir/broker.log)"
      return
    fi
    if ! running; then
      echo "Kafka exited; see $dir/broker.log" >&2
      tail -20 "$dir/broker.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "Kafka did not listen on $port within 60 s; see $dir/broker.log" >&2
  exit 1
}

stop() {
  if running; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "Kafka stopped"
  else
    echo "Kafka not running"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running: 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
